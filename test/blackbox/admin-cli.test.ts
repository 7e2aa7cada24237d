// `keyhaven admin …` and `keyhaven audit …` against a store a running server uses.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { decodeJwt } from 'jose';
import { loadConfig } from '../../src/config/load.js';
import { openCore } from '../../src/server/core.js';
import { withPgClient } from '../helpers/postgres.js';
import { blackboxStorage, runCli, startServerProcess, tempHome, type ServerProcess } from '../helpers/server-process.js';
import { createServicePrincipal, postForm, tenantOf, userToken } from '../helpers/tenant-fixtures.js';

describe('admin and audit commands', () => {
  const { home, remove } = tempHome();
  let storage: { url: string; drop(): Promise<void> };
  let server: ServerProcess;
  const store = () => ['--home', home, '--storage', storage.url];

  async function sql(statement: string): Promise<void> {
    if (storage.url.startsWith('sqlite:')) {
      const db = new BetterSqlite3(storage.url.slice('sqlite:'.length));
      db.pragma('busy_timeout = 5000');
      db.exec(statement);
      db.close();
    } else {
      await withPgClient(storage.url, async (c) => void (await c.query(statement)));
    }
  }

  async function adminPasswordVerifies(password: string, masterKeyFile = join(home, 'master.key')): Promise<boolean> {
    const { config } = loadConfig({ env: {}, flags: { home, storage: storage.url, masterKeyFile, passwordScryptLogN: 10 } });
    const core = await openCore(config, { createMasterKey: false });
    try {
      const admin = await core.storage.read.users.byUsername('admin');
      return (await core.passwords.verify(password, admin!.password_hash!)).ok;
    } finally {
      await core.close();
    }
  }

  before(async () => {
    storage = await blackboxStorage(home);
    server = await startServerProcess({ home, storage: storage.url });
  });
  after(async () => {
    await server?.stop();
    await storage?.drop();
    remove();
  });

  it('audit list shows the bootstrap and filters; audit verify passes', async () => {
    const list = await runCli(['audit', 'list', ...store(), '--action', 'user.*']);
    assert.equal(list.code, 0, list.stderr);
    const records = JSON.parse(list.stdout) as { action: string; actor: string; details: Record<string, unknown> }[];
    assert.ok(records.some((r) => r.action === 'user.create' && r.actor === 'system' && r.details.username === 'admin'));
    const table = await runCli(['audit', 'list', ...store(), '-o', 'table']);
    assert.equal(table.code, 0);
    assert.match(table.stdout, /Action/);
    const bad = await runCli(['audit', 'list', ...store(), '--since', 'yesterday-ish']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^ERROR: --since must be a date/);
    const verify = await runCli(['audit', 'verify', ...store()]);
    assert.equal(verify.code, 0, verify.stderr);
    assert.equal(JSON.parse(verify.stdout).ok, true);
  });

  it('audit list --actor takes a login name, a userPrincipalName, an object id or an appId', async () => {
    const t = await tenantOf(server);
    const token = await userToken(t, 'admin', t.adminPassword);
    // A v2 token names the user's userPrincipalName in preferred_username.
    const { oid, preferred_username: upn } = decodeJwt(token) as { oid: string; preferred_username: string };
    const sp = await createServicePrincipal(t, token, 'audit-actor-app');
    const spSignIn = await postForm(t.tokenUrl, { grant_type: 'client_credentials', client_id: sp.appId, client_secret: sp.secret, scope: `${t.url}//.default` });
    assert.equal(spSignIn.status, 200);
    const actors = async (actor: string) => {
      const r = await runCli(['audit', 'list', ...store(), '--actor', actor, '--top', '1000']);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as { actor: string; action: string }[];
    };
    // Records name the object id; every way of naming the admin finds the same records. A
    // sign-in and the token it yields are one record (token.issue, its actor the user).
    const byId = await actors(oid);
    assert.ok(byId.some((r) => r.action === 'token.issue'), JSON.stringify(byId));
    assert.ok(byId.every((r) => r.actor === oid));
    assert.deepEqual(await actors('admin'), byId);
    assert.deepEqual(await actors(upn), byId);
    assert.deepEqual(await actors(upn.toUpperCase()), byId);
    // A service principal by its appId or object id.
    const bySp = await actors(sp.servicePrincipalId);
    assert.ok(bySp.some((r) => r.action === 'token.issue'), JSON.stringify(bySp));
    assert.deepEqual(await actors(sp.appId), bySp);
    assert.ok((await actors('system')).some((r) => r.action === 'user.create'));
    // A name that is no one is an error (exit 3), not an empty list that looks like "no records".
    const none = await runCli(['audit', 'list', ...store(), '--actor', 'nobody-at-all']);
    assert.equal(none.code, 3);
    assert.equal(none.stdout, '');
    assert.match(none.stderr, /^ERROR: no user named 'nobody-at-all' in the directory[^\n]*\n$/);
  });

  it('admin reset-password sets a new password (generated, or from a file), audited', async () => {
    const initial = readFileSync(join(home, 'admin-password'), 'utf8').trim();
    assert.equal(await adminPasswordVerifies(initial), true);
    const reset = await runCli(['admin', 'reset-password', ...store(), '--password-scrypt-log-n', '10']);
    assert.equal(reset.code, 0, reset.stderr);
    const { password } = JSON.parse(reset.stdout) as { password: string };
    assert.equal(await adminPasswordVerifies(password), true);
    assert.equal(await adminPasswordVerifies(initial), false);
    const file = join(home, 'pw.txt');
    writeFileSync(file, 'chosen password 42\n', { mode: 0o600 });
    const fromFile = await runCli(['admin', 'reset-password', ...store(), '--password-file', file]);
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.ok(!fromFile.stdout.includes('chosen password 42'));
    assert.equal(await adminPasswordVerifies('chosen password 42'), true);
    const unknown = await runCli(['admin', 'reset-password', ...store(), '--username', 'ghost']);
    assert.equal(unknown.code, 3);
    assert.match(unknown.stderr, /^ERROR: user ghost does not exist\n$/);
    const list = JSON.parse((await runCli(['audit', 'list', ...store(), '--action', 'user.password.reset'])).stdout) as unknown[];
    assert.equal(list.length, 2);
    assert.ok(!JSON.stringify(list).includes('chosen password 42'));
  });

  it('rotate-master-key while the server serves; the old key is then refused with a reason', async () => {
    const newKey = join(home, 'master.key.new');
    const rotate = await runCli(['admin', 'rotate-master-key', ...store(), '--new-key-file', newKey]);
    assert.equal(rotate.code, 0, rotate.stderr);
    const result = JSON.parse(rotate.stdout) as { created: boolean; rewrappedDataKeys: number; keyId: string; previousKeyId: string };
    assert.equal(result.created, true);
    assert.ok(result.rewrappedDataKeys >= 1);
    assert.notEqual(result.keyId, result.previousKeyId);
    // The running server keeps serving.
    assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
    await server.stop();

    const old = await runCli(['audit', 'verify', ...store()]);
    assert.equal(old.code, 1);
    assert.match(old.stderr, /^ERROR: master key .* was replaced by key [0-9a-f]{16} on .*: install the new master key file/);
    server = await startServerProcess({ home, storage: storage.url, args: ['--master-key-file', newKey] });
    assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
    const verify = await runCli(['audit', 'verify', ...store(), '--master-key-file', newKey]);
    assert.equal(JSON.parse(verify.stdout).ok, true, verify.stdout);
    // Data sealed under the old KEK (the admin's password hash sits beside sealed server keys) is intact.
    assert.equal(await adminPasswordVerifies('chosen password 42', newKey), true);
  });

  it('audit verify names the first edited record and exits 1', async () => {
    const newKey = join(home, 'master.key.new');
    await sql(`update audit_records set actor = 'mallory' where seq = 2`);
    const verify = await runCli(['audit', 'verify', ...store(), '--master-key-file', newKey]);
    assert.equal(verify.code, 1);
    assert.equal(JSON.parse(verify.stdout).firstBad.seq, 2);
    assert.match(verify.stderr, /^ERROR: audit log verification failed: record 2 was altered/);
  });
});
