// Benchmark: client_credentials token issuance against the real server, at 1, 16 and 100
// concurrent clients over keep-alive HTTPS, beside the raw RS256 signing rate of the same
// machine measured in the same run. Where issuance falls below 70% of that rate, the server is
// run again under `node --cpu-prof` and the profile says what bounds it. Run by hand
// (`npm run bench`, or `npx tsx bench/token-issuance.ts`); numbers are printed, never asserted.
//
//   BENCH_SECONDS       seconds per concurrency level (default 5; a short warm-up comes first)
//   BENCH_PROFILE_OUT   keep the server's .cpuprofile at this path (for Chrome DevTools)
//
// What one request costs the server (src/tokens/token-service.ts): the form is parsed, the
// client secret is checked against its HMAC-SHA-256 digests (three indexed reads), the sign-in
// is audited and awaited (group commit), the token is signed RS256 by jose through WebCrypto
// (which runs on libuv's thread pool, off the main thread), and the issuance is audited and
// awaited before the answer leaves. The server logs at its default level (info).
//
// The server is the built binary (bin/keyhaven.js → dist/, built here first from the working
// tree), started by startServerProcess as the black-box tests start it; for the profile it is
// started again on the same database with node's --cpu-prof. Both are stopped in finally blocks.
//
// The server trusts the test CA (.test-ca/, made here if missing) and so does this process:
// the load generator's HTTPS agent is given that CA, and the directory helpers (fetch) see it
// through NODE_EXTRA_CA_CERTS, which Node reads only at start, so this script re-runs itself
// with it set. TLS is verified throughout.
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, fdatasyncSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync, sign, webcrypto, type KeyObject } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose';
import { cleanEnv, ROOT, serverArgs, startServerProcess, tempHome, TEST_CA_CERT, type Exit, type ServerProcess } from '../test/helpers/server-process.js';
import { createServicePrincipal, tenantOf, userToken, type Tenant } from '../test/helpers/tenant-fixtures.js';
import { GC, IDLE, PROGRAM, readProfile, SQL_TRANSACTION, STORAGE_CATEGORIES, summarize, type CpuProfile, type ProfileSummary } from './cpu-profile.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WARM_SECONDS = Math.min(1, SECONDS / 5);
const CONCURRENCY = [1, 16, 100];
const SCOPE = 'https://management.azure.com//.default';
const THRESHOLD = 0.7;
const REQUEST_TIMEOUT_MS = 30_000;
const RUN_TIMEOUT_MS = 15 * 60_000;
// The built binary, as startServerProcess runs it: dist/ is built from these sources first.
const BIN = join(ROOT, 'bin/keyhaven.js');
const CORES = availableParallelism();

// -- The test CA, and a process that trusts it ---------------------------------------------

if (!existsSync(TEST_CA_CERT)) {
  const made = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/make-test-ca.ts'], { cwd: ROOT, stdio: 'inherit', timeout: 120_000 });
  if (made.status !== 0) throw new Error('could not create the test CA (scripts/make-test-ca.ts)');
}

async function rerunTrustingTestCa(): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, NODE_EXTRA_CA_CERTS: TEST_CA_CERT },
  });
  const forward = (signal: NodeJS.Signals) => child.kill(signal); // the child stops its servers
  process.on('SIGINT', forward).on('SIGTERM', forward);
  const timer = setTimeout(() => child.kill('SIGTERM'), RUN_TIMEOUT_MS);
  const code = await new Promise<number>((resolve) => child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0))));
  clearTimeout(timer);
  process.off('SIGINT', forward).off('SIGTERM', forward);
  return code;
}

// -- Measurements of the machine ------------------------------------------------------------

/** RS256 as the server does it, minus everything else: node:crypto sign, one thread, back to back. */
function rawSignRate(input: Buffer, key: KeyObject, seconds: number): number {
  for (let i = 0; i < 50; i++) sign('sha256', input, key);
  let n = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 10; i++) sign('sha256', input, key);
    n += 10;
  }
  return n / ((performance.now() - t0) / 1000);
}

