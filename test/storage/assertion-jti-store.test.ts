// The client-assertion jti store on both engines: two stores standing for two replicas on one
// database agree that an assertion id is used, concurrent first uses have exactly one winner,
// the `once` and `same-source` policies hold, and dead ids are swept and usable again.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Storage } from '../../src/storage/storage.js';
import { StoredJtiStore } from '../../src/tokens/assertion-jti-store.js';
import { engines, type EngineFixture } from '../helpers/engines.js';

for (const engine of engines) {
  describe(`assertion jti store: ${engine.name}`, () => {
    let fx: EngineFixture;
    let a: Storage;
    let b: Storage;
    let clock = Date.now();
    const now = () => clock;
    before(async () => {
      fx = await engine.create();
      a = await Storage.open(fx.url);
      b = fx.name === 'sqlite' ? a : await Storage.open(fx.url);
    });
    after(async () => {
      await a?.close();
      if (b !== a) await b?.close();
      await fx?.cleanup();
    });

    it('once: one winner among concurrent uses on two replicas, refused thereafter from anywhere', async () => {
      const stores = [new StoredJtiStore(a, 'once', now), new StoredJtiStore(b, 'once', now)];
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => stores[i % 2]!.useOnce('app-1', 'jti-1', clock + 60_000, '192.0.2.1')));
      assert.equal(results.filter(Boolean).length, 1);
      assert.equal(await stores[1]!.useOnce('app-1', 'jti-1', clock + 60_000, '192.0.2.1'), false);
      assert.equal(await stores[0]!.useOnce('app-2', 'jti-1', clock + 60_000, '192.0.2.1'), true, 'ids are per client');
    });

    it('same-source: reuse from the first source only', async () => {
      const stores = [new StoredJtiStore(a, 'same-source', now), new StoredJtiStore(b, 'same-source', now)];
      assert.equal(await stores[0]!.useOnce('app-1', 'jti-2', clock + 60_000, '192.0.2.1'), true);
      assert.equal(await stores[1]!.useOnce('app-1', 'jti-2', clock + 60_000, '192.0.2.1'), true);
      assert.equal(await stores[1]!.useOnce('app-1', 'jti-2', clock + 60_000, '198.51.100.7'), false);
    });

    it('forgets an id once it is dead, and sweeps dead rows', async () => {
      const store = new StoredJtiStore(a, 'once', now);
      assert.equal(await store.useOnce('app-3', 'jti-3', clock + 1000, '192.0.2.1'), true);
      assert.equal(await store.useOnce('app-3', 'jti-3', clock + 1000, '192.0.2.1'), false);
      clock += 2000;
      assert.ok((await store.sweep()) >= 1);
      const left = await fx.exec("SELECT count(*) AS n FROM assertion_jti WHERE client_id = 'app-3'");
      assert.equal(Number(left[0]!.n), 0);
      assert.equal(await store.useOnce('app-3', 'jti-3', clock + 1000, '192.0.2.1'), true, 'a dead id may be taken again');
    });
  });
}
