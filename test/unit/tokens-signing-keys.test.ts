// Signing keys: created once, sealed in the database, shared by replicas, rotated with the
// previous key kept published; the JWKS carries public members only (RFC 7517 §9.3).
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { calculateJwkThumbprint, createLocalJWKSet, jwtVerify } from 'jose';
import { Envelope } from '../../src/crypto/envelope.js';
import { createMasterKey, type MasterKey } from '../../src/crypto/master-key.js';
import { ServerSecrets } from '../../src/keys/server-secrets.js';
import { Storage } from '../../src/storage/storage.js';
import { SigningKeys, type SigningKeysOptions } from '../../src/tokens/signing-keys.js';
import { TokenIssuer } from '../../src/tokens/token-issuer.js';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const TENANT = '6f1c2a44-5b7e-4c1d-9a0e-2f3b4c5d6e7f';

describe('token signing keys', () => {
  let dir: string;
  let kek: MasterKey;
  const opened: Storage[] = [];

  /** One "replica": its own Storage, Envelope and ServerSecrets on the shared database file. */
  async function secretsOn(db: string): Promise<ServerSecrets> {
    const storage = await Storage.open(`sqlite:${join(dir, db)}`);
    opened.push(storage);
    return new ServerSecrets(storage, await Envelope.open(storage, kek));
  }
  async function replica(db: string, options: SigningKeysOptions = {}): Promise<SigningKeys> {
    return SigningKeys.open(await secretsOn(db), options);
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
    // Storage (and its migrations) opens one after another; the signing keys all at once.
    const secrets = [await secretsOn('race.db'), await secretsOn('race.db'), await secretsOn('race.db')];
    const replicas = await Promise.all(secrets.map((s) => SigningKeys.open(s)));
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

  it('rotation signs with the new key, keeps the old one published, then retires it', async () => {
    let now = Date.now();
    const keys = await replica('rotate.db', { now: () => now, retainPreviousMs: 24 * 3600_000 });
    const issuer = new TokenIssuer({ keys, publicUrl: 'https://kh.test:8443', tenantId: TENANT, now: () => now });
    const request = { version: '2.0', kind: 'app', audience: 'https://kh.test:8443/', clientAppId: 'c', clientAuth: 'secret', objectId: 'o' } as const;
    const before = await issuer.issue(request);
    const oldKid = (await keys.current()).kid;

    const info = await keys.rotate();
    assert.equal(info.status, 'current');
    assert.equal(info.generation, 1);
    assert.notEqual(info.kid, oldKid);
    const afterRotation = await issuer.issue(request);
    assert.equal(JSON.parse(Buffer.from(afterRotation.token.split('.')[0]!, 'base64url').toString()).kid, info.kid);

    const jwks = await keys.jwks();
    assert.deepEqual(jwks.keys.map((k) => k.kid), [info.kid, oldKid]);
    const set = createLocalJWKSet(jwks);
    await jwtVerify(before.token, set, { currentDate: new Date(now) });
    await jwtVerify(afterRotation.token, set, { currentDate: new Date(now) });
    assert.deepEqual((await keys.list()).map((k) => k.status), ['previous', 'current']);

    now += 24 * 3600_000 + 1000;
    assert.deepEqual((await keys.list()).map((k) => k.status), ['retired', 'current']);
    assert.deepEqual((await keys.jwks()).keys.map((k) => k.kid), [info.kid]);
    assert.equal(await keys.publicKey(oldKid), undefined);
  });

  it("a replica picks up another replica's rotation", async () => {
    const a = await replica('shared.db');
    const b = await replica('shared.db', { refreshIntervalMs: 60_000, unknownKidRefreshMs: 0 });
    const first = (await b.current()).kid;
    const rotated = await a.rotate();
    // b still signs with the first key until its refresh interval passes; that key stays valid.
    assert.equal((await b.current()).kid, first);
    // A token signed with the new key names a kid b has not seen: b looks it up at once.
    assert.ok(await b.publicKey(rotated.kid));
    assert.equal((await b.current()).kid, rotated.kid);
    assert.equal(await b.publicKey('no-such-kid'), undefined);
  });

  it('two rotations at once yield one new generation', async () => {
    const a = await replica('double.db');
    const b = await replica('double.db');
    const [ra, rb] = await Promise.all([a.rotate(), b.rotate()]);
    assert.equal(ra.kid, rb.kid);
    assert.equal((await a.list()).length, 2);
  });
});
