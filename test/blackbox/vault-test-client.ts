// What the Key Vault black-box suites share: a live server (arm-test-client.ts's), vaults made
// through the management API, vault-audience tokens for service principals, a JSON client for
// the data plane (host form or path form), a check of Key Vault's error shape, and a search
// of the database files (SQLite and its WAL, or a pg_dump) for values that must not be there.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { postForm } from '../helpers/tenant-fixtures.js';
import { startArmSuite, type ArmSuite } from './arm-test-client.js';
import type { Answer, Json } from './graph-test-client.js';

export interface VaultSuite extends ArmSuite {
  port: string;
  /** The canonical vault audience, https://vault.localhost:{port}. */
  vaultAudience: string;
  group: string;
  createVault(name: string, properties?: Json): Promise<Answer>;
  vaultToken(appId: string, secret: string, scope?: string): Promise<string>;
  /** A data-plane request; `path` starts at the vault (`/secrets/x?api-version=7.5`). */
  kv(token: string | undefined, method: string, vault: string, path: string, body?: unknown, options?: { form?: 'host' | 'path'; headers?: Record<string, string> }): Promise<Answer>;
  /** The same on the host form over node:https, the path sent exactly as written (no dot-segment removal). */
  rawKv(token: string, method: string, vault: string, path: string, body?: unknown): Promise<Answer>;
}

export async function startVaultSuite(options: { args?: string[] } = {}): Promise<VaultSuite> {
  const s = await startArmSuite(options);
  const port = new URL(s.t.url).port;
  const group = `/subscriptions/${s.subscriptionId}/resourceGroups/kv-rg`;
  const rg = await s.arm(s.armAdmin, 'PUT', `${group}?api-version=2021-04-01`, { location: 'westeurope' });
  assert.ok(rg.status === 201 || rg.status === 200, rg.text);
  const kv: VaultSuite['kv'] = async (token, method, vault, path, body, options = {}) => {
    const base = options.form === 'path' ? `${s.t.url}/vaults/${vault}` : `https://${vault}.vault.localhost:${port}`;
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...options.headers,
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
  return {
    ...s,
    port,
    vaultAudience: `https://vault.localhost:${port}`,
    group,
    createVault: (name, properties = {}) =>
      s.arm(s.armAdmin, 'PUT', `${group}/providers/Microsoft.KeyVault/vaults/${name}?api-version=2023-07-01`, {
        location: 'westeurope',
        properties: { tenantId: s.t.tenantId, sku: { family: 'A', name: 'standard' }, accessPolicies: [], ...properties },
      }),
    vaultToken: async (appId, secret, scope = `https://vault.localhost:${port}/.default`) => {
      const { status, body } = await postForm(s.t.tokenUrl, { grant_type: 'client_credentials', client_id: appId, client_secret: secret, scope });
      if (status !== 200) throw new Error(`client credentials for ${appId}: ${status} ${JSON.stringify(body)}`);
      return body.access_token as string;
    },
    kv,
    rawKv: (token, method, vault, path, body) =>
      new Promise((resolve, reject) => {
        const payload = body === undefined ? undefined : JSON.stringify(body);
        const req = request({ host: `${vault}.vault.localhost`, port: Number(port), method, path, headers: { authorization: `Bearer ${token}`, ...(payload ? { 'content-type': 'application/json' } : {}) }, timeout: 30_000 }, (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => {
            const headers = new Headers();
            for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers.set(k, v);
            let parsed: Json = {};
            try {
              parsed = text ? (JSON.parse(text) as Json) : {};
            } catch {
              parsed = { raw: text };
            }
            resolve({ status: res.statusCode ?? 0, headers, text, body: parsed });
          });
        });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', reject);
        req.end(payload);
      }),
  };
}

/** Key Vault's error: status, code, innererror code, the `{"error":{"code","message"[,"innererror"]}}` shape. */
export function expectVaultError(answer: Answer, status: number, code: string, inner?: string): void {
  assert.equal(answer.status, status, answer.text);
  assert.deepEqual(Object.keys(answer.body), ['error'], answer.text);
  assert.equal(answer.body.error?.code, code, answer.text);
  assert.equal(typeof answer.body.error.message, 'string');
  if (inner !== undefined) assert.equal(answer.body.error.innererror?.code, inner, answer.text);
}

/** The stored bytes: the SQLite file and its WAL, or a pg_dump of the PostgreSQL database. */
export function storedBytes(storageUrl: string): Buffer {
  if (storageUrl.startsWith('sqlite:')) {
    const file = storageUrl.slice('sqlite:'.length);
    return Buffer.concat([file, `${file}-wal`, `${file}-shm`].filter((f) => existsSync(f)).map((f) => readFileSync(f)));
  }
  return execFileSync('pg_dump', ['--data-only', storageUrl], { maxBuffer: 512 * 1024 * 1024 });
}

/** Asserts that none of `values` is in the stored bytes, in plain text, base64, base64url or hex. */
export function assertNotStored(storageUrl: string, values: string[]): void {
  const bytes = storedBytes(storageUrl);
  const text = bytes.toString('latin1');
  for (const value of values) {
    const b = Buffer.from(value, 'utf8');
    for (const form of [value, b.toString('base64'), b.toString('base64url'), b.toString('hex'), b.toString('hex').toUpperCase()]) {
      // Base64 of a value depends on its offset; the middle of a long value's encoding is still tell-tale.
      const probe = form.length > 24 ? form.slice(4, -4) : form;
      assert.ok(!text.includes(probe), `a secret value is stored in the database (as ${form === value ? 'plain text' : 'an encoding'})`);
    }
  }
}