/** The same signature through WebCrypto (jose's path) with 16 in flight: libuv's thread pool on every core. */
async function threadPoolSignRate(input: Buffer, key: KeyObject, seconds: number): Promise<number> {
  const cryptoKey = await webcrypto.subtle.importKey('pkcs8', key.export({ format: 'der', type: 'pkcs8' }), { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']);
  const once = () => webcrypto.subtle.sign('RSASSA-PKCS1-v1_5', cryptoKey, input);
  await Promise.all(Array.from({ length: 16 }, once));
  let n = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  while (performance.now() < end) {
    await Promise.all(Array.from({ length: 16 }, once));
    n += 16;
  }
  return n / ((performance.now() - t0) / 1000);
}

/** What one durable commit costs on this disk: 4 KiB appended and fdatasync'd, in the server's home. */
function fsyncLatency(dir: string, seconds: number): { p50: number; p99: number } {
  const file = join(dir, 'bench-fsync.tmp');
  const fd = openSync(file, 'w');
  const block = Buffer.alloc(4096, 1);
  const times: number[] = [];
  try {
    const end = performance.now() + seconds * 1000;
    while (performance.now() < end) {
      const t0 = performance.now();
      writeSync(fd, block);
      fdatasyncSync(fd);
      times.push(performance.now() - t0);
    }
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

function percentile(sorted: ArrayLike<number>, p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

// -- CPU accounting from /proc (Linux) ------------------------------------------------------

const HZ = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds of a process: all threads, and its main thread alone (the event loop). */
function processCpu(pid: number): { total: number; main: number } | undefined {
  const seconds = (path: string) => {
    const stat = readFileSync(path, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / HZ; // utime + stime
  };
  try {
    return { total: seconds(`/proc/${pid}/stat`), main: seconds(`/proc/${pid}/task/${pid}/stat`) };
  } catch {
    return undefined;
  }
}

/** CPU seconds of the whole machine from /proc/stat: busy (user, nice, system, irq, softirq, steal), and all. */
function machineCpu(): { busy: number; all: number } | undefined {
  try {
    const [, ...v] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
    const [user, nice, system, idle, iowait, irq, softirq, steal] = v.map(Number) as number[];
    const busy = user! + nice! + system! + irq! + softirq! + steal!;
    return { busy: busy / HZ, all: (busy + idle! + iowait!) / HZ };
  } catch {
    return undefined;
  }
}

// -- The load generator ---------------------------------------------------------------------

interface Target {
  host: string;
  port: number;
  path: string;
  body: Buffer;
}

function issue(agent: Agent, t: Target): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: t.host,
        port: t.port,
        path: t.path,
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': t.body.length },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error('request timed out')));
    req.end(t.body);
  });
}

interface Drive {
  ok: number;
  non200: Map<number, number>;
  errors: number;
  firstError?: unknown;
  latencies: number[];
}

/** `concurrency` clients, each sending its next request when the previous answer is in, for `ms`. */
async function drive(agent: Agent, t: Target, concurrency: number, ms: number): Promise<Drive> {
  const result: Drive = { ok: 0, non200: new Map(), errors: 0, latencies: [] };
  const end = performance.now() + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        try {
          const status = await issue(agent, t);
          if (status === 200) {
            result.ok++;
            result.latencies.push(performance.now() - t0);
          } else {
            result.non200.set(status, (result.non200.get(status) ?? 0) + 1);
          }
        } catch (err) {
          result.errors++;
          result.firstError ??= err;
          await new Promise((r) => setTimeout(r, 10)); // a dead server must not spin this loop
        }
      }
    }),
  );
  return result;
}

interface Phase {
  concurrency: number;
  seconds: number;
  rate: number;
  p50: number;
  p99: number;
  ok: number;
  non200: number;
  non200ByStatus: Map<number, number>;
  errors: number;
  firstError?: unknown;
  /** Cores busy on average: the server (all threads; main thread alone), and this process. */
  serverCores?: number;
  serverMainCores?: number;
  loadCores: number;
  /** Cores busy machine-wide (every process), and those of processes other than the server and this one. */
  machineCores?: number;
  otherCores?: number;
  /** The measured window on the monotonic clock, in microseconds (V8 profiles use it too). */
  windowUs: { fromUs: number; toUs: number };
}

const CA = readFileSync(TEST_CA_CERT);

