// What the Graph-shaped directory API's black-box suites share: a live server with its tenant
// and public URL (the issuer's origin, which names the directory audience), the admin's token,
// a JSON client over real HTTPS, and a check of Graph's error shape.
import assert from 'node:assert/strict';
import { blackboxStorage, startServerProcess, tempHome, type ServerProcess } from '../helpers/server-process.js';
import { tenantOf, userToken, type Tenant } from '../helpers/tenant-fixtures.js';

export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: Json;
}

export interface GraphSuite {
  home: string;
  storage: { url: string; drop(): Promise<void> };
  server: ServerProcess;
  t: Tenant;
  /** `https://localhost:{port}`: what the server calls itself, as its tokens' issuer says. */
  publicUrl: string;
  /** `{publicUrl}/graph//.default`: the directory audience's scope. */
  scope: string;
  admin: string;
  /** One request to /graph/v1.0 (or an absolute URL under the server), JSON in and out. */
  call(token: string | undefined, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Answer>;
  token(username: string, password: string): Promise<string>;
  stop(): Promise<void>;
}

/** `args`: extra server flags (such as `--ldap-admin-writes true`). */
export async function startGraphSuite(options: { args?: string[] } = {}): Promise<GraphSuite> {
  const { home, remove } = tempHome();
  const storage = await blackboxStorage(home);
  const server = await startServerProcess({ home, storage: storage.url, ...(options.args ? { args: options.args } : {}) });
  const t = await tenantOf(server);
  const discovery = (await (await fetch(`${t.url}/organizations/v2.0/.well-known/openid-configuration`)).json()) as { issuer: string };
  const publicUrl = new URL(discovery.issuer).origin;
  const scope = `${publicUrl}/graph//.default`;
  const call: GraphSuite['call'] = async (token, method, path, body, headers = {}) => {
    const url = path.startsWith('https://') ? path : `${t.url}/graph/v1.0${path}`;
    const res = await fetch(url, {
      method,
      headers: {
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, body: text ? (JSON.parse(text) as Json) : {} };
  };
  return {
    home,
    storage,
    server,
    t,
    publicUrl,
    scope,
    admin: await userToken(t, 'admin', t.adminPassword, scope),
    call,
    token: (username, password) => userToken(t, username, password, scope),
    stop: async () => {
      await server.stop();
      await storage.drop();
      remove();
    },
  };
}

/** Graph's error: status, code, optionally the message, and the innerError Graph always sends. */
export function expectGraphError(answer: Answer, status: number, code: string, message?: string | RegExp): void {
  assert.equal(answer.status, status, answer.text);
  assert.equal(answer.body.error?.code, code, answer.text);
  if (typeof message === 'string') assert.equal(answer.body.error.message, message);
  else if (message) assert.match(answer.body.error.message, message);
  const inner = answer.body.error.innerError as Json;
  assert.match(inner.date, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
  assert.equal(typeof inner['request-id'], 'string');
  assert.equal(typeof inner['client-request-id'], 'string');
}

/** A user created by the admin as Graph clients do it; returns the object id. */
export async function createUser(suite: GraphSuite, name: string, password: string): Promise<string> {
  const res = await suite.call(suite.admin, 'POST', '/users', {
    accountEnabled: true,
    displayName: `Graph Tester ${name}`,
    mailNickname: name,
    userPrincipalName: `${name}@example.org`,
    passwordProfile: { password, forceChangePasswordNextSignIn: false },
  });
  assert.equal(res.status, 201, res.text);
  return res.body.id as string;
}
