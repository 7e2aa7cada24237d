// The secret service over a real SQLite store and the real envelope (the HTTP face and the
// authorization models are covered by the black-box suites; here every caller is allowed):
//  - a version's ciphertext is bound to its vault, name and version: copied onto another row,
//    it fails to decrypt instead of yielding the other secret's value;
//  - each vault has its own data key, wrapped by the KEK;
//  - soft-deleted secrets are purged by the schedule only once their purge date has passed
//    (the clock is injected), and a soft-deleted vault with them.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AuditLog } from '../../src/audit/audit-log.js';
import { Envelope } from '../../src/crypto/envelope.js';
import { createMasterKey } from '../../src/crypto/master-key.js';
import { SecretValue } from '../../src/crypto/secret-value.js';
import { KeyhavenError } from '../../src/errors.js';
import { Storage } from '../../src/storage/storage.js';
import { SecretService, type OpenVault } from '../../src/vault/secret-service.js';
import type { VaultAccess, VaultCaller } from '../../src/vault/vault-access.js';

const caller: VaultCaller = { objectId: '00000000-0000-0000-0000-0000000000aa', appId: '', source: '127.0.0.1', correlationId: 'test', issuer: 'test' };
const allowAll = { require: async () => undefined } as unknown as VaultAccess;

function vaultRow(name: string, id: string) {
  return { name, id, resource_key: `/x/${name}`, resource_id: `/x/${name}`, subscription_id: 's', location: 'westeurope', created_at: new Date().toISOString(), deleted_at: null, scheduled_purge_at: null, deleted_resource: null };
}

describe('secret service', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kh-vault-unit-'));
  let storage: Storage;
  let service: SecretService;
  let clock = 1_800_000_000;
  const props = { tenantId: 't', vaultUri: 'https://a.vault.localhost:8443/', accessPolicies: [], enableRbacAuthorization: false, softDeleteRetentionInDays: 7, enablePurgeProtection: false };
  const a: OpenVault = { name: 'vault-a', id: '11111111-1111-1111-1111-111111111111', resourceId: '/x/vault-a', location: 'westeurope', props };
  const b: OpenVault = { name: 'vault-b', id: '22222222-2222-2222-2222-222222222222', resourceId: '/x/vault-b', location: 'westeurope', props };

  before(async () => {
    storage = await Storage.open(`sqlite:${join(dir, 'kh.db')}`);
    const envelope = await Envelope.open(storage, createMasterKey(join(dir, 'master.key')));
    service = new SecretService({ storage, envelope, audit: new AuditLog(storage, Buffer.alloc(32, 7)), access: allowAll, now: () => clock });
    for (const v of [a, b]) await storage.read.vaults.insertVault(vaultRow(v.name, v.id));
  });
  after(async () => {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('binds each ciphertext to its vault, name and version', async () => {
    const one = await service.set(caller, a, 'one', { value: new SecretValue('value-of-one') });
    const two = await service.set(caller, a, 'two', { value: new SecretValue('value-of-two') });
    const other = await service.set(caller, b, 'one', { value: new SecretValue('value-in-b') });
    assert.equal((await service.get(caller, a, 'ONE')).value!.reveal(), 'value-of-one');
    const rowOne = (await storage.read.vaults.version(a.id, 'one', one.version))!;
    const rowTwo = (await storage.read.vaults.version(a.id, 'two', two.version))!;
    const rowB = (await storage.read.vaults.version(b.id, 'one', other.version))!;
    assert.ok(!rowOne.ciphertext.includes('value-of-one'));
    // Each vault seals under its own data key.
    assert.notEqual(rowOne.ciphertext.split('.')[1], rowB.ciphertext.split('.')[1]);
    const purposes = (await storage.read.dataKeys.all()).map((k) => k.purpose);
    assert.ok(purposes.includes(`vault/${a.id}`) && purposes.includes(`vault/${b.id}`));
    // Another name's ciphertext on this row: refused, not the other value.
    await storage.transaction(async (tx) => {
      await tx.vaults.purgeSecret(a.id, 'two');
      await tx.vaults.insertSecret({ vault_id: a.id, name_key: 'two', name: 'two', latest_version: two.version, deleted_at: null, scheduled_purge_at: null });
      await tx.vaults.insertVersion({ ...rowTwo, ciphertext: rowOne.ciphertext });
    });
    await assert.rejects(service.get(caller, a, 'two'), (err: KeyhavenError) => err.code === 'KH_CIPHERTEXT_INVALID');
    // The same name in another vault (same version id made to match): refused too.
    await storage.transaction(async (tx) => {
      await tx.vaults.purgeSecret(b.id, 'one');
      await tx.vaults.insertSecret({ vault_id: b.id, name_key: 'one', name: 'one', latest_version: one.version, deleted_at: null, scheduled_purge_at: null });
      await tx.vaults.insertVersion({ ...rowB, version: one.version, ciphertext: rowOne.ciphertext });
    });
    await assert.rejects(service.get(caller, b, 'one'), (err: KeyhavenError) => err.code === 'KH_CIPHERTEXT_UNKNOWN_KEY' || err.code === 'KH_CIPHERTEXT_INVALID');
  });

  it('purges soft-deleted secrets after their retention, on the schedule, not before', async () => {
    await service.set(caller, a, 'temp', { value: new SecretValue('short-lived') });
    const deleted = await service.delete(caller, a, 'temp');
    assert.equal(deleted.scheduledPurgeDate, clock + 7 * 86400);
    clock += 7 * 86400 - 1;
    assert.equal(await service.purgeDue(), 0);
    assert.ok(await storage.read.vaults.secret(a.id, 'temp'));
    clock += 1;
    assert.equal(await service.purgeDue(), 1);
    assert.equal(await storage.read.vaults.secret(a.id, 'temp'), undefined);
    assert.deepEqual(await storage.read.vaults.versions(a.id, 'temp', undefined, 10), []);
  });

  it('purges a soft-deleted vault and its secrets at its date', async () => {
    await service.set(caller, b, 'inside', { value: new SecretValue('in-deleted-vault') });
    await storage.transaction(async (tx) => tx.vaults.updateVault('vault-b', { deleted_at: new Date(clock * 1000).toISOString(), scheduled_purge_at: new Date((clock + 60) * 1000).toISOString() }));
    assert.equal(await service.purgeDue(), 0);
    clock += 60;
    assert.equal(await service.purgeDue(), 1);
    assert.equal(await storage.read.vaults.byName('vault-b'), undefined);
    assert.equal(await storage.read.vaults.secret(b.id, 'inside'), undefined);
  });
});