async function runPhase(t: Target, concurrency: number, serverPid: number): Promise<Phase> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency, ca: CA });
  try {
    await drive(agent, t, concurrency, WARM_SECONDS * 1000); // connections, TLS handshakes, JIT
    const cpu0 = process.cpuUsage();
    const srv0 = processCpu(serverPid);
    const m0 = machineCpu();
    const fromUs = Number(process.hrtime.bigint() / 1000n);
    const t0 = performance.now();
    const d = await drive(agent, t, concurrency, SECONDS * 1000);
    const elapsed = (performance.now() - t0) / 1000;
    const toUs = Number(process.hrtime.bigint() / 1000n);
    const srv1 = processCpu(serverPid);
    const m1 = machineCpu();
    const cpu1 = process.cpuUsage(cpu0);
    const lat = Float64Array.from(d.latencies).sort();
    const non200 = [...d.non200.values()].reduce((a, b) => a + b, 0);
    const serverCores = srv0 && srv1 ? (srv1.total - srv0.total) / elapsed : undefined;
    const loadCores = (cpu1.user + cpu1.system) / 1e6 / elapsed;
    const machineCores = m0 && m1 ? ((m1.busy - m0.busy) / (m1.all - m0.all)) * CORES : undefined;
    return {
      concurrency,
      seconds: elapsed,
      rate: d.ok / elapsed,
      p50: percentile(lat, 50),
      p99: percentile(lat, 99),
      ok: d.ok,
      non200,
      non200ByStatus: d.non200,
      errors: d.errors,
      firstError: d.firstError,
      serverCores,
      serverMainCores: srv0 && srv1 ? (srv1.main - srv0.main) / elapsed : undefined,
      loadCores,
      machineCores,
      otherCores: machineCores === undefined ? undefined : Math.max(0, machineCores - (serverCores ?? 0) - loadCores),
      windowUs: { fromUs, toUs },
    };
  } finally {
    agent.destroy();
  }
}

// -- The server, and a client to issue tokens to --------------------------------------------

interface Server {
  url: string;
  pid: number;
  stop(): Promise<Exit>;
  logBytes(): number;
}

/** Servers started and not yet stopped: an interrupted benchmark stops them before it exits. */
const running = new Set<Server>();

function stopServersOnSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void Promise.all([...running].map((s) => s.stop())).finally(() => process.exit(130));
    });
  }
}

/** The server as the black-box tests start it (startServerProcess), its log drained without being kept. */
async function startMeasuredServer(home: string): Promise<Server & { process: ServerProcess }> {
  const proc = await startServerProcess({ home });
  let bytes = 0;
  const server = { url: proc.url, pid: proc.child.pid!, process: proc, logBytes: () => bytes, stop: () => proc.stop() };
  running.add(server);
  // The helper keeps all of stdout and rescans it per chunk: fine for a test, quadratic for
  // a benchmark that makes the server log two lines per request. Count the bytes instead.
  proc.child.stdout?.removeAllListeners('data');
  proc.child.stdout?.on('data', (d: Buffer) => (bytes += d.length));
  return server;
}

/** The same server under `node --cpu-prof`: startServerProcess cannot add node flags (NODE_OPTIONS refuses --cpu-prof). */
async function startProfiledServer(home: string, storage: string, profileDir: string): Promise<Server> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--cpu-prof', '--cpu-prof-dir', profileDir, BIN, ...serverArgs(home, storage)],
    { cwd: ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<Exit>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  let head = '';
  let err = '';
  let bytes = 0;
  const stop = async (): Promise<Exit> => {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    child.kill('SIGTERM'); // a clean exit, so that node writes the profile
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const e = await exited;
    clearTimeout(timer);
    return e;
  };
  child.stderr!.on('data', (d: Buffer) => (err += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`profiled server did not start in time\nstderr: ${err}`));
    }, 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      bytes += d.length;
      if (head.length < 1_000_000 && !head.includes('"msg":"listening"')) {
        head += d;
        const line = head.split('\n').find((l) => l.includes('"msg":"listening"'));
        if (line) {
          clearTimeout(timer);
          resolve((JSON.parse(line) as { https: string }).https);
        }
      }
    });
    void exited.then((e) => {
      clearTimeout(timer);
      reject(new Error(`profiled server exited (${e.code ?? e.signal}) before listening\nstderr: ${err}`));
    });
  });
  const server = { url, pid: child.pid!, stop, logBytes: () => bytes };
  running.add(server);
  return server;
}

