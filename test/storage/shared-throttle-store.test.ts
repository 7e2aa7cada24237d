// The login throttle's shared store on both engines: two throttles standing for two replicas
// on one database share failures and locks, and concurrent updates are never lost.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LoginThrottle } from '../../src/directory/login-throttle.js';
import { SharedThrottleStore } from '../../src/directory/shared-throttle-store.js';
import { ThrottledError } from '../../src/errors.js';
import { Storage } from '../../src/storage/storage.js';
import { engines, type EngineFixture } from '../helpers/engines.js';

for (const engine of engines) {
  describe(`shared login throttle store: ${engine.name}`, () => {
    let fx: EngineFixture;
    let a: Storage;
    let b: Storage;
    before(async () => {
      fx = await engine.create();
      a = await Storage.open(fx.url);
      // Two connections to one SQLite file in one process would block each other's event loop
      // (better-sqlite3 waits synchronously for the write lock); a SQLite server is one process
      // with one connection anyway, so there both "replicas" share it.
      b = fx.name === 'sqlite' ? a : await Storage.open(fx.url);
    });
    after(async () => {
      await a?.close();
      if (b !== a) await b?.close();
      await fx?.cleanup();
    });

    it('counts concurrent updates from two replicas exactly', async () => {
      const stores = [new SharedThrottleStore(a), new SharedThrottleStore(b)];
      const bump = (i: number) =>
        stores[i % 2]!.update('counter', (cur) => ({ entry: { failures: (cur?.failures ?? 0) + 1, lockedUntil: 0 }, expiresAt: Date.now() + 60_000 }));
      await Promise.all(Array.from({ length: 40 }, (_, i) => bump(i)));
      assert.equal((await stores[0]!.get('counter'))?.failures, 40);
      await stores[1]!.update('counter', () => null);
      assert.equal(await stores[0]!.get('counter'), undefined);
    });

    it('a lock earned through one replica holds on the other', async () => {
      const opts = { threshold: 3, baseDelaySeconds: 60 };
      const replica1 = new LoginThrottle(new SharedThrottleStore(a), opts);
      const replica2 = new LoginThrottle(new SharedThrottleStore(b), opts);
      for (const throttle of [replica1, replica2, replica1]) await (await throttle.begin('carol', '192.0.2.10')).failed();
      await assert.rejects(replica2.begin('carol', '192.0.2.11'), (err) => err instanceof ThrottledError && err.code === 'KH_ACCOUNT_LOCKED');
      // Another account is untouched.
      await (await replica2.begin('dave', '192.0.2.10')).succeeded();
    });

    it('treats expired rows as absent and sweeps them', async () => {
      const store = new SharedThrottleStore(a);
      await store.update('short', () => ({ entry: { failures: 1, lockedUntil: 0 }, expiresAt: Date.now() + 50 }));
      assert.equal((await store.get('short'))?.failures, 1);
      await new Promise((r) => setTimeout(r, 80));
      assert.equal(await store.get('short'), undefined);
      assert.ok((await a.read.loginThrottle.sweep(Date.now(), 100)) >= 1);
    });
  });
}
