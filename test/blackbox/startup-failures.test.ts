// Starts that must fail: each exits non-zero with one `ERROR:` line on stderr, and leaves
// nothing behind that a corrected start would trip over.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ROOT, runCli, serverArgs, startServerProcess, tempHome, TEST_CA_CERT, TEST_CA_KEY } from '../helpers/server-process.js';

function assertOneLineError(result: { code: number | null; stderr: string; stdout: string }, pattern: RegExp): void {
  assert.notEqual(result.code, 0, 'exit code');
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${result.stderr}`);
  assert.match(lines[0]!, /^ERROR: /);
  assert.match(lines[0]!, pattern);
}

const homes: (() => void)[] = [];
after(() => homes.forEach((r) => r()));
function home(): string {
  const h = tempHome();
  homes.push(h.remove);
  return h.home;
}

/**
 * What `node bin/keyhaven.js` reads, staged in `dir` (world-readable): bin/, dist/, data/,
 * package.json, and node_modules as hard links (no copy of the 170 MB; a copy where the
 * links cannot be made, e.g. across file systems).
 */
function stageProgram(dir: string): string {
  mkdirSync(dir, { mode: 0o755 });
  for (const part of ['bin', 'dist', 'data', 'package.json']) cpSync(join(ROOT, part), join(dir, part), { recursive: true });
  const modules = realpathSync(join(ROOT, 'node_modules'));
  try {
    execFileSync('cp', ['-al', modules, join(dir, 'node_modules')]);
  } catch {
    rmSync(join(dir, 'node_modules'), { recursive: true, force: true });
    cpSync(modules, join(dir, 'node_modules'), { recursive: true });
  }
  // The copies may be opened to all; the linked files are the checkout's own (never chmod a
  // shared inode), only the new directories above them are.
  for (const part of ['bin', 'dist', 'data', 'package.json']) execFileSync('chmod', ['-R', 'a+rX', join(dir, part)]);
  execFileSync('find', [join(dir, 'node_modules'), '-type', 'd', '-exec', 'chmod', 'a+rx', '{}', '+']);
  return dir;
}

async function startsFine(dir: string, extra: string[] = []): Promise<void> {
  const server = await startServerProcess({ home: join(dir), args: extra });
  const res = await fetch(`${server.url}/readyz`);
  assert.equal(res.status, 200);
  assert.equal((await server.stop()).code, 0);
}

describe('start failures', () => {
  it('a corrupted master key', async () => {
    const dir = home();
    await startsFine(dir);
    const keyFile = join(dir, 'master.key');
    const good = readFileSync(keyFile);
    writeFileSync(keyFile, 'not a key\n');
    const result = await runCli(serverArgs(dir, `sqlite:${join(dir, 'keyhaven.db')}`));
    assertOneLineError(result, /master key file .* is corrupt/);
    writeFileSync(keyFile, good);
    await startsFine(dir);
  });

  it('a wrong master key', async () => {
    const dir = home();
    await startsFine(dir);
    const other = join(dir, 'other.key');
    writeFileSync(other, Buffer.alloc(32, 7).toString('base64') + '\n', { mode: 0o600 });
    const result = await runCli([...serverArgs(dir, `sqlite:${join(dir, 'keyhaven.db')}`), '--master-key-file', other]);
    assertOneLineError(result, /is not the key this database is wrapped under/);
    await startsFine(dir);
  });

  it('a missing master key for an existing database', async () => {
    const dir = home();
    await startsFine(dir);
    const result = await runCli([...serverArgs(dir, `sqlite:${join(dir, 'keyhaven.db')}`), '--master-key-file', join(dir, 'gone.key')]);
    assertOneLineError(result, /does not exist \(this database is wrapped under key id [0-9a-f]{16}\)/);
  });

  it('a regular file where the home directory should be', async () => {
    const parent = home();
    const dir = join(parent, 'khome');
    writeFileSync(dir, 'in the way');
    const result = await runCli(serverArgs(dir, `sqlite:${join(dir, 'keyhaven.db')}`));
    assertOneLineError(result, /is not a directory/);
    rmSync(dir);
    await startsFine(dir);
  });

  it('a home directory this user cannot write (run as nobody)', async (t) => {
    if (process.getuid?.() !== 0) return t.skip('needs root to switch to an unprivileged user');
    const parent = home();
    chmodSync(parent, 0o755);
    // nobody runs a copy of the program it can read: the checkout may sit under a directory
    // nobody cannot enter (a `mktemp -d` clone is 0700).
    const root = stageProgram(join(parent, 'keyhaven'));
    const dir = join(parent, 'readonly-home');
    mkdirSync(dir, { mode: 0o755 }); // owned by root: nobody may not write
    const nobody = Number(execFileSync('id', ['-u', 'nobody']).toString().trim());
    const nogroup = Number(execFileSync('id', ['-g', 'nobody']).toString().trim());
    // The test CA must be readable by nobody: copy it into a place it can read.
    const caDir = join(parent, 'ca');
    mkdirSync(caDir, { mode: 0o755 });
    writeFileSync(join(caDir, 'ca.pem'), readFileSync(TEST_CA_CERT), { mode: 0o644 });
    writeFileSync(join(caDir, 'ca-key.pem'), readFileSync(TEST_CA_KEY), { mode: 0o600 });
    chownSync(join(caDir, 'ca-key.pem'), nobody, nogroup);
    const args = serverArgs(dir, `sqlite:${join(dir, 'keyhaven.db')}`, false);
    args.push('--tls-ca-cert-file', join(caDir, 'ca.pem'), '--tls-ca-key-file', join(caDir, 'ca-key.pem'));
    const result = await runCli(args, { uid: nobody, gid: nogroup, env: { HOME: parent }, root });
    assertOneLineError(result, /not writable by this user/);
    // Corrected: the directory handed to that user.
    chownSync(dir, nobody, nogroup);
    const fixed = await runCli([...args, '--https-port', '1'], { uid: nobody, gid: nogroup, env: { HOME: parent }, root });
    // Port 1 is privileged: the start gets past the home check and fails only at listen.
    assertOneLineError(fixed, /HTTPS port 1 on 127.0.0.1 needs privileges/);
  });

  it('a taken port', async () => {
    const dir = home();
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const result = await runCli([...serverArgs(dir, `sqlite:${join(dir, 'keyhaven.db')}`), '--https-port', String(port)]);
      assertOneLineError(result, new RegExp(`HTTPS port ${port} on 127.0.0.1 is already in use`));
    } finally {
      await new Promise((r) => blocker.close(r));
    }
    await startsFine(dir);
  });

  it('an unknown option, on the command line and in the config file', async () => {
    const dir = home();
    const flag = await runCli([...serverArgs(dir, `sqlite:${join(dir, 'keyhaven.db')}`), '--no-such-option', 'x']);
    assert.equal(flag.code, 2);
    assertOneLineError(flag, /unknown option '--no-such-option'/);
    const cfg = join(dir, 'config.yaml');
    writeFileSync(cfg, 'httpsPrt: 9999\n');
    const file = await runCli([...serverArgs(dir, `sqlite:${join(dir, 'keyhaven.db')}`), '--config', cfg]);
    assertOneLineError(file, /unknown option httpsPrt in config file/);
    const bad = await runCli([...serverArgs(dir, `sqlite:${join(dir, 'keyhaven.db')}`), '--https-port', 'many']);
    assertOneLineError(bad, /invalid option httpsPort \(flag --https-port\): must be an integer/);
    await startsFine(dir);
  });
});
