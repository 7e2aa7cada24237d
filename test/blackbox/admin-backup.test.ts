// `keyhaven admin backup|restore` against a server under a write load. The source store is
// the suite's engine (SQLite, or PostgreSQL with KEYHAVEN_TEST_STORAGE=postgres); every backup
// is restored into both engines, so the two runs cover SQLite → PostgreSQL and back. A
// restored store must hold every write acknowledged before the backup began, pass `audit
// verify`, and serve: a server started on it signs the admin in and reads the load's objects.
// Damaged backups and wrong keys are refused with one line and leave the target untouched.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { encodeBackup } from '../../src/crypto/backup-file.js';
import { createMasterKey, masterKeyId } from '../../src/crypto/master-key.js';
import { knownMigrations } from '../../src/storage/migrations.js';
import { Storage } from '../../src/storage/storage.js';
import { createTestDatabase, withPgClient } from '../helpers/postgres.js';
import { blackboxStorage, runCli, startServerProcess, tempHome, type ServerProcess } from '../helpers/server-process.js';
import { decodeProtectedHeader } from 'jose';
import { createServicePrincipal, graph, postForm, tenantOf, userToken, type ServicePrincipalFixture, type Tenant } from '../helpers/tenant-fixtures.js';

type Store = { url: string; drop(): Promise<void> };

async function query(url: string, statement: string): Promise<Record<string, unknown>[]> {
  if (url.startsWith('sqlite:')) {
    const db = new BetterSqlite3(url.slice('sqlite:'.length), { readonly: true });
    try {
      return db.prepare(statement).all() as Record<string, unknown>[];
    } finally {
      db.close();
    }
  }
  return withPgClient(url, async (c) => (await c.query(statement)).rows as Record<string, unknown>[]);
}

/** The tables of a store as its own catalogue lists them (the test's view, not Keyhaven's). */
async function schemaTables(url: string): Promise<string[]> {
  const rows = url.startsWith('sqlite:')
    ? await query(url, `select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`)
    : await query(url, `select table_name as name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE'`);
  return rows.map((r) => String(r.name)).filter((n) => !n.startsWith('kysely_migration')).sort();
}

function header(file: string): Record<string, any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const text = readFileSync(file);
  const first = text.indexOf(0x0a);
  const second = text.indexOf(0x0a, first + 1);
  assert.equal(text.subarray(0, first).toString(), 'KEYHAVEN-BACKUP/1');
  return JSON.parse(text.subarray(first + 1, second).toString()) as Record<string, unknown>;
}

async function arm(base: string, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {} };
}

const READER_ROLE = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
const ASSIGNEE_PASSWORD = 'Granite-willow-sunrise-34';
// No digits: the password policy refuses one holding a part of the user's name (load-0-101).
const LOAD_PASSWORD = 'Violet harbour ember quartz!';

async function targetStore(engine: 'sqlite' | 'postgres', home: string): Promise<Store> {
  if (engine === 'postgres') return createTestDatabase();
  return { url: `sqlite:${join(home, 'keyhaven.db')}`, drop: async () => undefined };
}

const VAULT = 'kh-backup-vault';
const SECRET_VALUE = 'survives-the-restore-7f3a';

