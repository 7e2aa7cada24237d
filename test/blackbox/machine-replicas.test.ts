// Machine revocation across replicas: two `keyhaven serve` processes on one PostgreSQL. A machine
// joined through A holds a token A issued; the machine is revoked through B; A refuses the token
// as soon as PostgreSQL's NOTIFY reaches it (its set of active machines reloads on it), within a
// bounded wait, and from then on — and A refuses the machine's next assertion at once (read from
// the database). A machine joined through B is accepted by A right away.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exportJWK, SignJWT } from 'jose';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { startServerProcess, tempHome, type ServerProcess } from '../helpers/server-process.js';
import { postForm, tenantOf, userToken, type Tenant } from '../helpers/tenant-fixtures.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const COMPUTE = 'api-version=2022-11-01';
const WAIT_MS = 5_000;

async function call(base: string, token: string | undefined, method: string, path: string, body?: unknown): Promise<{ status: number; body: Json; text: string }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, body: text ? (JSON.parse(text) as Json) : {} };
}

describe('machine revocation across two servers on one PostgreSQL', () => {
  let db: TestDatabase;
  const homes = [tempHome(), tempHome()];
  let a: ServerProcess;
  let b: ServerProcess;
  let ta: Tenant;
  let tb: Tenant;
  let adminB: string;
  let poolId: string;

  async function joinThrough(t: Tenant, token: string): Promise<{ id: string; clientId: string; kid: string; key: KeyObject }> {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const { kty, crv, x, y } = await exportJWK(privateKey);
    const r = await call(t.url, undefined, 'POST', '/machines/join', { token, publicKey: { kty, crv, x, y } });
    assert.equal(r.status, 201, r.text);
    return { id: r.body.id, clientId: r.body.clientId, kid: r.body.kid, key: privateKey };
  }
  async function tokenFrom(t: Tenant, m: { clientId: string; kid: string; key: KeyObject }) {
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({ iss: m.clientId, sub: m.clientId, aud: t.tokenUrl, jti: randomUUID(), iat: now, exp: now + 300 })
      .setProtectedHeader({ alg: 'ES256', kid: m.kid }).sign(m.key);
    return postForm(t.tokenUrl, { grant_type: 'client_credentials', client_id: m.clientId, scope: `${t.url}//.default`, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion });
  }

  before(async () => {
    db = await createTestDatabase();
    a = await startServerProcess({ home: homes[0]!.home, storage: db.url });
    b = await startServerProcess({ home: homes[1]!.home, storage: db.url, args: ['--master-key-file', join(homes[0]!.home, 'master.key')] });
    ta = await tenantOf(a);
    copyFileSync(join(homes[0]!.home, 'admin-password'), join(homes[1]!.home, 'admin-password'));
    tb = await tenantOf(b);
    assert.equal(ta.tenantId, tb.tenantId);
    adminB = await userToken(tb, 'admin', tb.adminPassword, `${tb.url}//.default`);
    const sub = (await call(tb.url, adminB, 'GET', '/subscriptions?api-version=2019-11-01')).body.value[0].subscriptionId as string;
    assert.equal((await call(tb.url, adminB, 'PUT', `/subscriptions/${sub}/resourceGroups/fleet?api-version=2021-04-01`, { location: 'westeurope' })).status, 201);
    poolId = `/subscriptions/${sub}/resourceGroups/fleet/providers/Microsoft.Compute/virtualMachineScaleSets/pool`;
    assert.equal((await call(tb.url, adminB, 'PUT', `${poolId}?${COMPUTE}`, { location: 'westeurope' })).status, 201);
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await db?.drop();
    for (const h of homes) h.remove();
  });

  it('a revocation through B stops the token A issued, on A, within a bounded wait; the pool\'s other machine keeps working', async () => {
    const issued = await call(tb.url, adminB, 'POST', `${poolId}/generateJoinToken?${COMPUTE}`, { maxUses: 3 });
    assert.equal(issued.status, 200, issued.text);
    const m1 = await joinThrough(ta, issued.body.token);
    // Joined through B, used on A at once (A's set does not hold it yet, or has just heard of it).
    const m2 = await joinThrough(tb, issued.body.token);
    const t1 = await tokenFrom(ta, m1);
    const t2 = await tokenFrom(ta, m2);
    assert.equal(t1.status, 200, JSON.stringify(t1.body));
    assert.equal(t2.status, 200, JSON.stringify(t2.body));
    const subsOnA = (token: unknown) => call(ta.url, String(token), 'GET', '/subscriptions?api-version=2019-11-01');
    assert.equal((await subsOnA(t1.body.access_token)).status, 200);
    assert.equal((await subsOnA(t2.body.access_token)).status, 200);

    const revoked = await call(tb.url, adminB, 'POST', `${poolId}/machines/${m1.id}/revoke?${COMPUTE}`);
    assert.equal(revoked.status, 200, revoked.text);
    assert.equal((await call(tb.url, adminB, 'GET', '/subscriptions?api-version=2019-11-01')).status, 200);
    // A's next assertion from the revoked machine: refused at once (the credential is read from the database).
    const next = await tokenFrom(ta, m1);
    assert.equal(next.status, 401);
    assert.deepEqual(next.body.error_codes, [700027]);
    // The token A issued: refused on A once the NOTIFY arrives, and from then on.
    const deadline = Date.now() + WAIT_MS;
    while ((await subsOnA(t1.body.access_token)).status !== 401) {
      if (Date.now() > deadline) throw new Error(`A still accepts the revoked machine's token after ${WAIT_MS} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
    for (let i = 0; i < 5; i++) assert.equal((await subsOnA(t1.body.access_token)).status, 401);
    assert.equal((await subsOnA(t2.body.access_token)).status, 200, 'the other machine of the pool still works');
  });
});
