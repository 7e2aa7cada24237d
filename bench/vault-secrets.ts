// Benchmark: Key Vault GetSecret with bearer tokens against the real server, beside a
// hello-world Fastify route over HTTPS (same certificate, same machine, same run, same load
// generator), at 1 and 16 concurrent clients over keep-alive HTTPS. Goal (issue 12): secret
// GETs at 40% or more of the hello-world rate. Numbers are printed, never asserted.
//
//   BENCH_SECONDS   seconds per measurement (default 5; a short warm-up comes first)
//
// One GET costs the server: token verification (RS256 through jose), the principal's status,
// the vault's two indexed reads, an in-memory access-policy decision (the caller's transitive
// groups from the directory's read model), the secret's and version's indexed reads, one
// AES-256-GCM decryption, and one audit record awaited until durable (group commit: concurrent
// reads share a transaction and an fsync). Run by hand: `npx tsx bench/vault-secrets.ts`.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { join } from 'node:path';
import Fastify from 'fastify';
import { ROOT, startServerProcess, tempHome, TEST_CA_CERT, type ServerProcess } from '../test/helpers/server-process.js';
import { createServicePrincipal, postForm, tenantOf, userToken } from '../test/helpers/tenant-fixtures.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = [1, 16];

if (process.env.NODE_EXTRA_CA_CERTS !== TEST_CA_CERT) {
  // fetch (the fixtures) trusts the test CA only if Node started with it: run again so.
  const child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename], { cwd: ROOT, stdio: 'inherit', env: { ...process.env, NODE_EXTRA_CA_CERTS: TEST_CA_CERT } });
  const timer = setTimeout(() => child.kill('SIGTERM'), 10 * 60_000);
  process.exitCode = await new Promise<number>((r) => child.on('exit', (c) => r(c ?? 1)));
  clearTimeout(timer);
} else {
  await main();
}

async function load(url: string, headers: Record<string, string>, concurrency: number, seconds: number): Promise<{ rps: number; p50: number; p99: number; errors: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency, ca: readFileSync(TEST_CA_CERT) });
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
    req.on('error', () => { errors++; resolve(); });
    req.end();
  });
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => { while (performance.now() < end) await one(); }));
  const elapsed = (performance.now() - t0) / 1000;
  agent.destroy();
  times.sort((a, b) => a - b);
  const pct = (p: number) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))] ?? NaN;
  return { rps: times.length / elapsed, p50: pct(50), p99: pct(99), errors };
}

async function main(): Promise<void> {
  const { home, remove } = tempHome();
  let server: ServerProcess | undefined;
  try {
    server = await startServerProcess({ home });
    const t = await tenantOf(server);
    const port = new URL(t.url).port;
    const graph = await userToken(t, 'admin', t.adminPassword);
    const sp = await createServicePrincipal(t, graph, 'bench-vault-reader');
    const arm = await userToken(t, 'admin', t.adminPassword, `${t.url}//.default`);
    const call = async (method: string, path: string, body: unknown) => {
      const res = await fetch(`${t.url}${path}`, { method, headers: { authorization: `Bearer ${arm}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      return res.json() as Promise<Record<string, unknown>>;
    };
    const subs = await (await fetch(`${t.url}/subscriptions?api-version=2022-12-01`, { headers: { authorization: `Bearer ${arm}` } })).json() as { value: { subscriptionId: string }[] };
    const group = `/subscriptions/${subs.value[0]!.subscriptionId}/resourceGroups/bench`;
    await call('PUT', `${group}?api-version=2021-04-01`, { location: 'westeurope' });
    await call('PUT', `${group}/providers/Microsoft.KeyVault/vaults/bench-vault?api-version=2023-07-01`, {
      location: 'westeurope',
      properties: { tenantId: t.tenantId, sku: { family: 'A', name: 'standard' }, accessPolicies: [{ tenantId: t.tenantId, objectId: sp.servicePrincipalId, permissions: { secrets: ['get', 'set'] } }] },
    });
    const tok = await postForm(t.tokenUrl, { grant_type: 'client_credentials', client_id: sp.appId, client_secret: sp.secret, scope: `https://vault.localhost:${port}/.default` });
    const token = tok.body.access_token as string;
    const put = await fetch(`https://bench-vault.vault.localhost:${port}/secrets/db-password?api-version=7.5`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ value: 'x'.repeat(64) }) });
    if (put.status !== 200) throw new Error(`SetSecret: ${put.status}`);

    const tls = { key: readFileSync(join(home, 'tls/server-key.pem')), cert: readFileSync(join(home, 'tls/server.pem')) };
    const helloApp = Fastify({ https: tls, logger: false });
    helloApp.get('/hello', async () => ({ hello: 'world' }));
    await helloApp.listen({ port: 0, host: '127.0.0.1' });
    const helloPort = (helloApp.server.address() as { port: number }).port;
    try {
      const secretUrl = `https://bench-vault.vault.localhost:${port}/secrets/db-password?api-version=7.5`;
      console.log(`GetSecret vs hello-world Fastify over HTTPS, ${SECONDS} s each, node ${process.version}`);
      for (const c of CONCURRENCY) {
        await load(secretUrl, { authorization: `Bearer ${token}` }, c, Math.min(1, SECONDS / 5));
        const kv = await load(secretUrl, { authorization: `Bearer ${token}` }, c, SECONDS);
        await load(`https://localhost:${helloPort}/hello`, {}, c, Math.min(1, SECONDS / 5));
        const hi = await load(`https://localhost:${helloPort}/hello`, {}, c, SECONDS);
        console.log(`  concurrency ${String(c).padStart(3)}: GetSecret ${kv.rps.toFixed(0)} req/s (p50 ${kv.p50.toFixed(1)} ms, p99 ${kv.p99.toFixed(1)} ms, ${kv.errors} errors); hello ${hi.rps.toFixed(0)} req/s (p99 ${hi.p99.toFixed(1)} ms); ratio ${(100 * kv.rps / hi.rps).toFixed(0)}%`);
      }
    } finally {
      await helloApp.close();
    }
  } finally {
    await server?.stop();
    remove();
  }
}
