// Benchmark: Keyhaven's LDAP front-end against OpenLDAP's slapd (Debian), loaded with the same
// users and groups, driven by the same ldapts workload at a few concurrency levels: simple binds
// per second and equality searches `(uid=userN)` per second, with p50/p99 latencies, printed
// side by side. Numbers are printed, never asserted.
//
// Run by hand (it installs nothing; slapd is not needed by the tests):
//   apt-get install -y slapd ldap-utils      # Debian's slapd; a system slapd it may start is not used
//   npx tsx bench/ldap-vs-slapd.ts
// Environment: BENCH_SECONDS (per measurement, default 5), BENCH_LDAP_USERS (default 2000),
// BENCH_LDAP_GROUPS (default 50), BENCH_LDAP_BIND_USERS (accounts the bind workload cycles
// through, each bound once before measuring: default 100), BENCH_LDAP_CONCURRENCY (default
// "1,8,32"), BENCH_PASSWORD_HASH (Keyhaven's passwordHashAlgorithm: argon2id, the shipped default
// at OWASP's m = 19 MiB, t = 2, p = 1, or scrypt), BENCH_SCRYPT_LOG_N (passwordScryptLogN, default 17).
//
// Both servers listen on 127.0.0.1 only, on ports picked here, plain LDAP (loopback binds need no
// TLS on either). slapd runs from a generated slapd.conf with the mdb backend in a temp dir, as a
// child started with `-d 0` and killed in `finally`; Keyhaven runs `keyhaven serve` (dist/, built
// first) on SQLite in a temp home. The same LDIF (inetOrgPerson + posixAccount users with {SSHA}
// passwords, groupOfNames groups) goes into slapd with slapadd and into Keyhaven with
// `keyhaven directory import-ldif`. Keyhaven re-hashes an imported password to argon2id at its first
// successful bind, so the accounts the bind workload uses are bound once on both servers first:
// the bind numbers compare slapd's {SSHA} (one SHA-1) with Keyhaven's argon2id (or scrypt) at the
// configured cost — a password-hashing cost Keyhaven pays on purpose, which dominates its bind rate.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'ldapts';

const ROOT = resolve(import.meta.dirname, '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const USERS = Number(process.env.BENCH_LDAP_USERS ?? 2000);
const GROUPS = Number(process.env.BENCH_LDAP_GROUPS ?? 50);
const BIND_USERS = Math.min(USERS - 1, Number(process.env.BENCH_LDAP_BIND_USERS ?? 100));
const CONCURRENCY = (process.env.BENCH_LDAP_CONCURRENCY ?? '1,8,32').split(',').map(Number);
const SCRYPT_LOG_N = process.env.BENCH_SCRYPT_LOG_N ?? '17';
const PASSWORD_HASH = process.env.BENCH_PASSWORD_HASH ?? 'argon2id';
const BASE = 'dc=keyhaven,dc=local';
const SLAPD = ['/usr/sbin/slapd', '/usr/sbin/slapadd'];
const SCHEMA = '/etc/ldap/schema';

const userDn = (i: number) => `uid=user${i},ou=people,${BASE}`;
const passwordOf = (i: number) => `Bench-user-${i}-Passw0rd`;

function ssha(password: string): string {
  const salt = randomBytes(8);
  return `{SSHA}${Buffer.concat([createHash('sha1').update(password).update(salt).digest(), salt]).toString('base64')}`;
}

function ldif(): string {
  const out: string[] = [
    `dn: ${BASE}\nobjectClass: top\nobjectClass: dcObject\nobjectClass: organization\ndc: keyhaven\no: Keyhaven bench\n`,
    `dn: ou=people,${BASE}\nobjectClass: organizationalUnit\nou: people\n`,
    `dn: ou=groups,${BASE}\nobjectClass: organizationalUnit\nou: groups\n`,
  ];
  for (let i = 0; i < USERS; i++) {
    out.push([
      `dn: ${userDn(i)}`, 'objectClass: top', 'objectClass: person', 'objectClass: organizationalPerson', 'objectClass: inetOrgPerson', 'objectClass: posixAccount',
      `uid: user${i}`, `cn: Bench User ${i}`, `sn: User${i}`, `givenName: Bench${i}`, `mail: user${i}@example.org`,
      `uidNumber: ${20000 + i}`, `gidNumber: ${20000 + i}`, `homeDirectory: /home/user${i}`, 'loginShell: /bin/bash',
      `userPassword: ${ssha(passwordOf(i))}`, '',
    ].join('\n'));
  }
  for (let g = 0; g < GROUPS; g++) {
    const members: string[] = [];
    for (let i = g; i < USERS; i += GROUPS) members.push(`member: ${userDn(i)}`);
    out.push([`dn: cn=group${g},ou=groups,${BASE}`, 'objectClass: top', 'objectClass: groupOfNames', `cn: group${g}`, ...members, ''].join('\n'));
  }
  return out.join('\n');
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      r();
    });
    child.kill('SIGTERM');
  });
}