async function stopServer(server: Server): Promise<Exit> {
  try {
    return await server.stop();
  } finally {
    running.delete(server);
  }
}

interface Client {
  tenant: Tenant;
  appId: string;
  secret: string;
  via: string;
}

/** An application, its service principal and a client secret, made by the admin through the Graph-shaped API. */
async function createClient(server: ServerProcess): Promise<Client> {
  const tenant = await tenantOf(server);
  const admin = await userToken(tenant, 'admin', tenant.adminPassword);
  const sp = await createServicePrincipal(tenant, admin, 'bench-token-issuance');
  return { tenant, appId: sp.appId, secret: sp.secret, via: 'the Graph-shaped API (POST /v1.0/applications, /v1.0/servicePrincipals, addPassword)' };
}

/** One token, checked the way a resource would: RS256 against the JWKS. Returns its JWS signing input. */
async function checkOneToken(client: Client, t: Target): Promise<{ signingInput: Buffer; aud: string; bytes: number }> {
  const res = await fetch(client.tenant.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: t.body,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const body = (await res.json()) as { access_token?: string };
  if (res.status !== 200 || !body.access_token) throw new Error(`token request failed: ${res.status} ${JSON.stringify(body)}`);
  const keys = await fetch(`${client.tenant.url}/${client.tenant.tenantId}/discovery/v2.0/keys`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const jwks = (await keys.json()) as JSONWebKeySet;
  await jwtVerify(body.access_token, createLocalJWKSet(jwks), { algorithms: ['RS256'] });
  const token = body.access_token;
  return { signingInput: Buffer.from(token.slice(0, token.lastIndexOf('.'))), aud: String(decodeJwt(token).aud), bytes: token.length };
}

// -- The report -----------------------------------------------------------------------------

const f0 = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? '-' : n.toFixed(0));
const f1 = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? '-' : n.toFixed(1));
const f2 = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? '-' : n.toFixed(2));
const pct = (n: number) => `${(n * 100).toFixed(0)}%`;

function printPhases(phases: Phase[], raw: number): void {
  console.log('clients   req/s    p50 ms   p99 ms   non-200  errors   vs raw RS256   CPU cores: server (main thread) + load generator + other processes');
  for (const p of phases) {
    console.log(
      `${String(p.concurrency).padStart(7)}  ${f0(p.rate).padStart(6)}  ${f2(p.p50).padStart(8)} ${f2(p.p99).padStart(8)}  ${String(p.non200).padStart(7)}  ${String(p.errors).padStart(6)}   ` +
        `${pct(p.rate / raw).padStart(6)}${p.rate / raw < THRESHOLD ? ' (<70%)' : '       '}   ` +
        `${f2(p.serverCores)} (${f2(p.serverMainCores)}) + ${f2(p.loadCores)} + ${f2(p.otherCores)} = ${f2(p.machineCores)} of ${CORES}`,
    );
    for (const [status, n] of p.non200ByStatus) console.log(`         ${n} answers with status ${status}`);
    if (p.firstError) console.log(`         first error: ${String((p.firstError as Error).message ?? p.firstError)}`);
  }
}

function printProfile(profiled: { phase: Phase; summary: ProfileSummary }[]): void {
  const categories = new Map<string, number>();
  for (const { summary } of profiled) for (const [c, us] of summary.byCategory) categories.set(c, Math.max(categories.get(c) ?? 0, us / summary.totalUs));
  const order = [...categories.entries()].sort((a, b) => b[1] - a[1]).map(([c]) => c);
  const header = profiled.map(({ phase }) => `c=${phase.concurrency}`.padStart(7)).join('');
  console.log(`share of the server's main-thread time (wall clock, profiled) ${header}`);
  for (const c of order) {
    const cells = profiled.map(({ summary }) => pct((summary.byCategory.get(c) ?? 0) / summary.totalUs).padStart(7)).join('');
    console.log(`  ${c.padEnd(61)}${cells}`);
  }
  const busiest = profiled.reduce((a, b) => (b.phase.rate > a.phase.rate ? b : a));
  console.log(`top 10 functions by self time at c=${busiest.phase.concurrency} (idle left out):`);
  const total = busiest.summary.totalUs;
  for (const fn of busiest.summary.topFunctions.filter((x) => x.category !== IDLE).slice(0, 10)) {
    console.log(`  ${pct(fn.us / total).padStart(4)}  ${fn.functionName.slice(0, 40).padEnd(40)} ${fn.location.slice(0, 60).padEnd(60)} [${fn.category.split(' (')[0]}]`);
  }
}

