// Crash safety: a writer process is killed with SIGKILL in the middle of a burst of
// acknowledged writes; afterwards every acknowledged write and its audit record are present,
// the audit chain verifies and the store is consistent — on SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { openCore } from '../../src/server/core.js';
import { engines } from '../helpers/engines.js';
import { cleanEnv, ROOT, tempHome } from '../helpers/server-process.js';

function runUntilKilled(home: string, storage: string, acksBeforeKill: number): Promise<{ acked: string[]; signal: string | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/helpers/crash-writer.ts'), home, storage], {
      cwd: ROOT,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buffer = '';
    let stderr = '';
    const acked: string[] = [];
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`writer did not reach ${acksBeforeKill} acks in time: ${stderr}`));
    }, 60_000);
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d: Buffer) => {
      buffer += d;
      const lines = buffer.split('\n');
      buffer = lines.pop()!; // an unfinished line is not an acknowledgement
      for (const line of lines) if (line.startsWith('ack ')) acked.push(line.slice(4));
      if (acked.length >= acksBeforeKill && child.signalCode === null) child.kill('SIGKILL');
    });
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      resolve({ acked, signal });
    });
  });
}

for (const engine of engines) {
  describe(`crash safety: ${engine.name}`, () => {
    it('keeps every acknowledged write and its audit record after SIGKILL', async () => {
      const fx = await engine.create();
      const { home, remove } = tempHome();
      const storage = fx.name === 'sqlite' ? `sqlite:${join(home, 'keyhaven.db')}` : fx.url;
      try {
        const first = await runUntilKilled(home, storage, 300);
        assert.equal(first.signal, 'SIGKILL');
        assert.ok(first.acked.length >= 300);
        // A second burst on the same store, killed again: recovery is repeatable.
        const second = await runUntilKilled(home, storage, 150);
        const acked = [...first.acked, ...second.acked];

        const { config } = loadConfig({ env: {}, flags: { home, storage, passwordScryptLogN: 10 } });
        const core = await openCore(config, { createMasterKey: false });
        try {
          for (const username of acked) assert.ok(await core.storage.read.users.byUsername(username), `acknowledged ${username} is missing`);
          const records = await core.audit.list({ actor: 'crash-writer', limit: 10_000 });
          const audited = new Set(records.filter((r) => r.outcome === 'success').map((r) => r.target));
          for (const username of acked) assert.ok(audited.has(username), `audit record of ${username} is missing`);
          // Every user row has its audit record and vice versa: nothing half-committed.
          assert.equal(await core.storage.read.users.count(), audited.size);
          const verified = await core.audit.verify();
          assert.equal(verified.ok, true, JSON.stringify(verified));
        } finally {
          await core.close();
        }
        if (fx.name === 'sqlite') {
          const [row] = await fx.exec.call({ ...fx }, 'select 1'); // keep the fixture's own file untouched
          void row;
          const BetterSqlite3 = (await import('better-sqlite3')).default;
          const db = new BetterSqlite3(join(home, 'keyhaven.db'));
          assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
          db.close();
        }
      } finally {
        remove();
        await fx.cleanup();
      }
    });
  });
}
