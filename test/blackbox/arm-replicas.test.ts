// Revocation across replicas: two `keyhaven serve` processes on one PostgreSQL. A role
// assignment deleted, or a user removed from a group, through one server is refused by the
// other as soon as PostgreSQL's NOTIFY reaches it (each server's index reloads on it), within
// a bounded wait, and from then on; a grant made through one is honoured by the other the same
// way. On the server that made the change, the very next request sees it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { startServerProcess, tempHome, type ServerProcess } from '../helpers/server-process.js';
import { tenantOf, userToken, type Tenant } from '../helpers/tenant-fixtures.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const RV = 'api-version=2021-04-01';
const AV = 'api-version=2022-04-01';
const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
const WAIT_MS = 5_000;

async function call(base: string, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: Json; text: string }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, body: text ? (JSON.parse(text) as Json) : {} };
}

/** Polls until `check` answers `status`; returns how many answers differed before it did. */
async function until(check: () => Promise<number>, status: number): Promise<number> {
  const deadline = Date.now() + WAIT_MS;
  for (let misses = 0; ; misses++) {
    if ((await check()) === status) return misses;
    if (Date.now() > deadline) throw new Error(`no ${status} within ${WAIT_MS} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('revocation across two servers on one PostgreSQL', () => {
  let db: TestDatabase;
  const homes = [tempHome(), tempHome()];
  let a: ServerProcess;
  let b: ServerProcess;
  let ta: Tenant;
  let tb: Tenant;
  let sub: string;
  const ids: Record<string, string> = {};
  const password = 'Granite-willow-sunrise-34';
  let adminA: string;
  let graphA: string;
  let bobB: string;

  before(async () => {
    db = await createTestDatabase();
    a = await startServerProcess({ home: homes[0]!.home, storage: db.url });
    // The same KEK file: every replica serves the same tenant (DESIGN.md, "Where state lives").
    b = await startServerProcess({ home: homes[1]!.home, storage: db.url, args: ['--master-key-file', join(homes[0]!.home, 'master.key')] });
    ta = await tenantOf(a);
    // The admin was made (and its password written) by A; B's home has no copy of its own.
    copyFileSync(join(homes[0]!.home, 'admin-password'), join(homes[1]!.home, 'admin-password'));
    tb = await tenantOf(b);
    assert.equal(ta.tenantId, tb.tenantId);
    adminA = await userToken(ta, 'admin', ta.adminPassword, `${ta.url}//.default`);
    graphA = await userToken(ta, 'admin', ta.adminPassword, `${ta.url}/graph//.default`);
    const user = await fetch(`${ta.url}/graph/v1.0/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${graphA}`, 'content-type': 'application/json' },
      body: JSON.stringify({ accountEnabled: true, displayName: 'Bob', mailNickname: 'bob', userPrincipalName: 'bob@example.org', passwordProfile: { password, forceChangePasswordNextSignIn: false } }),
    });
    ids.bob = ((await user.json()) as Json).id;
    const group = await fetch(`${ta.url}/graph/v1.0/groups`, {
      method: 'POST',
      headers: { authorization: `Bearer ${graphA}`, 'content-type': 'application/json' },
      body: JSON.stringify({ displayName: 'analysts', mailNickname: 'analysts', securityEnabled: true }),
    });
    ids.group = ((await group.json()) as Json).id;
    sub = `/subscriptions/${(await call(ta.url, adminA, 'GET', '/subscriptions?api-version=2019-11-01')).body.value[0].subscriptionId}`;
    assert.equal((await call(ta.url, adminA, 'PUT', `${sub}/resourceGroups/data?${RV}`, { location: 'westeurope' })).status, 201);
    bobB = await userToken(tb, 'bob', password, `${tb.url}//.default`);
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await db?.drop();
    for (const h of homes) h.remove();
  });

  const readOnB = async () => (await call(tb.url, bobB, 'GET', `${sub}/resourceGroups/data?${RV}`)).status;

  it('an assignment made on A is honoured by B, and once deleted on A, refused by B', async () => {
    assert.equal(await readOnB(), 403);
    const name = randomUUID();
    const path = `${sub}/resourceGroups/data/providers/Microsoft.Authorization/roleAssignments/${name}?${AV}`;
    const made = await call(ta.url, adminA, 'PUT', path, { properties: { roleDefinitionId: `${sub}/providers/Microsoft.Authorization/roleDefinitions/${READER}`, principalId: ids.bob } });
    assert.equal(made.status, 201, made.text);
    await until(readOnB, 200);
    assert.equal((await call(ta.url, adminA, 'DELETE', path)).status, 200);
    const allowedAfterDelete = await until(readOnB, 403);
    // NOTIFY arrives within milliseconds: in practice no request is let through after the delete returned.
    assert.ok(allowedAfterDelete <= 2, `${allowedAfterDelete} requests allowed after the delete`);
    for (let i = 0; i < 5; i++) assert.equal(await readOnB(), 403);
  });

  it('a user removed from a group on A loses the group\'s role on B', async () => {
    const add = await fetch(`${ta.url}/graph/v1.0/groups/${ids.group}/members/$ref`, {
      method: 'POST',
      headers: { authorization: `Bearer ${graphA}`, 'content-type': 'application/json' },
      body: JSON.stringify({ '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${ids.bob}` }),
    });
    assert.equal(add.status, 204);
    const made = await call(ta.url, adminA, 'PUT', `${sub}/resourceGroups/data/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?${AV}`, {
      properties: { roleDefinitionId: `${sub}/providers/Microsoft.Authorization/roleDefinitions/${READER}`, principalId: ids.group, principalType: 'Group' },
    });
    assert.equal(made.status, 201, made.text);
    await until(readOnB, 200);
    const leave = await fetch(`${ta.url}/graph/v1.0/groups/${ids.group}/members/${ids.bob}/$ref`, { method: 'DELETE', headers: { authorization: `Bearer ${graphA}` } });
    assert.equal(leave.status, 204);
    const allowedAfterLeave = await until(readOnB, 403);
    assert.ok(allowedAfterLeave <= 2, `${allowedAfterLeave} requests allowed after leaving`);
    for (let i = 0; i < 5; i++) assert.equal(await readOnB(), 403);
  });

  it('a change made on B is seen by B on the very next request', async () => {
    const adminB = await userToken(tb, 'admin', tb.adminPassword, `${tb.url}//.default`);
    const name = randomUUID();
    const path = `${sub}/resourceGroups/data/providers/Microsoft.Authorization/roleAssignments/${name}?${AV}`;
    assert.equal((await call(tb.url, adminB, 'PUT', path, { properties: { roleDefinitionId: `${sub}/providers/Microsoft.Authorization/roleDefinitions/${READER}`, principalId: ids.bob } })).status, 201);
    assert.equal(await readOnB(), 200);
    assert.equal((await call(tb.url, adminB, 'DELETE', path)).status, 200);
    assert.equal(await readOnB(), 403);
  });
});
