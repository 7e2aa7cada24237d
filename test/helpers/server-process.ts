// Starts the real server as a child process (`keyhaven serve` from the sources through tsx)
// on 127.0.0.1 with an ephemeral port, the test CA, and cheap argon2id and scrypt parameters; waits for
// its "listening" log line with a timeout; stops it with SIGTERM (SIGKILL after a timeout).
// Black-box suites run on SQLite, or on PostgreSQL when KEYHAVEN_TEST_STORAGE=postgres.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createTestDatabase, type TestDatabase } from './postgres.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const TEST_CA_DIR = process.env.KEYHAVEN_TEST_CA_DIR ?? join(ROOT, '.test-ca');
export const TEST_CA_CERT = join(TEST_CA_DIR, 'ca.pem');
export const TEST_CA_KEY = join(TEST_CA_DIR, 'ca-key.pem');
// The built binary (scripts/run-tests.mjs builds dist/ first): what users run, and it starts in
// well under the time a TypeScript loader takes per process.
const CLI = join(ROOT, 'bin/keyhaven.js');

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServerProcess {
  url: string;
  port: number;
  /** The LDAP (StartTLS) and LDAPS ports, read from the "listening" line. */
  ldapPort: number;
  ldapsPort: number;
  home: string;
  storage: string;
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<Exit>;
  stop(): Promise<Exit>;
}

/** Environment for children: the parent's, minus any KEYHAVEN_* that would leak into the server under test. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('KEYHAVEN_')) env[k] = v;
  return { ...env, ...extra };
}

export interface StartOptions {
  home?: string;
  storage?: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Use the test CA (default) rather than letting the server generate one. */
  testCa?: boolean;
}

/** Runs the CLI to completion (for admin/audit commands and failed starts). */
export function runCli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; uid?: number; gid?: number; /** Another copy of the checkout (one another user can read). */ root?: string } = {},
): Promise<Exit & { stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const env = cleanEnv(options.env);
    // Another user cannot read the test CA under this checkout; node would warn about it.
    if (options.uid !== undefined) delete env.NODE_EXTRA_CA_CERTS;
    const root = options.root ?? ROOT;
    const child = spawn(process.execPath, [join(root, 'bin/keyhaven.js'), ...args], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      uid: options.uid,
      gid: options.gid,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`keyhaven ${args.join(' ')} did not finish in time\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

export function serverArgs(home: string, storage: string, testCa = true): string[] {
  return [
    'serve',
    '--home', home,
    '--storage', storage,
    '--bind-address', '127.0.0.1',
    '--https-port', '0',
    '--ldap-port', '0',
    '--ldaps-port', '0',
    '--password-scrypt-log-n', '10',
    '--password-argon2-memory-kib', '1024',
    '--password-argon2-time-cost', '1',
    // The embedded metadata agent would take port 50342 in every test server: off unless a test turns it on.
    '--agent-enabled', 'false',
    ...(testCa ? ['--tls-ca-cert-file', TEST_CA_CERT, '--tls-ca-key-file', TEST_CA_KEY] : []),
  ];
}

export async function startServerProcess(options: StartOptions = {}): Promise<ServerProcess> {
  const home = options.home ?? mkdtempSync(join(tmpdir(), 'kh-home-'));
  const storage = options.storage ?? `sqlite:${join(home, 'keyhaven.db')}`;
  const child = spawn(process.execPath, [CLI, ...serverArgs(home, storage, options.testCa ?? true), ...(options.args ?? [])], {
    cwd: ROOT,
    env: cleanEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const exited = new Promise<Exit>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  const listening = await new Promise<{ publicUrl: string; ldap: string; ldaps: string }>((resolveUrl, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start in time\nstdout: ${out}\nstderr: ${err}`));
    }, options.timeoutMs ?? 60_000);
    let listening = false;
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      // Scan for the line only until it has come: under load the log grows large.
      if (listening) return;
      const line = out.split('\n').find((l) => l.includes('"msg":"listening"') && l.endsWith('}'));
      if (line) {
        listening = true;
        clearTimeout(timer);
        // The public URL (issuer, audiences) names localhost; 127.0.0.1 would be another audience.
        resolveUrl(JSON.parse(line) as { publicUrl: string; ldap: string; ldaps: string });
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d));
    void exited.then((e) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${e.code ?? e.signal}) before listening\nstdout: ${out}\nstderr: ${err}`));
    });
  });
  const stop = async (): Promise<Exit> => {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const e = await exited;
    clearTimeout(timer);
    return e;
  };
  const url = listening.publicUrl;
  return {
    url,
    port: Number(new URL(url).port),
    ldapPort: Number(new URL(listening.ldap).port),
    ldapsPort: Number(new URL(listening.ldaps).port),
    home, storage, child, stdout: () => out, stderr: () => err, exited, stop };
}

/** Storage for a black-box suite: a SQLite file in `home`, or a fresh PostgreSQL database. */
export async function blackboxStorage(home: string): Promise<{ url: string; drop(): Promise<void> }> {
  if (process.env.KEYHAVEN_TEST_STORAGE === 'postgres') {
    const db: TestDatabase = await createTestDatabase();
    return { url: db.url, drop: () => db.drop() };
  }
  return { url: `sqlite:${join(home, 'keyhaven.db')}`, drop: async () => undefined };
}

export function tempHome(): { home: string; remove(): void } {
  const home = mkdtempSync(join(tmpdir(), 'kh-home-'));
  return { home, remove: () => rmSync(home, { recursive: true, force: true }) };
}
