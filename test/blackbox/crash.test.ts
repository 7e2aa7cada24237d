// Crash safety of the real server: a burst of acknowledged writes (groups created through the
// directory API; acknowledged = 201 received) runs against a `keyhaven serve` child process,
// which is sent SIGKILL in the middle of it. After a restart every acknowledged write and its
// audit record are present, the audit chain verifies and the store is consistent — on
// SQLite and on PostgreSQL. (Process-crash safety; power-loss safety rests on
// synchronous=FULL and PostgreSQL's fsync, as the README says.)
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { engines } from '../helpers/engines.js';
import { runCli, startServerProcess, tempHome } from '../helpers/server-process.js';
import { graph, tenantOf, userToken } from '../helpers/tenant-fixtures.js';

for (const engine of engines) {
  describe(`crash safety: ${engine.name}`, () => {
    it('keeps every acknowledged write and its audit record after SIGKILL mid-burst', async () => {
      const fx = await engine.create();
      const { home, remove } = tempHome();
      const storage = fx.name === 'sqlite' ? `sqlite:${join(home, 'keyhaven.db')}` : fx.url;
      const server = await startServerProcess({ home, storage });
      try {
        const t = await tenantOf(server);
        const token = await userToken(t, 'admin', t.adminPassword);
        const acked: { id: string; mailNickname: string }[] = [];
        let n = 0;
        let killed = false;
        const writer = async () => {
          while (!killed) {
            const mailNickname = `crash-${n++}`;
            try {
              const res = await graph<{ id: string }>(t, token, 'POST', '/groups', { displayName: mailNickname, mailNickname, securityEnabled: true, mailEnabled: false });
              if (res.status === 201) acked.push({ id: res.body.id, mailNickname });
            } catch {
              return; // the connection died with the server: not acknowledged
            }
            if (acked.length >= 120 && !killed) {
              killed = true;
              server.child.kill('SIGKILL');
            }
          }
        };
        await Promise.all(Array.from({ length: 16 }, writer));
        assert.equal((await server.exited).signal, 'SIGKILL');
        assert.ok(acked.length >= 120);

        const again = await startServerProcess({ home, storage });
        try {
          const t2 = await tenantOf(again);
          const token2 = await userToken(t2, 'admin', t2.adminPassword);
          for (const g of acked) {
            const res = await graph<{ mailNickname: string }>(t2, token2, 'GET', `/groups/${g.id}`);
            assert.equal(res.status, 200, `acknowledged group ${g.mailNickname} is missing`);
            assert.equal(res.body.mailNickname, g.mailNickname);
          }
        } finally {
          await again.stop();
        }
        const list = await runCli(['audit', 'list', '--home', home, '--storage', storage, '--action', 'group.create', '--top', '10000']);
        assert.equal(list.code, 0, list.stderr);
        const created = new Set((JSON.parse(list.stdout) as { target: string; outcome: string }[]).filter((r) => r.outcome === 'success').map((r) => r.target));
        for (const g of acked) assert.ok(created.has(g.id), `audit record of ${g.mailNickname} is missing`);
        const verify = await runCli(['audit', 'verify', '--home', home, '--storage', storage]);
        assert.equal(verify.code, 0, verify.stdout + verify.stderr);
        // Nothing half-committed: every group row has its audit record and vice versa.
        if (fx.name === 'sqlite') {
          const db = new BetterSqlite3(join(home, 'keyhaven.db'), { readonly: true });
          try {
            assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
            assert.equal((db.prepare('select count(*) as n from groups').get() as { n: number }).n, created.size);
          } finally {
            db.close();
          }
        } else {
          const [row] = await fx.exec('select count(*) as n from groups');
          assert.equal(Number(row!.n), created.size);
        }
      } finally {
        await server.stop();
        remove();
        await fx.cleanup();
      }
    });
  });
}
