// Signing keys on SQLite files: created once, sealed in the database, shared by processes on one
// file, adopted from the layout before migration 0008; the JWKS carries public members only
// (RFC 7517 §9.3). The lifecycle (pending → active → retired) on both engines:
// test/storage/signing-keys.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateKeyPairSync } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import { Envelope } from '../../src/crypto/envelope.js';
import { createMasterKey, type MasterKey } from '../../src/crypto/master-key.js';
import { ServerSecrets } from '../../src/keys/server-secrets.js';
import { Storage } from '../../src/storage/storage.js';
import { SigningKeys, type SigningKeysOptions } from '../../src/tokens/signing-keys.js';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const TENANT = '6f1c2a44-5b7e-4c1d-9a0e-2f3b4c5d6e7f';

describe('token signing keys', () => {
  let dir: string;
  let kek: MasterKey;
  const opened: Storage[] = [];

  /** One "replica": its own Storage and Envelope on the shared database file. */
  async function storeOn(db: string): Promise<{ storage: Storage; envelope: Envelope; secrets: ServerSecrets }> {
    const storage = await Storage.open(`sqlite:${join(dir, db)}`);
    opened.push(storage);
    const envelope = await Envelope.open(storage, kek);
    return { storage, envelope, secrets: new ServerSecrets(storage, envelope) };
  }
  async function replica(db: string, options: SigningKeysOptions = {}): Promise<SigningKeys> {
    const { storage, envelope } = await storeOn(db);
    return SigningKeys.open(storage, envelope, options);
  }

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kh-tokens-keys-'));
    kek = createMasterKey(join(dir, 'master.key'));
  });
  after(async () => {
    for (const s of opened) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates an RS256 key on first use whose kid is its RFC 7638 thumbprint', async () => {
    const keys = await replica('first.db');
    const { kid, privateKey } = await keys.current();
    assert.equal(privateKey.asymmetricKeyType, 'rsa');
    assert.equal(privateKey.asymmetricKeyDetails?.modulusLength, 2048);
    const { keys: [jwk, ...rest] } = await keys.jwks();
    assert.equal(rest.length, 0);
    assert.deepEqual(Object.keys(jwk!).sort(), ['alg', 'e', 'kid', 'kty', 'n', 'use']);
    assert.equal(jwk!.kid, kid);
    assert.equal(await calculateJwkThumbprint({ kty: 'RSA', n: jwk!.n, e: jwk!.e }, 'sha256'), kid);
    assert.match(kid, /^[A-Za-z0-9_-]{43}$/);
    assert.deepEqual([jwk!.kty, jwk!.alg, jwk!.use, jwk!.e], ['RSA', 'RS256', 'sig', 'AQAB']);
  });

  it('stores the private key only sealed under the KEK', async () => {
    const keys = await replica('sealed.db');
    const { privateKey } = await keys.current();
    const jwk = privateKey.export({ format: 'jwk' });
    const der = privateKey.export({ format: 'der', type: 'pkcs8' });
    const files = readdirSync(dir).filter((f) => f.startsWith('sealed.db'));
    assert.ok(files.length > 0);
    for (const file of files) {
      const bytes = readFileSync(join(dir, file));
      assert.equal(bytes.includes(der.subarray(der.length - 64)), false, `${file} holds PKCS#8 bytes`);
      assert.equal(bytes.includes(Buffer.from(jwk.d!, 'base64url').subarray(0, 32)), false, `${file} holds d`);
      assert.equal(bytes.includes(Buffer.from(jwk.d!)), false, `${file} holds d as text`);
    }
  });

  it('keeps the same key across a re-open of the same database', async () => {
    const a = await replica('persist.db');
    const kidA = (await a.current()).kid;
    const b = await replica('persist.db');
    assert.equal((await b.current()).kid, kidA);
    assert.deepEqual(await b.jwks(), await a.jwks());
    assert.equal((await b.list()).length, 1);
  });

  it('replicas starting together on an empty database agree on one key', async () => {
    // On one Storage: better-sqlite3 is synchronous, so two connections of one process waiting
    // on each other's write lock would block the event loop (on PostgreSQL, separate pools:
    // test/storage/signing-keys.test.ts).
    const { storage, envelope } = await storeOn('race.db');
    const replicas = await Promise.all([1, 2, 3].map(() => SigningKeys.open(storage, envelope)));
    const kids = await Promise.all(replicas.map(async (k) => (await k.current()).kid));
    assert.equal(new Set(kids).size, 1);
  });

  it('the JWKS never carries a private member, before or after rotation', async () => {
    const keys = await replica('private.db');
    await keys.rotate();
    const text = JSON.stringify(await keys.jwks());
    const parsed = JSON.parse(text) as { keys: Record<string, unknown>[] };
    assert.equal(parsed.keys.length, 2);
    for (const jwk of parsed.keys) {
      for (const member of PRIVATE_MEMBERS) assert.equal(member in jwk, false, `JWKS has private member ${member}`);
    }
  });

  it('adopts the key of the layout before migration 0008 as the active key', async () => {
    const { storage, envelope, secrets } = await storeOn('legacy.db');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const { kty, n, e } = privateKey.export({ format: 'jwk' });
    const kid = await calculateJwkThumbprint({ kty: kty!, n: n!, e: e! }, 'sha256');
    await secrets.getOrCreate(`token-signing-key/${kid}`, () => privateKey.export({ format: 'der', type: 'pkcs8' }));
    await secrets.getOrCreate('token-signing-keys/0', () => Buffer.from(JSON.stringify({ kid, createdAt: '2026-01-01T00:00:00.000Z' })));
    const keys = await SigningKeys.open(storage, envelope, { legacySecrets: secrets });
    assert.equal((await keys.current()).kid, kid);
    assert.deepEqual((await keys.list()).map((k) => [k.kid, k.state]), [[kid, 'active']]);
  });
});