async function waitForLdap(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}) before answering\n${log()}`);
    const c = new Client({ url, connectTimeout: 1000 });
    try {
      await c.search('', { scope: 'base', filter: '(objectClass=*)', attributes: ['namingContexts'] });
      await c.unbind();
      return;
    } catch {
      await c.unbind().catch(() => undefined);
      if (Date.now() > deadline) throw new Error(`${url} did not answer in time\n${log()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function startSlapd(dir: string, ldifFile: string): Promise<{ url: string; child: ChildProcess }> {
  const db = join(dir, 'db');
  mkdirSync(db);
  const conf = join(dir, 'slapd.conf');
  writeFileSync(conf, [
    ...['core', 'cosine', 'inetorgperson', 'nis'].map((s) => `include ${SCHEMA}/${s}.schema`),
    'modulepath /usr/lib/ldap',
    'moduleload back_mdb',
    `pidfile ${join(dir, 'slapd.pid')}`,
    `argsfile ${join(dir, 'slapd.args')}`,
    'loglevel 0',
    'database mdb',
    'maxsize 1073741824',
    `suffix "${BASE}"`,
    `rootdn "cn=admin,${BASE}"`,
    `rootpw ${randomBytes(12).toString('hex')}`,
    `directory ${db}`,
    'index objectClass eq',
    'index uid eq',
    'index member eq',
    // As Keyhaven: passwords only for binding, users read the directory once bound, anonymous reads nothing.
    'access to attrs=userPassword by anonymous auth by * none',
    'access to * by users read by anonymous auth',
    '',
  ].join('\n'));
  const add = spawnSync('/usr/sbin/slapadd', ['-q', '-f', conf, '-l', ldifFile], { encoding: 'utf8' });
  if (add.status !== 0) throw new Error(`slapadd failed: ${add.stderr}`);
  const port = await freePort();
  const url = `ldap://127.0.0.1:${port}`;
  let log = '';
  const child = spawn('/usr/sbin/slapd', ['-f', conf, '-h', `${url}/`, '-d', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  await waitForLdap(url, child, () => log);
  return { url, child };
}

async function startKeyhaven(home: string, ldifFile: string): Promise<{ url: string; child: ChildProcess }> {
  const storage = `sqlite:${join(home, 'keyhaven.db')}`;
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('KEYHAVEN_')) env[k] = v;
  const cli = join(ROOT, 'bin/keyhaven.js');
  const common = ['--home', home, '--storage', storage, '--password-hash-algorithm', PASSWORD_HASH, '--password-scrypt-log-n', SCRYPT_LOG_N];
  const child = spawn(process.execPath, [cli, 'serve', ...common, '--bind-address', '127.0.0.1', '--https-port', '0', '--ldap-port', '0', '--ldaps-port', '0'], {
    cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const ldapUrl = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`keyhaven did not start\n${out}\n${err}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      const line = out.split('\n').find((l) => l.includes('"msg":"listening"'));
      if (line) {
        clearTimeout(timer);
        resolveUrl((JSON.parse(line) as { ldap: string }).ldap);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`keyhaven exited (${code})\n${out}\n${err}`));
    });
  });
  const imported = spawnSync(process.execPath, [cli, 'directory', 'import-ldif', ldifFile, ...common, '-o', 'json'], { cwd: ROOT, env, encoding: 'utf8' });
  if (imported.status !== 0) throw new Error(`import-ldif failed: ${imported.stderr}${imported.stdout}`);
  const url = ldapUrl.replace('localhost', '127.0.0.1');
  await waitForLdap(url, child, () => out + err);
  return { url, child };
}

interface Result {
  ops: number;
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
  /** The first error's message, when there were any. */
  firstError?: string;
}

function summarize(latencies: number[], errors: number, seconds: number, firstError?: string): Result {
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => (latencies.length === 0 ? NaN : latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!);
  return { ops: latencies.length, perSecond: latencies.length / seconds, p50: pct(50), p99: pct(99), errors, firstError };
}

/** `concurrency` connections, each running `op` back to back for SECONDS. */
async function measure(url: string, concurrency: number, setup: (c: Client, worker: number) => Promise<void>, op: (c: Client, n: number) => Promise<void>): Promise<Result> {
  const clients = Array.from({ length: concurrency }, () => new Client({ url, timeout: 30_000 }));
  // One after another: parallel binds in flight would count against the source (see README).
  for (const [w, c] of clients.entries()) await setup(c, w);
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let n = 0;
  const started = performance.now();
  const end = Date.now() + SECONDS * 1000;
  await Promise.all(clients.map(async (c) => {
    while (Date.now() < end) {
      const i = n++;
      const t0 = performance.now();
      try {
        await op(c, i);
        latencies.push(performance.now() - t0);
      } catch (err) {
        errors++;
        firstError ??= `${(err as Error).name}: ${(err as Error).message}`;
      }
    }
  }));
  const elapsed = (performance.now() - started) / 1000;
  await Promise.all(clients.map((c) => c.unbind().catch(() => undefined)));
  return summarize(latencies, errors, elapsed, firstError);
}

async function bindWorkload(url: string, concurrency: number): Promise<Result> {
  return measure(url, concurrency, async () => undefined, async (c, n) => {
    const i = n % BIND_USERS;
    await c.bind(userDn(i), passwordOf(i));
  });
}

async function searchWorkload(url: string, concurrency: number): Promise<Result> {
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
  // Each connection binds once, as an account of its own that the bind workload does not use.
  const account = (w: number) => BIND_USERS + (w % (USERS - BIND_USERS));
  return measure(url, concurrency, async (c, w) => c.bind(userDn(account(w)), passwordOf(account(w))), async (c) => {
    const i = next() % USERS;
    const { searchEntries } = await c.search(BASE, { scope: 'sub', filter: `(uid=user${i})`, attributes: ['uid', 'cn', 'mail', 'uidNumber'] });
    if (searchEntries.length !== 1) throw new Error(`(uid=user${i}) found ${searchEntries.length}`);
  });
}

/** Every bind-workload account bound once (Keyhaven re-hashes an imported password then). */
async function warmUp(url: string): Promise<void> {
  const c = new Client({ url, timeout: 60_000 });
  for (let i = 0; i < BIND_USERS; i++) await c.bind(userDn(i), passwordOf(i));
  await c.unbind();
}

/**
 * Wall-clock time of Debian's `ldapwhoami` (a whole process: start, connect, simple bind,
 * WhoAmI extended operation, exit) with accounts the warm-up already bound — what a user typing
 * `ldapwhoami -x -D … -W` waits for. Issue 8 asks ≤ 50 ms on this machine.
 */
function whoamiTimes(url: string, runs = 20): { p50: number; max: number; failures: number } {
  const times: number[] = [];
  let failures = 0;
  for (let n = 0; n < runs; n++) {
    const i = n % BIND_USERS;
    const t0 = performance.now();
    const r = spawnSync('ldapwhoami', ['-x', '-H', url, '-D', userDn(i), '-w', passwordOf(i)], { encoding: 'utf8', timeout: 30_000 });
    times.push(performance.now() - t0);
    if (r.status !== 0) failures++;
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(times.length / 2)]!, max: times[times.length - 1]!, failures };
}

const fmt = (r: Result) => `${r.perSecond.toFixed(0).padStart(7)}/s  p50 ${r.p50.toFixed(2).padStart(7)} ms  p99 ${r.p99.toFixed(2).padStart(8)} ms${r.errors ? `  (${r.errors} errors)` : ''}`;

async function main(): Promise<void> {
  for (const f of SLAPD) {
    if (!existsSync(f)) {
      console.error(`${f} not found: install Debian's slapd first (apt-get install -y slapd)`);
      process.exitCode = 1;
      return;
    }
  }
  const build = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('building dist/ failed');
  const dir = mkdtempSync(join(tmpdir(), 'kh-bench-ldap-'));
  let slapd: ChildProcess | undefined;
  let keyhaven: ChildProcess | undefined;
  const cleanup = () => {
    for (const c of [slapd, keyhaven]) if (c && c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  };
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  try {
    const ldifFile = join(dir, 'bench.ldif');
    writeFileSync(ldifFile, ldif());
    const version = spawnSync('/usr/sbin/slapd', ['-VV'], { encoding: 'utf8' });
    console.log(`${USERS} users, ${GROUPS} groups; binds cycle over ${BIND_USERS} accounts; ${SECONDS} s per measurement; Keyhaven ${PASSWORD_HASH === 'scrypt' ? `scrypt passwordScryptLogN ${SCRYPT_LOG_N}` : 'argon2id m=19456 t=2 p=1'}, slapd {SSHA}`);
    console.log(`slapd: ${(version.stderr || version.stdout).split('\n').find((l) => l.includes('slapd')) ?? 'unknown version'}; node ${process.version}`);
    const s = await startSlapd(join(dir), ldifFile);
    slapd = s.child;
    mkdirSync(join(dir, 'keyhaven'));
    const k = await startKeyhaven(join(dir, 'keyhaven'), ldifFile);
    keyhaven = k.child;
    const servers = [{ name: 'keyhaven', url: k.url }, { name: 'slapd', url: s.url }];
    for (const srv of servers) await warmUp(srv.url);
    console.log(`\n${'workload'.padEnd(22)} ${'conc'.padStart(4)}  ${'keyhaven'.padEnd(50)} slapd`);
    for (const [name, workload] of [['search (uid=userN)', searchWorkload], ['simple bind', bindWorkload]] as const) {
      for (const concurrency of CONCURRENCY) {
        const results: Result[] = [];
        for (const srv of servers) results.push(await workload(srv.url, concurrency));
        console.log(`${name.padEnd(22)} ${String(concurrency).padStart(4)}  ${fmt(results[0]!).padEnd(50)} ${fmt(results[1]!)}`);
        for (const [i, r] of results.entries()) if (r.firstError) console.log(`    ${servers[i]!.name} first error: ${r.firstError}`);
      }
    }
    const whoami = servers.map((srv) => whoamiTimes(srv.url));
    const fmtWhoami = (w: (typeof whoami)[number]) => `p50 ${w.p50.toFixed(1)} ms  max ${w.max.toFixed(1)} ms${w.failures ? `  (${w.failures} failed)` : ''}`;
    console.log(`${'ldapwhoami (process)'.padEnd(22)} ${'1'.padStart(4)}  ${fmtWhoami(whoami[0]!).padEnd(50)} ${fmtWhoami(whoami[1]!)}`);
  } finally {
    await stopChild(keyhaven);
    await stopChild(slapd);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
