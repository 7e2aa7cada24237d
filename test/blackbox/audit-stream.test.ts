// The audit stream (`auditStreamFile`) against a live server: every committed record appended
// as a JSON line with its chain MAC, in order, line for line what `keyhaven audit export`
// prints from the database; the file 0600; no password or token in it.
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createUser } from '../helpers/browser-signin.js';
import { blackboxStorage, runCli, startServerProcess, tempHome, type ServerProcess } from '../helpers/server-process.js';
import { postForm, tenantOf, userToken } from '../helpers/tenant-fixtures.js';

describe('the audit stream file', () => {
  const { home, remove } = tempHome();
  const file = join(home, 'audit-stream.jsonl');
  let storage: { url: string; drop(): Promise<void> };
  let server: ServerProcess;

  before(async () => {
    storage = await blackboxStorage(home);
    server = await startServerProcess({ home, storage: storage.url, args: ['--audit-stream-file', file] });
  });
  after(async () => {
    await server?.stop();
    await storage?.drop();
    remove();
  });

  it('holds every committed record, in order, as the database export has it', async () => {
    const t = await tenantOf(server);
    const admin = await userToken(t, 'admin', t.adminPassword);
    const password = 'Orchard-signal-harbor-66';
    await createUser(t, admin, 'sigrid', password);
    const wrong = await postForm(t.tokenUrl, { grant_type: 'password', client_id: '04b07795-8ddb-461a-bbee-02f9e1bf7b46', username: 'sigrid@keyhaven.local', password: 'Wrong-one-111', scope: `${t.url}/graph//.default` });
    assert.equal(wrong.status, 400);
    await server.stop(); // the stream is flushed and closed on shutdown
    const streamed = readFileSync(file, 'utf8');
    const exported = await runCli(['audit', 'export', '--home', home, '--storage', storage.url]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.equal(streamed, exported.stdout, 'the stream is the export, line for line');
    const lines = streamed.trim().split('\n').map((l) => JSON.parse(l) as { seq: number; action: string; mac: string });
    assert.deepEqual(lines.map((l) => l.seq), lines.map((_, i) => i + 1), 'every record, in order');
    for (const action of ['user.create', 'user.signin', 'token.issue']) assert.ok(lines.some((l) => l.action === action), action);
    assert.ok(lines.every((l) => /^[0-9a-f]{64}$/.test(l.mac) || l.mac.length > 20));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    for (const secret of [password, 'Wrong-one-111', admin, t.adminPassword]) assert.ok(!streamed.includes(secret));
  });
});
