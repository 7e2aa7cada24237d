// `keyhaven serve` end to end: first start on a fresh home, TLS with the generated CA, the
// bootstrap admin, a second start reusing everything, a clean SIGTERM.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { blackboxStorage, startServerProcess, tempHome, type ServerProcess } from '../helpers/server-process.js';

const exec = promisify(execFile);
const mode = (p: string) => statSync(p).mode & 0o777;
const logLines = (text: string) => text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('keyhaven serve', () => {
  const { home, remove } = tempHome();
  let storage: { url: string; drop(): Promise<void> };
  let first: ServerProcess;

  before(async () => {
    storage = await blackboxStorage(home);
    // The server generates its own CA here (as `npm start` does), no test CA.
    first = await startServerProcess({ home, storage: storage.url, testCa: false });
  });
  after(async () => {
    await first?.stop();
    await storage?.drop();
    remove();
  });

  it('serves /readyz and /healthz over TLS verified with the generated CA (curl --cacert)', async () => {
    const ca = join(home, 'tls', 'ca.pem');
    const { stdout } = await exec('curl', ['-sS', '--fail', '--cacert', ca, `https://localhost:${first.port}/readyz`]);
    assert.equal(JSON.parse(stdout).status, 'ready');
    const health = await exec('curl', ['-sS', '--fail', '--cacert', ca, `https://127.0.0.1:${first.port}/healthz`]);
    assert.equal(JSON.parse(health.stdout).status, 'ok');
    // Without the CA the handshake is refused: verification is on.
    await assert.rejects(exec('curl', ['-sS', '--fail', `https://localhost:${first.port}/healthz`]));
  });

  it('keeps state in a 0700 home with 0600 keys', () => {
    assert.equal(mode(home), 0o700);
    assert.equal(mode(join(home, 'master.key')), 0o600);
    assert.equal(mode(join(home, 'tls', 'ca-key.pem')), 0o600);
    assert.equal(mode(join(home, 'tls', 'server-key.pem')), 0o600);
    assert.equal(mode(join(home, 'admin-password')), 0o600);
    if (storage.url.startsWith('sqlite:')) {
      assert.equal(mode(join(home, 'keyhaven.db')), 0o600);
      assert.equal(mode(join(home, 'keyhaven.db-wal')), 0o600);
    }
  });

  it('shows a generated admin password once on the terminal, never in the structured log', () => {
    const password = readFileSync(join(home, 'admin-password'), 'utf8').trim();
    assert.ok(password.length >= 24);
    assert.ok(first.stderr().includes(password), 'password shown on stderr');
    assert.ok(!first.stdout().includes(password), 'password never in the JSON log');
  });

  it('answers unknown paths with a JSON error and a request id', async () => {
    const ca = join(home, 'tls', 'ca.pem');
    // A health probe first: it is logged at debug, so its line never shows in an info log.
    await exec('curl', ['-sS', '--cacert', ca, '-H', 'x-ms-client-request-id: probe-1', `https://localhost:${first.port}/readyz`]);
    const { stdout } = await exec('curl', ['-sS', '-i', '--cacert', ca, '-H', 'x-ms-client-request-id: req-123', `https://localhost:${first.port}/nope?client_secret=abc`]);
    const [head, body] = stdout.split('\r\n\r\n') as [string, string];
    assert.match(head, /^HTTP\/1.1 404/);
    assert.match(head, /\r\nx-ms-request-id: req-123\r\n/i);
    assert.equal((JSON.parse(body) as { error: { code: string } }).error.code, 'KH_NO_SUCH_PATH');
    assert.ok(!first.stdout().includes('client_secret=abc'), 'query secrets are redacted in request logs');
    // One line per request: face, route, request, status and time (written as the answer goes out).
    const byId = (id: string) => logLines(first.stdout()).filter((l) => (l.req as { id?: string } | undefined)?.id === id);
    for (let i = 0; i < 100 && byId('req-123').length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    const lines = byId('req-123');
    assert.equal(lines.length, 1, JSON.stringify(lines));
    const line = lines[0] as { msg: string; face: string; route: string; req: { url: string; method: string }; res: { statusCode: number }; responseTime: number };
    assert.equal(line.msg, 'request');
    assert.equal(line.face, 'other');
    assert.equal(line.route, 'unmatched');
    assert.match(line.req.url, /^\/nope\?client_secret=/);
    assert.equal(line.res.statusCode, 404);
    assert.equal(typeof line.responseTime, 'number');
    assert.equal(byId('probe-1').length, 0, 'the earlier health probe is not logged at info');
  });

  it('a second start reuses tenant, keys, certificates and data; SIGTERM stops cleanly', async () => {
    const tenant1 = logLines(first.stdout()).find((l) => l.msg === 'listening')!.tenantId;
    const files = ['master.key', 'tls/ca.pem', 'tls/server.pem', 'admin-password'].map((f) => readFileSync(join(home, f), 'utf8'));
    const exit = await first.stop();
    assert.equal(exit.code, 0);
    assert.ok(logLines(first.stdout()).some((l) => l.msg === 'stopped'));

    const second = await startServerProcess({ home, storage: storage.url, testCa: false, env: { KEYHAVEN_ADMIN_PASSWORD: 'a-different-password-123' } });
    try {
      const tenant2 = logLines(second.stdout()).find((l) => l.msg === 'listening')!.tenantId;
      assert.equal(tenant2, tenant1);
      const again = ['master.key', 'tls/ca.pem', 'tls/server.pem', 'admin-password'].map((f) => readFileSync(join(home, f), 'utf8'));
      assert.deepEqual(again, files);
      assert.ok(!second.stderr().includes('password:'), 'no new password shown');
      // A different configured admin password is not applied silently: the log says so.
      assert.ok(logLines(second.stdout()).some((l) => l.level === 40 && /differs/.test(String(l.msg))));
      assert.ok(!second.stdout().includes('a-different-password-123'));
      const { stdout } = await exec('curl', ['-sS', '--fail', '--cacert', join(home, 'tls', 'ca.pem'), `https://localhost:${second.port}/readyz`]);
      assert.equal(JSON.parse(stdout).status, 'ready');
    } finally {
      assert.equal((await second.stop()).code, 0);
    }
  });
});