describe('admin backup and restore', () => {
  const source = tempHome();
  let storage: Store;
  let server: ServerProcess;
  let t: Tenant;
  let token: string;
  /** A credential made before the backup: its HMAC key and the signing keys must come back. */
  let sp: ServicePrincipalFixture;
  let subscription: string;
  const cleanups: (() => Promise<void> | void)[] = [];
  const store = () => ['--home', source.home, '--storage', storage.url];
  const backupFile = join(source.home, 'backup-1.khb');
  /** Writes the server acknowledged before the backup began: [kind, name]. */
  const acknowledgedBefore: [string, string][] = [];

  before(async () => {
    storage = await blackboxStorage(source.home);
    server = await startServerProcess({ home: source.home, storage: storage.url });
    t = await tenantOf(server);
    token = await userToken(t, 'admin', t.adminPassword);
    sp = await createServicePrincipal(t, token, 'backup-survivor');
    // A role assignment made before the backup: Reader on the default subscription.
    const assignee = await graph<{ id: string }>(t, token, 'POST', '/users', {
      accountEnabled: true, displayName: 'Assignee', mailNickname: 'assignee', userPrincipalName: 'assignee@keyhaven.local',
      passwordProfile: { password: ASSIGNEE_PASSWORD, forceChangePasswordNextSignIn: false },
    });
    assert.equal(assignee.status, 201, JSON.stringify(assignee.body));
    const armAdmin = await userToken(t, 'admin', t.adminPassword, `${t.url}//.default`);
    const subs = await arm(t.url, armAdmin, 'GET', '/subscriptions?api-version=2019-11-01');
    subscription = `/subscriptions/${subs.body.value[0].subscriptionId as string}`;
    const ra = await arm(t.url, armAdmin, 'PUT', `${subscription}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?api-version=2022-04-01`, {
      properties: { roleDefinitionId: `${subscription}/providers/Microsoft.Authorization/roleDefinitions/${READER_ROLE}`, principalId: assignee.body.id },
    });
    assert.equal(ra.status, 201, JSON.stringify(ra.body));
    // A vault secret written before the backup (sealed under the vault's data key).
    assert.equal((await arm(t.url, armAdmin, 'PUT', `${subscription}/resourceGroups/kv?api-version=2021-04-01`, { location: 'westeurope' })).status, 201);
    const vault = await arm(t.url, armAdmin, 'PUT', `${subscription}/resourceGroups/kv/providers/Microsoft.KeyVault/vaults/${VAULT}?api-version=2023-07-01`, {
      location: 'westeurope',
      properties: { tenantId: t.tenantId, sku: { family: 'A', name: 'standard' }, accessPolicies: [{ tenantId: t.tenantId, objectId: sp.servicePrincipalId, permissions: { secrets: ['get', 'set'] } }] },
    });
    assert.equal(vault.status, 201, JSON.stringify(vault.body));
    const vaultToken = await postForm(t.tokenUrl, { grant_type: 'client_credentials', client_id: sp.appId, client_secret: sp.secret, scope: 'https://vault.azure.net/.default' });
    const set = await fetch(`${t.url}/vaults/${VAULT}/secrets/db-password?api-version=7.5`, {
      method: 'PUT', headers: { authorization: `Bearer ${vaultToken.body.access_token as string}`, 'content-type': 'application/json' }, body: JSON.stringify({ value: SECRET_VALUE }),
    });
    assert.equal(set.status, 200, await set.text());
  });
  after(async () => {
    await server?.stop();
    for (const c of cleanups.reverse()) await c();
    await storage?.drop();
    source.remove();
  });

  it('a backup taken under a write load is one consistent, encrypted file naming its schema, tenant and key', async () => {
    let backupStarted = Infinity;
    let stop = false;
    const acked: { kind: string; name: string; at: number }[] = [];
    const failures: string[] = [];
    // Two writers creating groups and users through Graph until the backup is done.
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const name = `load-${w}-${i}`;
        const res = i % 3 === 2
          ? await graph(t, token, 'POST', '/users', {
            accountEnabled: true, displayName: name, mailNickname: name, userPrincipalName: `${name}@keyhaven.local`,
            passwordProfile: { password: LOAD_PASSWORD, forceChangePasswordNextSignIn: false },
          })
          : await graph(t, token, 'POST', '/groups', { displayName: name, mailNickname: name, securityEnabled: true, mailEnabled: false });
        if (res.status === 201) acked.push({ kind: i % 3 === 2 ? 'user' : 'group', name, at: performance.now() });
        else failures.push(`${name}: ${res.status} ${JSON.stringify(res.body)}`);
      }
    };
    const writers = [writer(0), writer(1)];
    try {
      const deadline = Date.now() + 30_000;
      while (acked.length < 12) {
        assert.ok(Date.now() < deadline, `the load made no progress: ${failures.join('; ')}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      backupStarted = performance.now();
      const backup = await runCli(['admin', 'backup', ...store(), '--file', backupFile]);
      assert.equal(backup.code, 0, backup.stderr);
      const result = JSON.parse(backup.stdout) as { tables: number; rows: number; bytes: number; keySource: string };
      assert.equal(result.keySource, 'master-key');
      // Writes went on while the backup ran.
      const during = acked.length;
      await new Promise((r) => setTimeout(r, 200));
      assert.ok(acked.length > during || acked.some((a) => a.at > backupStarted), 'the server kept acknowledging writes around the backup');
    } finally {
      stop = true;
      await Promise.all(writers);
    }
    assert.deepEqual(failures, []);
    for (const a of acked) if (a.at < backupStarted) acknowledgedBefore.push([a.kind, a.name]);
    assert.ok(acknowledgedBefore.length >= 12);

    const h = header(backupFile);
    assert.equal(h.formatVersion, 1);
    assert.equal(h.tenantId, t.tenantId);
    const kek = Buffer.from(readFileSync(join(source.home, 'master.key'), 'utf8').trim(), 'base64');
    assert.deepEqual(h.key, { source: 'master-key', id: masterKeyId(kek) });
    assert.equal(h.masterKeyId, masterKeyId(kek));
    assert.equal(h.engine, storage.url.startsWith('sqlite:') ? 'sqlite' : 'postgres');
    assert.match(String(h.lastMigration), /^\d{4}_/);
    assert.equal(h.lastMigration, (h.migrations as string[]).at(-1));
    // Every table the migrations made is in it — read from the live schema, not a list.
    assert.deepEqual((h.tables as { name: string }[]).map((x) => x.name).sort(), await schemaTables(storage.url));
    assert.ok((h.tables as { name: string; rows: number }[]).find((x) => x.name === 'groups')!.rows >= 8);
    // Encrypted: no directory name is readable in the file.
    const raw = readFileSync(backupFile).toString('latin1');
    assert.ok(!raw.includes('load-0-0') && !raw.includes('keyhaven.local'));
  });

  for (const engine of ['sqlite', 'postgres'] as const) {
    it(`restores into a fresh ${engine} store: every acknowledged write is there, audit verify passes, a server on it serves`, async () => {
      assert.ok(acknowledgedBefore.length > 0, 'the backup test ran first');
      const target = tempHome();
      cleanups.push(target.remove);
      const dest = await targetStore(engine, target.home);
      cleanups.push(() => dest.drop());
      copyFileSync(join(source.home, 'master.key'), join(target.home, 'master.key'));
      const restore = await runCli(['admin', 'restore', '--home', target.home, '--storage', dest.url, '--file', backupFile]);
      assert.equal(restore.code, 0, restore.stderr);
      const result = JSON.parse(restore.stdout) as { auditVerified: boolean; tenantId: string; rows: number };
      assert.equal(result.auditVerified, true);
      assert.equal(result.tenantId, t.tenantId);

      const verify = await runCli(['audit', 'verify', '--home', target.home, '--storage', dest.url]);
      assert.equal(verify.code, 0, verify.stdout + verify.stderr);
      assert.equal(JSON.parse(verify.stdout).ok, true);
      const restoreRecords = await runCli(['audit', 'list', '--home', target.home, '--storage', dest.url, '--action', 'store.*']);
      assert.ok((JSON.parse(restoreRecords.stdout) as { action: string }[]).some((r) => r.action === 'store.restore'));

      const groups = new Set((await query(dest.url, 'select mail_nickname from groups')).map((r) => String(r.mail_nickname)));
      const users = new Set((await query(dest.url, 'select username from users')).map((r) => String(r.username)));
      const missing = acknowledgedBefore.filter(([kind, name]) => !(kind === 'group' ? groups : users).has(name));
      assert.deepEqual(missing, [], 'writes acknowledged before the backup began');

      const restored = await startServerProcess({ home: target.home, storage: dest.url });
      try {
        const rt: Tenant = { ...t, url: restored.url, tokenUrl: `${restored.url}/${t.tenantId}/oauth2/v2.0/token` };
        const issuer = await (await fetch(`${restored.url}/organizations/v2.0/.well-known/openid-configuration`)).json() as { issuer: string };
        assert.ok(issuer.issuer.includes(t.tenantId), 'the restored server serves the same tenant');
        const rtoken = await userToken(rt, 'admin', t.adminPassword);
        // Signed with the source's signing key (sealed under a data key in the backup).
        assert.equal(decodeProtectedHeader(rtoken).kid, decodeProtectedHeader(token).kid);
        // A client secret issued before the backup (an HMAC under the restored credential key).
        const cc = await postForm(rt.tokenUrl, { grant_type: 'client_credentials', client_id: sp.appId, client_secret: sp.secret, scope: `${rt.url}//.default` });
        assert.equal(cc.status, 200, JSON.stringify(cc.body));
        // The vault secret written before the backup reads back through the restored server.
        const vt = await postForm(rt.tokenUrl, { grant_type: 'client_credentials', client_id: sp.appId, client_secret: sp.secret, scope: 'https://vault.azure.net/.default' });
        const secret = await fetch(`${rt.url}/vaults/${VAULT}/secrets/db-password?api-version=7.5`, { headers: { authorization: `Bearer ${vt.body.access_token as string}` } });
        assert.equal(secret.status, 200, await secret.clone().text());
        assert.equal(((await secret.json()) as { value: string }).value, SECRET_VALUE);
        // The role assignment holds: the assignee reads the subscription, and may not write it.
        const readerToken = await userToken(rt, 'assignee', ASSIGNEE_PASSWORD, `${rt.url}//.default`);
        const sub = await arm(rt.url, readerToken, 'GET', `${subscription}/resourcegroups?api-version=2021-04-01`);
        assert.equal(sub.status, 200, JSON.stringify(sub.body));
        const write = await arm(rt.url, readerToken, 'PUT', `${subscription}/resourcegroups/not-allowed?api-version=2021-04-01`, { location: 'westeurope' });
        assert.equal(write.status, 403, JSON.stringify(write.body));
        const [, userName] = acknowledgedBefore.find(([kind]) => kind === 'user')!;
        const user = await graph<{ displayName: string }>(rt, rtoken, 'GET', `/users/${userName}@keyhaven.local`);
        assert.equal(user.status, 200, JSON.stringify(user.body));
        assert.equal(user.body.displayName, userName);
        // The restored user's password (hashed in the backup) still signs in.
        await userToken(rt, userName, LOAD_PASSWORD);
        const [, groupName] = acknowledgedBefore.find(([kind]) => kind === 'group')!;
        const found = await graph<{ value: unknown[] }>(rt, rtoken, 'GET', `/groups?$filter=displayName eq '${groupName}'`);
        assert.equal(found.status, 200);
        assert.equal(found.body.value.length, 1);
      } finally {
        await restored.stop();
      }
      const after = await runCli(['audit', 'verify', '--home', target.home, '--storage', dest.url]);
      assert.equal(JSON.parse(after.stdout).ok, true, 'the chain verifies after the restored server appended to it');
    });
  }

  it('refuses a damaged backup, a wrong key, and a non-empty store with one line, writing nothing', async () => {
    const good = readFileSync(backupFile);
    const resum = (b: Buffer) => {
      const body = b.subarray(0, b.length - 32);
      return Buffer.concat([body, createHash('sha256').update(body).digest()]);
    };
    const flipped = Buffer.from(good);
    flipped[flipped.length - 200]! ^= 0x01;
    const headerEdited = Buffer.from(good.toString('latin1').replace(/"tenantId":"[0-9a-f]/, (m) => m.slice(0, -1) + (m.endsWith('0') ? '1' : '0')), 'latin1');
    const cases: [string, Buffer, RegExp, boolean?][] = [
      ['a flipped byte', flipped, /checksum does not match/],
      ['a truncated file', good.subarray(0, Math.floor(good.length / 2)), /checksum does not match|truncated/],
      ['a flipped byte with its checksum recomputed', resum(flipped), /cannot be decrypted/],
      ['an edited header with its checksum recomputed', resum(headerEdited), /cannot be decrypted/],
      ['not a backup', Buffer.from('hello\n'), /not a Keyhaven backup/],
      ['the wrong master key', good, /encrypted under master key id [0-9a-f]{16}; the key given has id/, true],
    ];
    for (const [what, bytes, message, wrongKey] of cases) {
      const target = tempHome();
      try {
        const file = join(target.home, 'bad.khb');
        writeFileSync(file, bytes);
        writeFileSync(join(target.home, 'master.key'), wrongKey ? randomBytes(32).toString('base64') + '\n' : readFileSync(join(source.home, 'master.key')), { mode: 0o600 });
        const r = await runCli(['admin', 'restore', '--home', target.home, '--storage', `sqlite:${join(target.home, 'keyhaven.db')}`, '--file', file]);
        assert.equal(r.code, 1, `${what}: ${r.stdout}${r.stderr}`);
        assert.equal(r.stderr.trim().split('\n').length, 1, `${what}: one line: ${r.stderr}`);
        assert.match(r.stderr, /^ERROR: /, what);
        assert.match(r.stderr, message, what);
        assert.equal(r.stdout, '', what);
        assert.equal(existsSync(join(target.home, 'keyhaven.db')), false, `${what}: nothing written`);
      } finally {
        target.remove();
      }
    }

    // A store that holds data is refused without --force, and replaced with it.
    const target = tempHome();
    cleanups.push(target.remove);
    copyFileSync(join(source.home, 'master.key'), join(target.home, 'master.key'));
    const args = ['admin', 'restore', '--home', target.home, '--storage', `sqlite:${join(target.home, 'keyhaven.db')}`, '--file', backupFile];
    assert.equal((await runCli(args)).code, 0);
    const again = await runCli(args);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^ERROR: the store is not empty \(\d+ rows\): restore into a fresh home or database, or give --force/);
    const forced = await runCli([...args, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(JSON.parse(forced.stdout).auditVerified, true);
  });

  it('a backup under a separate --key-file restores only with that key', async () => {
    const keyFile = join(source.home, 'backup.key');
    const file = join(source.home, 'backup-2.khb');
    const backup = await runCli(['admin', 'backup', ...store(), '--file', file, '--key-file', keyFile]);
    assert.equal(backup.code, 0, backup.stderr);
    assert.equal(header(file).key.source, 'key-file');
    assert.notEqual(header(file).key.id, header(file).masterKeyId);
    const target = tempHome();
    cleanups.push(target.remove);
    copyFileSync(join(source.home, 'master.key'), join(target.home, 'master.key'));
    const base = ['admin', 'restore', '--home', target.home, '--storage', `sqlite:${join(target.home, 'keyhaven.db')}`, '--file', file];
    const without = await runCli(base);
    assert.equal(without.code, 1);
    assert.match(without.stderr, /^ERROR: the backup is encrypted under a backup key file \(id [0-9a-f]{16}\): give it with --key-file/);
    assert.equal(existsSync(join(target.home, 'keyhaven.db')), false);
    const withKey = await runCli([...base, '--key-file', keyFile]);
    assert.equal(withKey.code, 0, withKey.stderr);
    // The backup is recorded: admin status names it.
    const status = await runCli(['admin', 'status', ...store()]);
    assert.equal(JSON.parse(status.stdout).lastBackup.file, file);
  });

  it('a server takes scheduled backups into backupDir and keeps the newest backupKeep', async () => {
    const home = tempHome();
    cleanups.push(home.remove);
    const dir = join(home.home, 'nightly');
    const scheduled = await startServerProcess({ home: home.home, args: ['--backup-schedule', '2s', '--backup-dir', dir, '--backup-keep', '2'] });
    let written: string[] = [];
    try {
      const deadline = Date.now() + 60_000;
      for (;;) {
        written = scheduled.stdout().split('\n').filter((l) => l.includes('"msg":"scheduled backup written"')).map((l) => (JSON.parse(l) as { file: string }).file);
        if (written.length >= 3) break;
        assert.ok(Date.now() < deadline, `three scheduled backups within 60 s; saw ${written.length}\n${scheduled.stdout()}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      await scheduled.stop();
    }
    const kept = readdirSync(dir).sort();
    assert.deepEqual(kept.map((f) => join(dir, f)), written.slice(-2), 'the two newest are kept, older ones deleted');
    for (const f of kept) assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600);
    const target = tempHome();
    cleanups.push(target.remove);
    copyFileSync(join(home.home, 'master.key'), join(target.home, 'master.key'));
    const restore = await runCli(['admin', 'restore', '--home', target.home, '--storage', `sqlite:${join(target.home, 'keyhaven.db')}`, '--file', written.at(-1)!]);
    assert.equal(restore.code, 0, restore.stderr);
    assert.equal(JSON.parse(restore.stdout).auditVerified, true);
  });

  it('a backup taken before rotate-master-key restores with the key it names, and not with the new one', async () => {
    const oldKey = join(source.home, 'master.key');
    const newKey = join(source.home, 'master.key.new');
    const rotate = await runCli(['admin', 'rotate-master-key', ...store(), '--new-key-file', newKey]);
    assert.equal(rotate.code, 0, rotate.stderr);
    const before = header(backupFile);
    const newId = masterKeyId(Buffer.from(readFileSync(newKey, 'utf8').trim(), 'base64'));
    assert.notEqual(before.key.id, newId);

    const withNew = tempHome();
    cleanups.push(withNew.remove);
    copyFileSync(newKey, join(withNew.home, 'master.key'));
    const refused = await runCli(['admin', 'restore', '--home', withNew.home, '--storage', `sqlite:${join(withNew.home, 'keyhaven.db')}`, '--file', backupFile]);
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr, `ERROR: the backup is encrypted under master key id ${before.key.id}; the key given has id ${newId}\n`);
    assert.equal(existsSync(join(withNew.home, 'keyhaven.db')), false);

    const withOld = tempHome();
    cleanups.push(withOld.remove);
    copyFileSync(oldKey, join(withOld.home, 'master.key'));
    const restored = await runCli(['admin', 'restore', '--home', withOld.home, '--storage', `sqlite:${join(withOld.home, 'keyhaven.db')}`, '--file', backupFile]);
    assert.equal(restored.code, 0, restored.stderr);
    assert.equal(JSON.parse(restored.stdout).auditVerified, true);

    // A backup taken now names the new key.
    const after = join(source.home, 'after-rotation.khb');
    const backup = await runCli(['admin', 'backup', ...store(), '--master-key-file', newKey, '--file', after]);
    assert.equal(backup.code, 0, backup.stderr);
    assert.equal(header(after).key.id, newId);
    assert.equal(header(after).masterKeyId, newId);
  });

  it('a backup of an older schema restores at that schema, then is migrated to this version', async () => {
    // An older release's backup, made the way it would have: its store at migration 5, then the snapshot.
    const old = tempHome();
    cleanups.push(old.remove);
    const oldUrl = `sqlite:${join(old.home, 'old.db')}`;
    const midpoint = knownMigrations()[4]!;
    const s = await Storage.open(oldUrl, { migrate: false });
    let snapshot;
    try {
      await s.migrateTo(midpoint);
      const now = new Date().toISOString();
      await s.read.settings.set('tenant_id', t.tenantId);
      await s.read.users.insert({ id: randomUUID(), username: 'olduser', user_principal_name: 'olduser@keyhaven.local', display_name: 'Old User', password_hash: null, account_enabled: 1, created_at: now, updated_at: now });
      snapshot = await s.snapshot();
    } finally {
      await s.close();
    }
    assert.equal(snapshot.migrations.at(-1), midpoint);
    const target = tempHome();
    cleanups.push(target.remove);
    const kek = createMasterKey(join(target.home, 'master.key'));
    const file = join(target.home, 'old.khb');
    writeFileSync(file, encodeBackup(snapshot, { keyhavenVersion: '0.0.1', engine: 'sqlite', tenantId: t.tenantId, createdAt: new Date().toISOString(), masterKeyId: null }, { source: 'master-key', id: kek.id, key: kek.key }));
    for (const engine of ['sqlite', 'postgres'] as const) {
      const dest = await targetStore(engine, join(target.home));
      cleanups.push(() => dest.drop());
      const r = await runCli(['admin', 'restore', '--home', target.home, '--storage', dest.url, '--file', file]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout).migratedAfterRestore, knownMigrations().slice(5));
      const rows = await query(dest.url, `select username, force_change_password from users where username = 'olduser'`);
      assert.deepEqual(rows.map((x) => [x.username, Number(x.force_change_password)]), [['olduser', 0]], 'a column a later migration added takes its default');
    }
  });
});
