// /readyz means usable: a client that signs in the moment /readyz first answers 200 succeeds.
// Each round starts a server on a fresh store (so the bootstrap admin is made during that
// start), polls /readyz from the moment the process is spawned, and fires a password grant as
// admin as soon as the first 200 comes. Before the fix the HTTPS port answered ready while the
// admin's password was still being hashed (OWASP scrypt, ~0.3 s), and the sign-in failed with
// AADSTS50126; so these servers hash with the default (OWASP) parameters, not the tests' cheap ones.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { blackboxStorage, cleanEnv, ROOT, serverArgs, tempHome } from '../helpers/server-process.js';
import { AZURE_CLI_CLIENT_ID, postForm } from '../helpers/tenant-fixtures.js';
import { freePort } from '../helpers/free-port.js';

const ROUNDS = 4;
const ADMIN_PASSWORD = 'readiness check passphrase 42';

/** serverArgs with one flag's value replaced. */
function withFlag(args: string[], flag: string, value: string): string[] {
  const i = args.indexOf(flag);
  assert.ok(i >= 0, flag);
  return [...args.slice(0, i + 1), value, ...args.slice(i + 2)];
}

describe('/readyz', () => {
  it(`a sign-in fired at the first ready answer succeeds (${ROUNDS} fresh starts)`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const { home, remove } = tempHome();
      const storage = await blackboxStorage(home);
      const port = await freePort();
      let args = withFlag(serverArgs(home, storage.url), '--https-port', String(port));
      args = withFlag(args, '--password-scrypt-log-n', '17');
      const child = spawn(process.execPath, [join(ROOT, 'bin/keyhaven.js'), ...args], {
        cwd: ROOT,
        env: cleanEnv({ KEYHAVEN_ADMIN_PASSWORD: ADMIN_PASSWORD }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
      const exited = new Promise((r) => child.once('exit', r));
      try {
        const base = `https://localhost:${port}`;
        const seen: string[] = [];
        const deadline = Date.now() + 60_000;
        for (;;) {
          assert.ok(Date.now() < deadline, `no ready answer within 60 s; saw ${seen.join(', ')}\n${output}`);
          assert.equal(child.exitCode, null, `server exited:\n${output}`);
          const res = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
          if (res) {
            const body = (await res.json()) as { status: string };
            seen.push(`${res.status} ${body.status}`);
            if (res.status === 200) {
              assert.equal(body.status, 'ready');
              break;
            }
            assert.equal(res.status, 503);
            assert.equal(body.status, 'starting');
          }
          await sleep(5);
        }
        const login = await postForm(`${base}/organizations/oauth2/v2.0/token`, {
          grant_type: 'password', client_id: AZURE_CLI_CLIENT_ID, username: 'admin', password: ADMIN_PASSWORD, scope: `${base}//.default`,
        });
        assert.equal(login.status, 200, `round ${round}: sign-in right after ready (${seen.slice(-3).join(', ')}): ${JSON.stringify(login.body)}`);
        assert.equal(typeof login.body.access_token, 'string');
      } finally {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
        await storage.drop();
        remove();
      }
    }
  });
});
