// What the management-plane black-box suites share: a live server (graph-test-client.ts's,
// for making users, groups and service principals), management-audience tokens
// (`{publicUrl}//.default`, as az asks for them), a JSON client for ARM paths, and a check of
// ARM's error shape.
import assert from 'node:assert/strict';
import { postForm, userToken } from '../helpers/tenant-fixtures.js';
import { startGraphSuite, type Answer, type GraphSuite, type Json } from './graph-test-client.js';

export interface ArmSuite extends GraphSuite {
  /** `{publicUrl}//.default`. */
  armScope: string;
  /** The admin's management token. */
  armAdmin: string;
  /** The default subscription's id. */
  subscriptionId: string;
  arm(token: string | undefined, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Answer>;
  armToken(username: string, password: string): Promise<string>;
  /** A service principal's management token (client credentials). */
  appToken(appId: string, secret: string): Promise<string>;
}

export async function startArmSuite(options: { args?: string[] } = {}): Promise<ArmSuite> {
  const s = await startGraphSuite(options);
  const armScope = `${s.publicUrl}//.default`;
  const arm: ArmSuite['arm'] = async (token, method, path, body, headers = {}) => {
    const res = await fetch(path.startsWith('https://') ? path : `${s.t.url}${path}`, {
      method,
      headers: {
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: Json = {};
    try {
      parsed = text ? (JSON.parse(text) as Json) : {};
    } catch {
      parsed = { raw: text };
    }
    return { status: res.status, headers: res.headers, text, body: parsed };
  };
  const armAdmin = await userToken(s.t, 'admin', s.t.adminPassword, armScope);
  const subs = await arm(armAdmin, 'GET', '/subscriptions?api-version=2019-11-01');
  assert.equal(subs.status, 200, subs.text);
  return {
    ...s,
    armScope,
    armAdmin,
    subscriptionId: (subs.body.value as Json[])[0]!.subscriptionId as string,
    arm,
    armToken: (username, password) => userToken(s.t, username, password, armScope),
    appToken: async (appId, secret) => {
      const { status, body } = await postForm(s.t.tokenUrl, { grant_type: 'client_credentials', client_id: appId, client_secret: secret, scope: armScope });
      if (status !== 200) throw new Error(`client credentials for ${appId}: ${status} ${JSON.stringify(body)}`);
      return body.access_token as string;
    },
  };
}

/** ARM's error: status, code, the `{"error":{"code","message","details"}}` shape. */
export function expectArmError(answer: Answer, status: number, code: string, message?: string | RegExp): void {
  assert.equal(answer.status, status, answer.text);
  assert.deepEqual(Object.keys(answer.body), ['error'], answer.text);
  assert.equal(answer.body.error?.code, code, answer.text);
  assert.equal(typeof answer.body.error.message, 'string');
  assert.ok(Array.isArray(answer.body.error.details), answer.text);
  if (typeof message === 'string') assert.equal(answer.body.error.message, message);
  else if (message) assert.match(answer.body.error.message, message);
}
