// The operator's view of a store: `keyhaven admin status`, `admin migrate [--dry-run]`,
// /readyz while migrations are pending (and, on PostgreSQL, while the database refuses
// connections), a server refusing a store migrated by a newer version, and `audit export`.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { masterKeyId } from '../../src/crypto/master-key.js';
import { knownMigrations } from '../../src/storage/migrations.js';
import { Storage } from '../../src/storage/storage.js';
import { createTestDatabase, PG_ADMIN_URL, withPgClient } from '../helpers/postgres.js';
import { blackboxStorage, runCli, serverArgs, startServerProcess, tempHome, type ServerProcess } from '../helpers/server-process.js';
import { graph, tenantOf, userToken } from '../helpers/tenant-fixtures.js';

async function exec(url: string, statement: string, params: unknown[] = []): Promise<void> {
  if (url.startsWith('sqlite:')) {
    const db = new BetterSqlite3(url.slice('sqlite:'.length));
    try {
      db.pragma('busy_timeout = 5000');
      db.prepare(statement).run(...params);
    } finally {
      db.close();
    }
  } else {
    await withPgClient(url, async (c) => void (await c.query(statement.replace(/\?/g, (() => { let n = 0; return () => `$${++n}`; })()), params)));
  }
}

async function readyz(server: ServerProcess): Promise<{ status: number; body: { status: string } }> {
  const res = await fetch(`${server.url}/readyz`, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: (await res.json()) as { status: string } };
}

