// Benchmark: the metadata agent's cached-token path — GET /metadata/identity/oauth2/token with
// `Metadata: true` for a token already cached — beside a hello-world `node:http` server, each in
// a process of its own on this machine, in the same run, with the same load generator (keep-alive
// HTTP, 1 and 16 concurrent clients). Goal (issue 11): the agent within 2x of hello-world — a
// cached token is a map lookup. Numbers are printed, never asserted.
//
//   BENCH_SECONDS   seconds per measurement (default 5; a short warm-up comes first)
//
// The server, a machine with a system-assigned identity and its enrollment are set up first (as
// test/blackbox/agent-imds.test.ts does); the agent is `keyhaven agent run`, started as a user
// would. Run by hand: `npx tsx bench/agent-imds.ts`.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv, ROOT, runCli, startServerProcess, tempHome, TEST_CA_CERT } from '../test/helpers/server-process.js';
import { tenantOf, userToken } from '../test/helpers/tenant-fixtures.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = [1, 16];

async function load(url: string, headers: Record<string, string>, concurrency: number, seconds: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const u = new URL(url);
  const times: number[] = [];
  let errors = 0;
  const one = () => new Promise<void>((resolve) => {
    const t0 = performance.now();
    const req = request({ agent, host: u.hostname, port: u.port, path: `${u.pathname}${u.search}`, headers, timeout: 30_000 }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode === 200) times.push(performance.now() - t0);
        else errors++;
        resolve();
      });
    });
    req.on('error', () => {
      errors++;
      resolve();
    });
    req.end();
  });
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) await one();
  }));
  const elapsed = (performance.now() - t0) / 1000;
  agent.destroy();
  times.sort((a, b) => a - b);
  const pct = (p: number) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))] ?? NaN;
  return { rps: times.length / elapsed, p50: pct(50), p99: pct(99), errors };
}

/** A child process printing one JSON line with its URL; resolves with it. */
function startChild(args: string[], match: RegExp): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no start line: ${out}`)), 30_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = match.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]! });
      }
    });
  });
}

const HELLO = "const s = require('node:http').createServer((q, r) => { r.writeHead(200, {'content-type': 'application/json'}); r.end('{\"hello\":\"world\"}'); }); s.keepAliveTimeout = 60000; s.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ listening: 'http://127.0.0.1:' + s.address().port })));";

async function main(): Promise<void> {
  const { home, remove } = tempHome();
  const work = mkdtempSync(join(tmpdir(), 'kh-bench-agent-'));
  const server = await startServerProcess({ home });
  const children: ChildProcess[] = [];
  try {
    const t = await tenantOf(server);
    const admin = await userToken(t, 'admin', t.adminPassword, `${t.url}//.default`);
    const arm = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${t.url}${path}`, { method, headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
      return (await res.json()) as Record<string, any>;
    };
    const sub = (await arm('GET', '/subscriptions?api-version=2019-11-01')).value[0].subscriptionId as string;
    const vm = `/subscriptions/${sub}/resourceGroups/bench/providers/Microsoft.Compute/virtualMachines/bench-01`;
    await arm('PUT', `/subscriptions/${sub}/resourceGroups/bench?api-version=2021-04-01`, { location: 'local' });
    await arm('PUT', `${vm}?api-version=2022-11-01`, { location: 'local', identity: { type: 'SystemAssigned' } });
    const token = (await arm('POST', `${vm}/generateJoinToken?api-version=2022-11-01`, {})).token as string;
    const dir = join(work, 'agent');
    const joined = await runCli(['agent', 'join', '--server', t.url, '--token', token, '--state-dir', dir, '--ca-file', TEST_CA_CERT]);
    if (joined.code !== 0) throw new Error(joined.stderr);
    const agent = await startChild([join(ROOT, 'bin/keyhaven.js'), 'agent', 'run', '--state-dir', dir, '--port', '0', '--log-level', 'warn', '--rate', '0', '--concurrency', '0'], /"listening":"([^"]+)"/);
    children.push(agent.child);
    const hello = await startChild(['-e', HELLO], /"listening":"([^"]+)"/);
    children.push(hello.child);
    const tokenUrl = `${agent.url}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net`;
    console.log(`agent cached-token GET vs hello-world node:http, ${SECONDS} s each (node ${process.version}, ${(await import('node:os')).cpus().length} cores)`);
    for (const c of CONCURRENCY) {
      await load(tokenUrl, { Metadata: 'true' }, c, 1); // warm-up; the first request fills the cache
      await load(hello.url, {}, c, 1);
      const a = await load(tokenUrl, { Metadata: 'true' }, c, SECONDS);
      const h = await load(hello.url, {}, c, SECONDS);
      console.log(`  ${String(c).padStart(2)} clients: agent ${a.rps.toFixed(0)} req/s (p50 ${a.p50.toFixed(2)} ms, p99 ${a.p99.toFixed(2)} ms, ${a.errors} errors) · hello-world ${h.rps.toFixed(0)} req/s (p50 ${h.p50.toFixed(2)} ms, p99 ${h.p99.toFixed(2)} ms) · ratio ${(h.rps / a.rps).toFixed(2)}x (goal ≤ 2x)`);
    }
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await server.stop();
    remove();
    rmSync(work, { recursive: true, force: true });
  }
}

// Last: everything above is defined before it runs.
if (process.env.NODE_EXTRA_CA_CERTS !== TEST_CA_CERT) {
  const child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename], { cwd: ROOT, stdio: 'inherit', env: { ...process.env, NODE_EXTRA_CA_CERTS: TEST_CA_CERT } });
  const timer = setTimeout(() => child.kill('SIGTERM'), 10 * 60_000);
  process.exitCode = await new Promise<number>((r) => child.on('exit', (c) => r(c ?? 1)));
  clearTimeout(timer);
} else {
  await main();
}
