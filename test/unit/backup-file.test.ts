// The backup file format on its own: a round trip, and each way a file can be wrong refused
// with its own message (the black-box suite drives the same through `keyhaven admin restore`).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { decodeBackup, encodeBackup, readBackupHeader, type BackupKey } from '../../src/crypto/backup-file.js';
import { masterKeyId } from '../../src/crypto/master-key.js';
import type { Snapshot } from '../../src/storage/snapshot.js';

const keyBytes = randomBytes(32);
const key: BackupKey = { source: 'master-key', id: masterKeyId(keyBytes), key: keyBytes };
const snapshot: Snapshot = {
  migrations: ['0001_foundation', '0002_directory'],
  tables: [{ name: 'settings', columns: [{ name: 'name', type: 'text' }, { name: 'value', type: 'text' }], rows: [['tenant_id', 'abc']] }],
};
const meta = { keyhavenVersion: '0.0.0-test', engine: 'sqlite', tenantId: 'abc', createdAt: '2026-01-31T00:00:00.000Z', masterKeyId: key.id };

function resum(b: Buffer): Buffer {
  const body = b.subarray(0, b.length - 32);
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

test('round trip: the header is readable without the key, the payload only with it', () => {
  const file = encodeBackup(snapshot, meta, key);
  const { header } = readBackupHeader(file);
  assert.equal(header.lastMigration, '0002_directory');
  assert.deepEqual(header.tables, [{ name: 'settings', rows: 1 }]);
  assert.deepEqual(header.key, { source: 'master-key', id: key.id });
  assert.deepEqual(decodeBackup(file, key).snapshot, snapshot);
  // Two backups of the same data under the same key differ (fresh salt and IV).
  assert.notDeepEqual(encodeBackup(snapshot, meta, key), file);
});

test('each damage is refused with its own message', () => {
  const file = encodeBackup(snapshot, meta, key);
  const other = randomBytes(32);
  const text = (b: Buffer) => b.toString('latin1');
  const cases: [string, Buffer, BackupKey, RegExp][] = [
    ['empty', Buffer.alloc(0), key, /not a Keyhaven backup/],
    ['header cut', file.subarray(0, 30), key, /header is incomplete/],
    ['body cut', file.subarray(0, file.length - 10), key, /checksum does not match/],
    ['byte flipped', Buffer.from(file.map((b, i) => (i === file.length - 60 ? b ^ 1 : b))), key, /checksum does not match/],
    ['byte flipped, checksum redone', resum(Buffer.from(file.map((b, i) => (i === file.length - 60 ? b ^ 1 : b)))), key, /cannot be decrypted/],
    ['header edited, checksum redone', resum(Buffer.from(text(file).replace('"engine":"sqlite"', '"engine":"sqlitx"'), 'latin1')), key, /cannot be decrypted/],
    ['header fields missing', resum(Buffer.from(text(file).replace('"salt":', '"salz":'), 'latin1')), key, /fields missing/],
    ['newer format', resum(Buffer.from(text(file).replace('"formatVersion":1', '"formatVersion":2'), 'latin1')), key, /format 2 is not supported/],
    ['wrong key', file, { source: 'master-key', id: masterKeyId(other), key: other }, /encrypted under master key id [0-9a-f]{16}; the key given has id/],
    ['right id, wrong bytes', file, { ...key, key: other }, /cannot be decrypted/],
  ];
  for (const [what, bytes, k, message] of cases) {
    assert.throws(() => decodeBackup(bytes, k), (err: Error & { code?: string }) => err.code === 'KH_BACKUP_INVALID' && message.test(err.message), what);
  }
});