/**
 * What bounds one concurrency level: `p` is the measured run, `pp` and `s` the profiled run of
 * the same level (its CPU accounting and its profile window).
 */
function verdict(p: Phase, pp: Phase | undefined, s: ProfileSummary | undefined, raw: number, fsyncMs: number): string[] {
  const share = (c: string) => (s && s.totalUs > 0 ? (s.byCategory.get(c) ?? 0) / s.totalUs : 0);
  const storage = STORAGE_CATEGORIES.reduce((a, c) => a + share(c), 0);
  const network = share('TLS (node:tls JS)') + share('HTTP (node:http JS)') + share('sockets (node:net, stream_base)') + share(PROGRAM);
  const machine = (p.machineCores ?? (p.serverCores ?? 0) + p.loadCores) / CORES;
  const signingCores = p.rate / raw; // the thread pool's RS256 work, at the single-thread cost
  const lines: string[] = [];
  const eventLoop = s ? 1 - share(IDLE) : undefined;
  const onCpu = pp?.serverMainCores;
  if (eventLoop !== undefined && eventLoop >= 0.85) {
    lines.push(
      `c=${p.concurrency}: bounded by the event loop — the server's one main thread is busy ${pct(eventLoop)} of the wall clock` +
        (onCpu === undefined ? '' : ` (on a CPU ${pct(Math.min(onCpu, eventLoop))}, the other ${pct(Math.max(0, eventLoop - onCpu))} blocked in system calls — the fsync of each COMMIT — or waiting for a core)`) +
        '; the RS256 math is not on this thread.',
    );
  } else if (machine >= 0.9) {
    lines.push(`c=${p.concurrency}: bounded by the ${CORES} cores — ${pct(machine)} busy, the server's main thread idle ${pct(share(IDLE))} of the time.`);
  } else {
    lines.push(
      `c=${p.concurrency}: bounded by latency, not capacity — main thread idle ${pct(share(IDLE))}, cores ${pct(machine)} busy. Each client waits for its answer: ` +
        `p50 ${f2(p.p50)} ms holds two audit commits awaited in turn (sign-in, then issuance; one fdatasync here: ${f2(fsyncMs)} ms p50), one RS256 signature (${f2(1000 / raw)} ms) and the TLS round trip.`,
    );
  }
  if (s) {
    const top = [...s.byCategory.entries()].filter(([c]) => c !== IDLE).sort((a, b) => b[1] - a[1]).slice(0, 5);
    lines.push(`  main thread, largest shares: ${top.map(([c, us]) => `${c.split(' (')[0]} ${pct(us / s.totalUs)}`).join(', ')}`);
    lines.push(
      `  grouped: database + audit ${pct(storage)} (COMMIT/BEGIN/SAVEPOINT alone ${pct(share(SQL_TRANSACTION))}), TLS/HTTP/sockets ${pct(network)}, ` +
        `Fastify ${pct(share('Fastify'))}, logging ${pct(share('logging (pino + redaction)'))}, signing dispatch ${pct(share('RS256: jose + WebCrypto job dispatch (main-thread part)'))}, GC ${pct(share(GC))}`,
    );
  }
  lines.push(
    `  cores: server ${f2(p.serverCores)} (main thread ${f2(p.serverMainCores)} = ${f2(((p.serverMainCores ?? NaN) / p.rate) * 1000)} ms of CPU per token, ` +
      `thread pool + GC helpers ${f2((p.serverCores ?? 0) - (p.serverMainCores ?? 0))}, ` +
      `of which RS256 ≈ ${f2(signingCores)}), load generator ${f2(p.loadCores)}, other processes ${f2(p.otherCores)} — ${pct(machine)} of ${CORES}`,
  );
  return lines;
}