async function until<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    assert.ok(Date.now() < deadline, `${what}: last ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('admin status, migrate, readiness and audit export', () => {
  const { home, remove } = tempHome();
  let storage: { url: string; drop(): Promise<void> };
  let server: ServerProcess;
  const store = () => ['--home', home, '--storage', storage.url];
  const lastMigration = knownMigrations().at(-1)!;

  before(async () => {
    storage = await blackboxStorage(home);
    server = await startServerProcess({ home, storage: storage.url });
  });
  after(async () => {
    await server?.stop();
    await storage?.drop();
    remove();
  });

  it('admin status names the version, engine, schema, master key, signing keys, audit head and last backup', async () => {
    const r = await runCli(['admin', 'status', ...store()]);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string };
    assert.equal(s.version, pkg.version);
    assert.equal(s.engine, storage.url.startsWith('sqlite:') ? 'sqlite' : 'postgres');
    assert.equal(s.tenantId, (await tenantOf(server)).tenantId);
    assert.deepEqual(s.schema, { current: true, last: lastMigration, applied: knownMigrations().length, pending: [], unknown: [] });
    const kek = Buffer.from(readFileSync(join(home, 'master.key'), 'utf8').trim(), 'base64');
    assert.deepEqual(s.masterKey, { id: masterKeyId(kek), rotatedAt: null, fileMatches: true });
    assert.ok(s.signingKeys.some((k: { state: string; ageDays: number }) => k.state === 'active' && k.ageDays === 0), JSON.stringify(s.signingKeys));
    assert.ok(s.audit.headSeq > 0);
    assert.deepEqual(s.lastBackup, { at: null, file: null });
    // Never a secret: no wrapped key or sealed value appears.
    assert.doesNotMatch(r.stdout, /kh1\.|private/);
    // Looking creates nothing: a mistyped path is an error, not a new empty database.
    const typo = join(home, 'typo.db');
    const missing = await runCli(['admin', 'status', '--home', home, '--storage', `sqlite:${typo}`]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, `ERROR: there is no SQLite database at ${typo}\n`);
    assert.equal(existsSync(typo), false);

    const file = join(home, 'status.khb');
    assert.equal((await runCli(['admin', 'backup', ...store(), '--file', file])).code, 0);
    const after = JSON.parse((await runCli(['admin', 'status', ...store()])).stdout);
    assert.equal(after.lastBackup.file, file);
    assert.ok(Date.now() - Date.parse(after.lastBackup.at) < 60_000);
    assert.ok(after.audit.headSeq > s.audit.headSeq, 'the backup is audited');
  });

  it('/readyz answers 503 while a migration this version has is missing from the store', async () => {
    assert.deepEqual(await readyz(server), { status: 200, body: { status: 'ready', storage: storage.url.startsWith('sqlite:') ? 'sqlite' : 'postgres' } });
    const row = { name: lastMigration };
    await exec(storage.url, 'delete from kysely_migration where name = ?', [row.name]);
    try {
      const r = await readyz(server);
      assert.equal(r.status, 503);
      assert.equal(r.body.status, 'migrations-pending');
      const s = JSON.parse((await runCli(['admin', 'status', ...store()])).stdout);
      assert.deepEqual(s.schema.pending, [lastMigration]);
      assert.equal(s.schema.current, false);
    } finally {
      await exec(storage.url, 'insert into kysely_migration (name, timestamp) values (?, ?)', [row.name, new Date().toISOString()]);
    }
    assert.equal((await readyz(server)).status, 200);
  });

  it('/readyz answers 503 while PostgreSQL refuses connections, and 200 again once it is back', { skip: !process.env.KEYHAVEN_TEST_STORAGE?.startsWith('postgres') }, async () => {
    const db = new URL(storage.url).pathname.slice(1);
    const admin = (sql: string) => withPgClient(PG_ADMIN_URL, async (c) => void (await c.query(sql)));
    await admin(`alter database ${db} with allow_connections false`);
    try {
      await admin(`select pg_terminate_backend(pid) from pg_stat_activity where datname = '${db}' and pid <> pg_backend_pid()`);
      const down = await until('503 while the database is away', () => readyz(server), (r) => r.status === 503);
      assert.equal(down.body.status, 'unavailable');
    } finally {
      await admin(`alter database ${db} with allow_connections true`);
    }
    await until('200 once the database is back', () => readyz(server), (r) => r.status === 200);
  });

  it('admin migrate --dry-run lists what an older store lacks and changes nothing; admin migrate applies it', async () => {
    const older = await (process.env.KEYHAVEN_TEST_STORAGE === 'postgres' ? createTestDatabase() : Promise.resolve({ url: `sqlite:${join(home, 'older.db')}`, drop: async () => undefined }));
    try {
      const midpoint = knownMigrations()[4]!;
      const s = await Storage.open(older.url, { migrate: false });
      try {
        await s.migrateTo(midpoint);
      } finally {
        await s.close();
      }
      const expected = knownMigrations().slice(5);
      const args = ['--home', home, '--storage', older.url];
      for (let i = 0; i < 2; i++) {
        const dry = await runCli(['admin', 'migrate', ...args, '--dry-run']);
        assert.equal(dry.code, 0, dry.stderr);
        assert.deepEqual(JSON.parse(dry.stdout), { dryRun: true, applied: knownMigrations().slice(0, 5), pending: expected });
      }
      const real = await runCli(['admin', 'migrate', ...args]);
      assert.equal(real.code, 0, real.stderr);
      assert.deepEqual(JSON.parse(real.stdout).migrated, expected);
      const again = await runCli(['admin', 'migrate', ...args, '--dry-run']);
      assert.deepEqual(JSON.parse(again.stdout).pending, []);
    } finally {
      await older.drop();
    }
  });

  it('audit export --since writes one JSON object per record with its chain MAC', async () => {
    const t = await tenantOf(server);
    const token = await userToken(t, 'admin', t.adminPassword);
    const marker = new Date(Date.now() - 1).toISOString();
    await new Promise((r) => setTimeout(r, 5));
    const created = await graph(t, token, 'POST', '/groups', { displayName: 'exported group', mailNickname: 'exported-group', securityEnabled: true, mailEnabled: false });
    assert.equal(created.status, 201);

    const all = await runCli(['audit', 'export', ...store(), '--format', 'jsonl']);
    assert.equal(all.code, 0, all.stderr);
    assert.ok(all.stdout.endsWith('\n'));
    const records = all.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { seq: number; time: string; action: string; mac: string; details: unknown });
    assert.deepEqual(records.map((r) => r.seq), records.map((_, i) => i + 1), 'every record, in chain order');
    for (const r of records) assert.match(r.mac, /^[0-9a-f]{64}$/);
    const verify = JSON.parse((await runCli(['audit', 'verify', ...store()])).stdout) as { headMac: string; lastSeq: number };
    const head = records.find((r) => r.seq === verify.lastSeq)!;
    assert.equal(head.mac, verify.headMac, 'the MACs are the chain\'s');

    const since = await runCli(['audit', 'export', ...store(), '--since', marker, '--format', 'jsonl']);
    const recent = since.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { time: string; action: string; target: string });
    assert.ok(recent.length > 0 && recent.length < records.length);
    assert.ok(recent.every((r) => r.time >= marker));
    assert.ok(recent.some((r) => r.action === 'group.create'), JSON.stringify(recent.map((r) => r.action)));

    const file = join(home, 'audit.jsonl');
    const toFile = await runCli(['audit', 'export', ...store(), '--since', marker, '--file', file]);
    assert.equal(toFile.code, 0, toFile.stderr);
    assert.equal(toFile.stdout, '');
    assert.equal(readFileSync(file, 'utf8'), since.stdout);
    assert.equal(statSync(file).mode & 0o777, 0o600);

    const bad = await runCli(['audit', 'export', ...store(), '--format', 'csv']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^ERROR: --format must be jsonl, not 'csv'\n$/);
  });

  it('a server refuses a store migrated by a newer version with one clear line; status still reports it', async () => {
    await server.stop();
    await exec(storage.url, 'insert into kysely_migration (name, timestamp) values (?, ?)', ['9999_from_a_newer_release', new Date().toISOString()]);
    const start = await runCli(serverArgs(home, storage.url));
    assert.equal(start.code, 1, start.stdout + start.stderr);
    assert.match(start.stderr, /^ERROR: the store was migrated by a newer Keyhaven \(migrations 9999_from_a_newer_release are unknown to this version\): run that version or a later one\n$/);
    const migrate = await runCli(['admin', 'migrate', ...store(), '--dry-run']);
    assert.equal(migrate.code, 1);
    assert.match(migrate.stderr, /^ERROR: the store was migrated by a newer Keyhaven/);
    const status = await runCli(['admin', 'status', ...store()]);
    assert.equal(status.code, 0, status.stderr);
    assert.deepEqual(JSON.parse(status.stdout).schema.unknown, ['9999_from_a_newer_release']);
    await exec(storage.url, 'delete from kysely_migration where name = ?', ['9999_from_a_newer_release']);
    server = await startServerProcess({ home, storage: storage.url });
  });
});
