// Benchmark: audited writes per second through group commit, on SQLite and PostgreSQL, at 1,
// 16 and 100 concurrent writers. Each write inserts a row and its HMAC-chained audit record
// in one transaction shared with the other writers of its batch. Run by hand: `npm run bench`.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '../src/audit/audit-log.js';
import { Storage } from '../src/storage/storage.js';
import { createTestDatabase } from '../test/helpers/postgres.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);

async function run(label: string, url: string): Promise<void> {
  const storage = await Storage.open(url);
  const audit = new AuditLog(storage, randomBytes(32));
  for (const concurrency of [1, 16, 100]) {
    const latencies: number[] = [];
    const before = audit.stats();
    const end = Date.now() + SECONDS * 1000;
    let n = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (Date.now() < end) {
          const username = `b${n++}x${randomUUID().slice(0, 8)}`;
          const now = new Date().toISOString();
          const t0 = performance.now();
          await audit.write({ actor: 'bench', action: 'user.create', target: username }, (tx) =>
            tx.users.insert({ id: randomUUID(), username, user_principal_name: `${username}@bench`, display_name: username, password_hash: null, account_enabled: 1, created_at: now, updated_at: now }),
          );
          latencies.push(performance.now() - t0);
        }
      }),
    );
    const after = audit.stats();
    latencies.sort((a, b) => a - b);
    const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!.toFixed(2);
    const tx = after.transactions - before.transactions;
    console.log(
      `${label.padEnd(10)} concurrency ${String(concurrency).padStart(3)}: ${(latencies.length / SECONDS).toFixed(0).padStart(6)} writes/s, ` +
        `p50 ${pct(50)} ms, p99 ${pct(99)} ms, ${(latencies.length / Math.max(tx, 1)).toFixed(1)} writes per transaction (fsync)`,
    );
  }
  await storage.close();
}

const dir = mkdtempSync(join(tmpdir(), 'kh-bench-'));
try {
  await run('sqlite', `sqlite:${join(dir, 'bench.db')}`);
  const pg = await createTestDatabase();
  try {
    await run('postgres', pg.url);
  } finally {
    await pg.drop();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
