// The whole server on two replicas over one PostgreSQL (issue 15 item 5), beyond the RBAC
// revocation of arm-replicas.test.ts: a user locked out through A is locked out on B; A is
// SIGKILLed in the middle of a write burst sent to both and B keeps serving; after A restarts,
// every write either replica acknowledged is there, and the one audit chain verifies.
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { runCli, startServerProcess, tempHome, type ServerProcess } from '../helpers/server-process.js';
import { postForm, tenantOf, userToken, type Tenant } from '../helpers/tenant-fixtures.js';

const AZURE_CLI = '04b07795-8ddb-461a-bbee-02f9e1bf7b46';

describe('two replicas on one PostgreSQL: shared lockout, a replica killed mid-burst, one audit chain', () => {
  let db: TestDatabase;
  const homes = [tempHome(), tempHome()];
  let a: ServerProcess;
  let b: ServerProcess;
  let ta: Tenant;
  let tb: Tenant;
  const startA = () => startServerProcess({ home: homes[0]!.home, storage: db.url });

  before(async () => {
    db = await createTestDatabase();
    a = await startServerProcess({ home: homes[0]!.home, storage: db.url });
    b = await startServerProcess({ home: homes[1]!.home, storage: db.url, args: ['--master-key-file', join(homes[0]!.home, 'master.key')] });
    ta = await tenantOf(a);
    copyFileSync(join(homes[0]!.home, 'admin-password'), join(homes[1]!.home, 'admin-password'));
    tb = await tenantOf(b);
    assert.equal(ta.tenantId, tb.tenantId);
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await db?.drop();
    for (const h of homes) h.remove();
  });

  const graph = async (t: Tenant, token: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${t.url}/graph/v1.0${path}`, {
      method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}), signal: AbortSignal.timeout(20_000),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, any> };
  };

  it('a user locked out through A is locked out on B', async () => {
    const admin = await userToken(ta, 'admin', ta.adminPassword, `${ta.url}/graph//.default`);
    const password = 'Meadow-lantern-quartz-51';
    const made = await graph(ta, admin, 'POST', '/users', { accountEnabled: true, displayName: 'Lena', mailNickname: 'lena', userPrincipalName: 'lena@keyhaven.local', passwordProfile: { password, forceChangePasswordNextSignIn: false } });
    assert.equal(made.status, 201);
    const grant = (t: Tenant, pw: string) => postForm(t.tokenUrl, { grant_type: 'password', client_id: AZURE_CLI, username: 'lena@keyhaven.local', password: pw, scope: `${t.url}/graph//.default` });
    for (let i = 0; i < 5; i++) assert.deepEqual((await grant(ta, 'Wrong-password-000')).body.error_codes, [50126]);
    // The right password, on the other replica: locked (the lockout lives in the database).
    const onB = await grant(tb, password);
    assert.equal(onB.status, 400);
    assert.deepEqual(onB.body.error_codes, [50053], JSON.stringify(onB.body));
  });

  it('A killed in the middle of a write burst: B keeps serving; every acknowledged write survives; the audit chain verifies', async () => {
    const adminA = await userToken(ta, 'admin', ta.adminPassword, `${ta.url}/graph//.default`);
    const adminB = await userToken(tb, 'admin', tb.adminPassword, `${tb.url}/graph//.default`);
    const acknowledged: string[] = [];
    let n = 0;
    let killed = false;
    let lostOnA = 0;
    const writer = async (t: Tenant, token: string, replica: string) => {
      for (let i = 0; i < 60; i++) {
        if (replica === 'a' && killed && a.child.exitCode === null && a.child.signalCode === null) await a.exited;
        const name = `burst-${replica}-${n++}`;
        try {
          const r = await graph(t, token, 'POST', '/groups', { displayName: name, mailNickname: name, securityEnabled: true });
          if (r.status === 201) acknowledged.push(r.body.id as string);
          else if (replica === 'b') assert.fail(`B answered ${r.status} while A was down`);
        } catch (err) {
          // Only A's requests may fail (it was killed under them).
          if (replica === 'b' || !killed) throw err;
          lostOnA++;
        }
      }
    };
    const burst = Promise.all([writer(ta, adminA, 'a'), writer(ta, adminA, 'a'), writer(tb, adminB, 'b'), writer(tb, adminB, 'b')]);
    await new Promise((r) => setTimeout(r, 200));
    killed = true;
    a.child.kill('SIGKILL');
    await a.exited;
    await burst;
    assert.ok(lostOnA > 0, 'A was killed while its writers were still sending');
    assert.ok(acknowledged.length >= 120, `${acknowledged.length} writes acknowledged`);
    // B still serves reads and writes.
    const after = await graph(tb, adminB, 'POST', '/groups', { displayName: 'after-kill', mailNickname: 'after-kill', securityEnabled: true });
    assert.equal(after.status, 201);
    acknowledged.push(after.body.id as string);

    a = await startA();
    ta = await tenantOf(a);
    const adminA2 = await userToken(ta, 'admin', ta.adminPassword, `${ta.url}/graph//.default`);
    for (const [t, token] of [[ta, adminA2], [tb, adminB]] as const) {
      for (const id of acknowledged) assert.equal((await graph(t, token, 'GET', `/groups/${id}`)).status, 200, `${id} on ${t.url}`);
    }
    const verify = await runCli(['audit', 'verify', '--home', homes[0]!.home, '--storage', db.url]);
    assert.equal(verify.code, 0, `${verify.stdout}\n${verify.stderr}`);
  });
});