// -- The run --------------------------------------------------------------------------------

/**
 * dist/ from the working tree's sources, as scripts/run-tests.mjs builds it (incremental). tsc
 * emits even when it reports type errors (noEmitOnError is off), so a type error elsewhere in
 * the tree is reported and the run goes on; a server that cannot start stops it.
 */
function buildDist(): void {
  const build = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit', timeout: 300_000 });
  if (build.status === 0) return;
  if (!existsSync(join(ROOT, 'dist/cli/main.js'))) throw new Error('building dist/ failed: the benchmark runs the built keyhaven binary');
  console.log('WARNING: tsc reported errors (above); dist/ was emitted anyway and is what this run measures');
}

async function main(): Promise<void> {
  stopServersOnSignals();
  process.stdout.on('error', () => undefined); // a closed pipe (| head) must not skip the cleanup below
  buildDist();
  const { home, remove } = tempHome();
  const profileDir = mkdtempSync(join(tmpdir(), 'kh-bench-prof-'));
  try {
    console.log(`${new Date().toISOString()} token issuance: POST /{tenant}/oauth2/v2.0/token grant_type=client_credentials scope=${SCOPE}, client_secret_post, keep-alive HTTPS`);
    console.log(`machine: ${CORES} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}, ${SECONDS} s per level after ${WARM_SECONDS} s warm-up; load generator in this process`);

    const m0 = machineCpu();
    await new Promise((r) => setTimeout(r, 1000));
    const m1 = machineCpu();
    if (m0 && m1) {
      const before = ((m1.busy - m0.busy) / (m1.all - m0.all)) * CORES;
      console.log(`before the run, other processes kept ${f2(before)} of ${CORES} cores busy${before > 0.2 * CORES ? ' — THE MACHINE IS NOT QUIET: expect low, noisy numbers' : ''}`);
    }
    const fsync = fsyncLatency(home, 0.5);
    const server = await startMeasuredServer(home);
    const phases: Phase[] = [];
    let client: Client;
    let target: Target;
    let raw: number;
    let threadPoolRaw: number;
    let signingBytes: number;
    try {
      client = await createClient(server.process);
      console.log(`client: ${client.appId}, created through ${client.via}`);
      const url = new URL(client.tenant.tokenUrl);
      target = {
        host: url.hostname,
        port: Number(url.port),
        path: url.pathname,
        body: Buffer.from(new URLSearchParams({ grant_type: 'client_credentials', client_id: client.appId, client_secret: client.secret, scope: SCOPE }).toString()),
      };
      const one = await checkOneToken(client, target);
      signingBytes = one.signingInput.length;
      console.log(`one token checked against the JWKS (RS256, aud ${one.aud}, ${one.bytes} bytes)`);

      // The raw signing rate, measured now on this machine with the server idle.
      const { privateKey: key } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      raw = rawSignRate(one.signingInput, key, 2);
      threadPoolRaw = await threadPoolSignRate(one.signingInput, key, 1);

      for (const c of CONCURRENCY) phases.push(await runPhase(target, c, server.pid));
    } finally {
      await stopServer(server);
    }
    const logMb = server.logBytes() / 1e6;

    console.log('');
    console.log(`raw RS256 (RSA-2048, ${signingBytes}-byte JWS signing input, node:crypto sign, one thread): ${f0(raw)} signatures/s (${f2(1000 / raw)} ms each)`);
    console.log(`  the same through WebCrypto (jose's path) on libuv's thread pool, 16 in flight: ${f0(threadPoolRaw)} signatures/s`);
    console.log(`  one fdatasync of 4 KiB in the server's home: p50 ${f2(fsync.p50)} ms, p99 ${f2(fsync.p99)} ms`);
    console.log('');
    printPhases(phases, raw);
    const issued = phases.reduce((a, p) => a + p.ok, 0);
    console.log(`server log at info level: ${f1(logMb)} MB written while measuring and warming up (≈ ${f0((server.logBytes() / Math.max(issued, 1)))} bytes per request)`);
    const failures = phases.reduce((a, p) => a + p.non200 + p.errors, 0);
    if (failures > 0) {
      console.log(`FAILED REQUESTS: ${failures} (non-200 answers or transport errors); the numbers above are not a clean run`);
      process.exitCode = 1;
    }

    const slow = phases.filter((p) => p.rate / raw < THRESHOLD);
    if (slow.length === 0) {
      console.log(`\nissuance stays at or above ${pct(THRESHOLD)} of the raw RS256 rate at every level: signing bounds it`);
      return;
    }

    // Below 70%: run the same load on the same database under the profiler.
    console.log(`\nbelow ${pct(THRESHOLD)} of the raw RS256 rate at c=${slow.map((p) => p.concurrency).join(', c=')}: profiling the server (node --cpu-prof) under the same load`);
    const profiledServer = await startProfiledServer(server.process.home, server.process.storage, profileDir);
    const profiledPhases: Phase[] = [];
    let exit: Exit;
    try {
      const url = new URL(profiledServer.url);
      const t = { ...target, host: url.hostname, port: Number(url.port) };
      for (const p of slow) profiledPhases.push(await runPhase(t, p.concurrency, profiledServer.pid));
    } finally {
      exit = await stopServer(profiledServer);
    }
    const file = profileFile(profileDir, profiledServer.pid);
    if (!file) {
      console.log(`no CPU profile was written (the server exited with ${exit.code ?? exit.signal})`);
      return;
    }
    if (process.env.BENCH_PROFILE_OUT) {
      copyFileSync(file, process.env.BENCH_PROFILE_OUT);
      console.log(`profile kept in ${process.env.BENCH_PROFILE_OUT} (open it in Chrome DevTools, Performance tab)`);
    }
    const profile: CpuProfile = readProfile(file);
    const profiled = profiledPhases.map((phase) => {
      const inWindow = profile.startTime <= phase.windowUs.toUs && profile.endTime >= phase.windowUs.fromUs;
      return { phase, summary: summarize(profile, inWindow ? phase.windowUs : undefined), inWindow };
    });
    if (profiled.some((x) => !x.inWindow)) console.log('(the profile clock did not match this process: whole-profile shares shown)');
    console.log(
      `profiled run: ${profiledPhases.map((p) => `c=${p.concurrency} ${f0(p.rate)} req/s (other processes ${f2(p.otherCores)} cores)`).join(', ')}; ` +
        `${(statSync(file).size / 1e6).toFixed(1)} MB profile, ${profiled.map((x) => x.summary.samples).join('/')} samples`,
    );
    printProfile(profiled);
    console.log('\nwhat bounds issuance:');
    for (const p of slow) {
      const pr = profiled.find((x) => x.phase.concurrency === p.concurrency);
      for (const line of verdict(p, pr?.phase, pr?.summary, raw, fsync.p50)) console.log(line);
    }
    const peak = Math.max(...phases.map((p) => p.rate));
    console.log(
      `signing ${peak / threadPoolRaw < THRESHOLD ? 'is not' : 'may be'} the bound: libuv's thread pool signs ${f0(threadPoolRaw)}/s on this machine ` +
        `and issuance peaks at ${f0(peak)}/s (${pct(peak / threadPoolRaw)} of it).`,
    );
    console.log(`(the load generator is this Node process on the same ${CORES} cores: every core-second it spends is one the server does not get)`);
  } finally {
    await Promise.all([...running].map(stopServer)); // anything a failure above left running
    rmSync(profileDir, { recursive: true, force: true });
    remove();
  }
}

/** The main thread's profile: CPU.<date>.<time>.<pid>.0.<seq>.cpuprofile (a worker thread would write its own). */
function profileFile(dir: string, pid: number): string | undefined {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  const main = files.find((f) => f.includes(`.${pid}.0.`));
  if (main) return join(dir, main);
  const largest = files.map((f) => join(dir, f)).sort((a, b) => statSync(b).size - statSync(a).size)[0];
  return largest;
}

// Last, so that every module-level binding above is initialised before main runs.
if (process.env.NODE_EXTRA_CA_CERTS !== TEST_CA_CERT) {
  process.exitCode = await rerunTrustingTestCa();
} else {
  await main();
}
