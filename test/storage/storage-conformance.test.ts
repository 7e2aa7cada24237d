// The storage conformance suite: the same behaviour, checked on SQLite and on PostgreSQL.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AuditLog } from '../../src/audit/audit-log.js';
import { Envelope } from '../../src/crypto/envelope.js';
import { rewrapDataKeys } from '../../src/crypto/master-key-rotation.js';
import { createMasterKey, type MasterKey } from '../../src/crypto/master-key.js';
import { PreconditionFailedError, StartupError, UnavailableError } from '../../src/errors.js';
import { isUniqueViolation, Storage } from '../../src/storage/storage.js';
import { engines, failAuditInsertsSql, type EngineFixture } from '../helpers/engines.js';

const now = () => new Date().toISOString();
const user = (username: string) => ({
  id: randomUUID(),
  username,
  user_principal_name: `${username}@example.test`,
  display_name: username,
  password_hash: null,
  account_enabled: 1,
  created_at: now(),
  updated_at: now(),
});

for (const engine of engines) {
  describe(`storage conformance: ${engine.name}`, () => {
    let fx: EngineFixture;
    let storage: Storage;
    let keyDir: string;
    let kek: MasterKey;

    before(async () => {
      fx = await engine.create();
      storage = await Storage.open(fx.url);
      keyDir = mkdtempSync(join(tmpdir(), 'kh-kek-'));
      kek = createMasterKey(join(keyDir, 'master.key'));
    });
    after(async () => {
      await storage?.close();
      await fx?.cleanup();
      rmSync(keyDir, { recursive: true, force: true });
    });

    it('applies migrations once and records them', async () => {
      const rows = await fx.exec('select name from kysely_migration order by name');
      assert.deepEqual(rows.map((r) => r.name), ['0001_foundation', '0002_directory', '0003_ldif_source', '0004_login_throttle', '0005_ldif_entries', '0006_assertion_jti', '0007_browser_signin', '0008_signing_keys', '0009_resources', '0011_totp', '0013_vaults', '0014_machines']);
      const again = await Storage.open(fx.url);
      assert.deepEqual(await again.migrate(), []);
      await again.close();
    });

    it('first writer wins for settings', async () => {
      assert.equal(await storage.read.settings.setIfAbsent('k1', 'a'), 'a');
      assert.equal(await storage.read.settings.setIfAbsent('k1', 'b'), 'a');
      await storage.read.settings.set('k1', 'c');
      assert.equal(await storage.read.settings.get('k1'), 'c');
      assert.equal(await storage.read.settings.get('missing'), undefined);
    });

    it('commits a transaction that resolves and rolls back one that throws', async () => {
      await storage.transaction(async (tx) => tx.users.insert(user('committed')));
      await assert.rejects(
        storage.transaction(async (tx) => {
          await tx.users.insert(user('rolledback'));
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.ok(await storage.read.users.byUsername('committed'));
      assert.equal(await storage.read.users.byUsername('rolledback'), undefined);
    });

    it('rolls back to a savepoint without losing earlier work', async () => {
      await storage.transaction(async (tx) => {
        await tx.users.insert(user('kept'));
        await tx.savepoint();
        await tx.users.insert(user('undone'));
        await tx.rollbackToSavepoint();
        await tx.releaseSavepoint();
      });
      assert.ok(await storage.read.users.byUsername('kept'));
      assert.equal(await storage.read.users.byUsername('undone'), undefined);
    });

    it('reports unique violations the same way on both engines', async () => {
      const u = user('dupe');
      await storage.transaction(async (tx) => tx.users.insert(u));
      await assert.rejects(storage.transaction(async (tx) => tx.users.insert({ ...user('dupe') })), (err) => isUniqueViolation(err));
    });

    it('refuses an update naming a stale version (optimistic concurrency)', async () => {
      const u = user('versioned');
      await storage.transaction(async (tx) => tx.users.insert(u));
      const v1 = (await storage.read.users.byId(u.id))!.version;
      const v2 = await storage.transaction((tx) => tx.users.updateVersioned(u.id, v1, { display_name: 'first' }));
      assert.equal(v2, v1 + 1);
      await assert.rejects(
        storage.transaction((tx) => tx.users.updateVersioned(u.id, v1, { display_name: 'second' })),
        (err) => err instanceof PreconditionFailedError && err.status === 412,
      );
      assert.equal((await storage.read.users.byId(u.id))!.display_name, 'first');
    });

    describe('envelope encryption', () => {
      it('round-trips and binds ciphertexts to their context', async () => {
        const envelope = await Envelope.open(storage, kek);
        const sealed = await envelope.encrypt('secrets', 'hunter2-very-secret', 'vault/a/1');
        assert.ok(!sealed.includes('hunter2'));
        assert.equal((await envelope.decrypt(sealed, 'vault/a/1')).toString(), 'hunter2-very-secret');
        await assert.rejects(envelope.decrypt(sealed, 'vault/b/1'));
        const tampered = sealed.slice(0, -3) + (sealed.endsWith('A') ? 'BBB' : 'AAA');
        await assert.rejects(envelope.decrypt(tampered, 'vault/a/1'));
      });

      it('never stores the KEK and refuses a different KEK', async () => {
        const dump = JSON.stringify([
          await fx.exec('select * from settings'),
          await fx.exec('select * from data_keys'),
          await fx.exec('select * from server_secrets'),
        ]);
        assert.ok(!dump.includes(kek.key.toString('base64')));
        assert.ok(!dump.includes(kek.key.toString('hex')));
        assert.ok(!dump.includes(kek.key.toString('base64url')));
        const other = createMasterKey(join(keyDir, 'other.key'));
        await assert.rejects(Envelope.open(storage, other), (err) => err instanceof StartupError && err.code === 'KH_MASTER_KEY_MISMATCH');
      });

      it('rotates the KEK in one transaction; data stays readable; the old KEK is refused', async () => {
        const before = await Envelope.open(storage, kek);
        const sealed = await before.encrypt('secrets', 'survives-rotation', 'ctx');
        const newKek = createMasterKey(join(keyDir, 'new.key'));
        const n = await storage.transaction((tx) => rewrapDataKeys(tx, kek, newKek));
        assert.ok(n >= 1);
        const afterRotation = await Envelope.open(storage, newKek);
        assert.equal((await afterRotation.decrypt(sealed, 'ctx')).toString(), 'survives-rotation');
        await assert.rejects(Envelope.open(storage, kek), (err) => err instanceof StartupError && err.code === 'KH_MASTER_KEY_ROTATED' && /replaced/.test(err.message));
        // The running envelope (old KEK in memory) still decrypts: servers keep serving.
        assert.equal((await before.decrypt(sealed, 'ctx')).toString(), 'survives-rotation');
        kek = newKek;
      });
    });

    describe('audit log', () => {
      const auditKey = randomBytes(32);
      let audit: AuditLog;
      before(() => {
        audit = new AuditLog(storage, auditKey);
      });

      it('commits concurrent writes with their records in shared transactions, chain intact', async () => {
        const names = Array.from({ length: 200 }, (_, i) => `burst${i}`);
        const before = audit.stats();
        await Promise.all(
          names.map((n) => audit.write({ actor: 'tester', action: 'user.create', target: n }, (tx) => tx.users.insert(user(n)))),
        );
        const after = audit.stats();
        assert.equal(after.records - before.records, 200);
        // Group commit: 200 concurrent requests shared a few transactions, not 200.
        assert.ok(after.transactions - before.transactions <= 5, `${after.transactions - before.transactions} transactions`);
        for (const n of names) assert.ok(await storage.read.users.byUsername(n));
        const records = await audit.list({ action: 'user.create', limit: 1000 });
        assert.equal(records.filter((r) => r.target.startsWith('burst')).length, 200);
        const result = await audit.verify();
        assert.equal(result.ok, true, JSON.stringify(result));
        assert.ok(result.records >= 200);
      });

      it('records a failed write as a failure and undoes only that write', async () => {
        await storage.transaction(async (tx) => tx.users.insert(user('taken')));
        const results = await Promise.allSettled([
          audit.write({ actor: 'tester', action: 'user.create', target: 'fresh1' }, (tx) => tx.users.insert(user('fresh1'))),
          audit.write({ actor: 'tester', action: 'user.create', target: 'taken' }, (tx) => tx.users.insert(user('taken'))),
          audit.write({ actor: 'tester', action: 'user.create', target: 'fresh2' }, (tx) => tx.users.insert(user('fresh2'))),
        ]);
        assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
        assert.ok(await storage.read.users.byUsername('fresh1'));
        assert.ok(await storage.read.users.byUsername('fresh2'));
        const failed = (await audit.list({ actor: 'tester', limit: 10_000 })).filter((r) => r.target === 'taken');
        assert.equal(failed.length, 1);
        assert.equal(failed[0]!.outcome, 'failure');
        assert.equal((await audit.verify()).ok, true);
      });

      it('drops secret-looking details by construction', async () => {
        await audit.record({ actor: 'tester', action: 'secret.get', target: 'v/s', details: { password: 'pw-123', value: 'sv-456', vault: 'v' } });
        const [rec] = await audit.list({ action: 'secret.get', limit: 1 });
        assert.deepEqual(rec!.details, { vault: 'v' });
        const dump = JSON.stringify(await fx.exec('select * from audit_records'));
        assert.ok(!dump.includes('pw-123') && !dump.includes('sv-456'));
      });

      it('filters by actor, action prefix and time', async () => {
        const t0 = new Date().toISOString();
        await audit.record({ actor: 'alice', action: 'token.issue', target: 'x' });
        await audit.record({ actor: 'bob', action: 'token.refresh', target: 'y' });
        assert.deepEqual((await audit.list({ actor: 'alice', since: t0, limit: 10 })).map((r) => r.action), ['token.issue']);
        assert.deepEqual((await audit.list({ action: 'token.*', since: t0, limit: 10 })).map((r) => r.actor), ['alice', 'bob']);
        assert.deepEqual(await audit.list({ action: 'token%', limit: 10 }), []);
        assert.deepEqual(await audit.list({ since: '2999-01-01T00:00:00.000Z', limit: 10 }), []);
      });

      it('refuses a write whose record cannot be written, and leaves no trace', async () => {
        const countBefore = await storage.read.audit.count();
        for (const stmt of failAuditInsertsSql(fx.name)) await fx.exec(stmt);
        try {
          await assert.rejects(
            audit.write({ actor: 'tester', action: 'user.create', target: 'ghost' }, (tx) => tx.users.insert(user('ghost'))),
            (err) => err instanceof UnavailableError && err.code === 'KH_AUDIT_UNAVAILABLE',
          );
          await assert.rejects(audit.record({ actor: 'tester', action: 'secret.get' }), UnavailableError);
        } finally {
          await fx.exec('drop trigger kh_test_fail_audit' + (fx.name === 'postgres' ? ' on audit_records' : ''));
        }
        assert.equal(await storage.read.users.byUsername('ghost'), undefined);
        assert.equal(await storage.read.audit.count(), countBefore);
        assert.equal((await audit.verify()).ok, true);
        // And the log works again once the store does.
        await audit.write({ actor: 'tester', action: 'user.create', target: 'after' }, (tx) => tx.users.insert(user('after')));
        assert.equal((await audit.verify()).ok, true);
      });

      it('names the first altered record', async () => {
        const [victim] = await audit.list({ limit: 1, afterSeq: 4 });
        const param = fx.name === 'sqlite' ? '?' : '$1';
        await fx.exec(`update audit_records set target = 'edited' where seq = ${param}`, [victim!.seq]);
        const result = await audit.verify();
        assert.equal(result.ok, false);
        assert.equal(result.firstBad?.seq, victim!.seq);
        assert.match(result.firstBad!.problem, /altered/);
        await fx.exec(`update audit_records set target = ${param} where seq = ${fx.name === 'sqlite' ? '?' : '$2'}`, [victim!.target, victim!.seq]);
        assert.equal((await audit.verify()).ok, true);
      });

      it('names a deleted record and a cut tail', async () => {
        const param = fx.name === 'sqlite' ? '?' : '$1';
        const head = (await storage.read.audit.head())!;
        const [row] = await fx.exec(`select * from audit_records where seq = ${param}`, [7]);
        await fx.exec(`delete from audit_records where seq = ${param}`, [7]);
        let result = await audit.verify();
        assert.equal(result.ok, false);
        assert.equal(result.firstBad?.seq, 7);
        assert.match(result.firstBad!.problem, /missing/);
        // Put it back, then cut the last three records.
        const cols = Object.keys(row!);
        const marks = cols.map((_, i) => (fx.name === 'sqlite' ? '?' : `$${i + 1}`)).join(',');
        await fx.exec(`insert into audit_records (${cols.join(',')}) values (${marks})`, cols.map((c) => row![c]));
        assert.equal((await audit.verify()).ok, true);
        await fx.exec(`delete from audit_records where seq > ${param}`, [head.seq - 3]);
        result = await audit.verify();
        assert.equal(result.ok, false);
        assert.equal(result.firstBad?.seq, head.seq - 2);
        assert.match(result.firstBad!.problem, /cut/);
      });
    });
  });
}

describe('storage: opening a new database from several processes at once', () => {
  for (const engine of engines) {
    it(`all agree on one migrated schema (${engine.name})`, async () => {
      const fx = await engine.create();
      try {
        const { spawn } = await import('node:child_process');
        const script = `import { Storage } from './src/storage/storage.ts'; const s = await Storage.open(process.argv[1]); await s.read.settings.setIfAbsent('winner', String(process.pid)); await s.close();`;
        const runs = Array.from({ length: 4 }, () => new Promise<number | null>((resolve) => {
          const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, fx.url], { cwd: join(import.meta.dirname, '../..'), stdio: ['ignore', 'ignore', 'inherit'] });
          const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
          child.on('exit', (code) => { clearTimeout(timer); resolve(code); });
        }));
        assert.deepEqual(await Promise.all(runs), [0, 0, 0, 0]);
        const rows = await fx.exec('select name from kysely_migration');
        assert.equal(rows.length, 12);
        assert.equal((await fx.exec(`select count(*) as n from settings where name = 'winner'`))[0]!.n, fx.name === 'sqlite' ? 1 : '1');
      } finally {
        await fx.cleanup();
      }
    });
  }
});
