// The machine enrollment tables (0014_machines) on both engines: a join token's uses are taken
// by a compare-and-set that concurrent joins cannot overrun, an expired token gives none, a
// revocation happens once, a key is replaced only from the kid it was read with, and a deleted
// resource's tokens and machines go.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { Storage } from '../../src/storage/storage.js';
import { engines } from '../helpers/engines.js';

for (const engine of engines) {
  describe(`machine repository (${engine.name})`, () => {
    it('takes join-token uses up to the count, concurrently, and none after expiry; revokes once; swaps keys by compare-and-set', async () => {
      const fx = await engine.create();
      const storage = await Storage.open(fx.url);
      try {
        const repo = storage.read.machines;
        const now = Date.now();
        const token = { id: randomUUID(), digest: 'a'.repeat(64), resource_id: '/subscriptions/x/resourceGroups/g/providers/Microsoft.Compute/virtualMachineScaleSets/P', resource_key: '/subscriptions/x/resourcegroups/g/providers/microsoft.compute/virtualmachinescalesets/p', max_uses: 3, uses: 0, expires_at: now + 60_000, created_at: new Date(now).toISOString(), created_by: 'admin' };
        await repo.insertJoinToken(token);
        const taken = await Promise.all(Array.from({ length: 8 }, () => storage.transaction((tx) => tx.machines.takeJoinTokenUse(token.id, now))));
        assert.equal(taken.filter(Boolean).length, 3);
        assert.equal((await repo.joinTokenByDigest(token.digest))!.uses, 3);
        const late = { ...token, id: randomUUID(), digest: 'b'.repeat(64), expires_at: now - 1 };
        await repo.insertJoinToken(late);
        assert.equal(await repo.takeJoinTokenUse(late.id, now), false);

        const machine = { id: randomUUID(), client_id: randomUUID(), resource_id: token.resource_id, resource_key: token.resource_key, join_id: token.id, kid: 'k1', public_jwk: '{}', created_at: 'now', key_updated_at: 'now', revoked_at: null, revoked_by: null };
        const other = { ...machine, id: randomUUID(), client_id: randomUUID() };
        await repo.insertMachine(machine);
        await repo.insertMachine(other);
        assert.deepEqual((await repo.activeMachineIds()).sort(), [machine.id, other.id].sort());
        assert.equal(await repo.replaceKey(machine.id, 'stale', 'k2', '{}', 'now'), false);
        assert.equal(await repo.replaceKey(machine.id, 'k1', 'k2', '{}', 'now'), true);
        assert.equal((await repo.machineByClientId(machine.client_id))!.kid, 'k2');
        assert.equal(await storage.transaction((tx) => tx.machines.revoke(machine.id, 'now', 'admin')), true);
        assert.equal(await storage.transaction((tx) => tx.machines.revoke(machine.id, 'now', 'admin')), false);
        assert.equal(await repo.replaceKey(machine.id, 'k2', 'k3', '{}', 'now'), false, 'a revoked machine keeps its key');
        assert.deepEqual(await repo.activeMachineIds(), [other.id]);

        const deleted = await storage.transaction((tx) => tx.machines.deleteResource([token.resource_key]));
        assert.deepEqual(deleted.sort(), [machine.id, other.id].sort());
        assert.deepEqual(await repo.activeMachineIds(), []);
        assert.equal(await repo.machineById(machine.id), undefined);
        assert.deepEqual(await repo.joinTokensOf(token.resource_key), []);
      } finally {
        await storage.close();
        await fx.cleanup();
      }
    });
  });
}
