// A live server's tenant, seen the way clients see it: the tenant id from OpenID discovery,
// tokens from the token endpoint, directory objects through the Graph-shaped API.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerProcess } from './server-process.js';

export const AZURE_CLI_CLIENT_ID = '04b07795-8ddb-461a-bbee-02f9e1bf7b46';

export interface Tenant {
  url: string;
  tenantId: string;
  adminPassword: string;
  tokenUrl: string;
}

export async function tenantOf(server: ServerProcess): Promise<Tenant> {
  const res = await fetch(`${server.url}/organizations/v2.0/.well-known/openid-configuration`);
  const { issuer } = (await res.json()) as { issuer: string };
  const tenantId = new URL(issuer).pathname.split('/')[1]!;
  return {
    url: server.url,
    tenantId,
    adminPassword: readFileSync(join(server.home, 'admin-password'), 'utf8').trim(),
    tokenUrl: `${server.url}/${tenantId}/oauth2/v2.0/token`,
  };
}

export async function postForm(url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields).toString() });
  const text = await res.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { raw: text };
  }
  return { status: res.status, body, headers: res.headers };
}

export async function userToken(t: Tenant, username: string, password: string, scope = `${t.url}/graph//.default`): Promise<string> {
  const { status, body } = await postForm(t.tokenUrl, { grant_type: 'password', client_id: AZURE_CLI_CLIENT_ID, username, password, scope });
  if (status !== 200) throw new Error(`password grant for ${username} failed: ${status} ${JSON.stringify(body)}`);
  return body.access_token as string;
}

export async function graph<T = Record<string, unknown>>(t: Tenant, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${t.url}/graph/v1.0${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
}

export interface ServicePrincipalFixture {
  appId: string;
  applicationId: string;
  servicePrincipalId: string;
  secret: string;
  keyId: string;
}

/** An application, its service principal and a client secret, created by the admin over the directory API. */
export async function createServicePrincipal(t: Tenant, adminToken: string, displayName: string, endDateTime?: string): Promise<ServicePrincipalFixture> {
  const app = await graph<{ id: string; appId: string }>(t, adminToken, 'POST', '/applications', { displayName });
  if (app.status !== 201) throw new Error(`create application: ${app.status} ${JSON.stringify(app.body)}`);
  const sp = await graph<{ id: string }>(t, adminToken, 'POST', '/servicePrincipals', { appId: app.body.appId });
  if (sp.status !== 201) throw new Error(`create service principal: ${sp.status} ${JSON.stringify(sp.body)}`);
  const pw = await graph<{ secretText: string; keyId: string }>(t, adminToken, 'POST', `/applications/${app.body.id}/addPassword`, {
    passwordCredential: { displayName: 'test', ...(endDateTime ? { endDateTime } : {}) },
  });
  if (pw.status !== 200) throw new Error(`addPassword: ${pw.status} ${JSON.stringify(pw.body)}`);
  return { appId: app.body.appId, applicationId: app.body.id, servicePrincipalId: sp.body.id, secret: pw.body.secretText, keyId: pw.body.keyId };
}
