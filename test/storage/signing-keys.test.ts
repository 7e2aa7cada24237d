// The signing-key lifecycle on both engines, with a test clock (nothing waits for time to pass):
// a new key is published before it signs; tokens signed before a rotation keep verifying (jose,
// against the JWKS) until they expire; new tokens name the new kid; a retired key leaves the JWKS
// once every token it signed has expired; scheduled rotation; `--now` and `--revoke-previous`;
// and two replicas on one database agree on the keys and never both create one.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { Envelope } from '../../src/crypto/envelope.js';
import { createMasterKey, type MasterKey } from '../../src/crypto/master-key.js';
import { ConflictError, UnauthenticatedError } from '../../src/errors.js';
import { Storage } from '../../src/storage/storage.js';
import { SigningKeys, type SigningKeysOptions, type SigningKeyTransition } from '../../src/tokens/signing-keys.js';
import { TokenIssuer } from '../../src/tokens/token-issuer.js';
import { TOKEN_ERRORS, TokenVerifier } from '../../src/tokens/token-verifier.js';
import { engines, type EngineFixture } from '../helpers/engines.js';

const TENANT = '6f1c2a44-5b7e-4c1d-9a0e-2f3b4c5d6e7f';
const PUBLIC_URL = 'https://kh.test:8443';
const AUD = `${PUBLIC_URL}/`;
const HOUR = 3600_000;
const DAY = 24 * HOUR;
const request = { version: '2.0', kind: 'app', audience: AUD, clientAppId: 'c', clientAuth: 'secret', objectId: 'o' } as const;
// Tokens live exactly one hour here; keys are retained 2 hours after retirement.
const LIFETIME = { min: 3600, max: 3600 };
const POLICY = { rotationMs: 0, prepublishMs: 24 * HOUR, retainMs: 2 * HOUR, refreshIntervalMs: 60_000 };

const kidOf = (token: string) => decodeProtectedHeader(token).kid;

for (const engine of engines) {
  describe(`signing key lifecycle: ${engine.name}`, () => {
    let dir: string;
    let kek: MasterKey;
    const fixtures: EngineFixture[] = [];
    const opened: Storage[] = [];
    let clock = Date.parse('2026-12-01T00:00:00Z');
    const now = () => clock;

    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'kh-signing-keys-'));
      kek = createMasterKey(join(dir, 'master.key'));
    });
    after(async () => {
      for (const s of opened) await s.close();
      for (const f of fixtures) await f.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    async function database(): Promise<EngineFixture> {
      const fx = await engine.create();
      fixtures.push(fx);
      return fx;
    }
    /** One replica: its own Storage (its own pool on PostgreSQL) and Envelope on the database. */
    const storages = new Map<SigningKeys, Storage>();
    async function replica(fx: EngineFixture, options: SigningKeysOptions & { shareWith?: SigningKeys } = {}): Promise<SigningKeys> {
      const { shareWith, ...rest } = options;
      let storage = shareWith && engine.name === 'sqlite' ? storages.get(shareWith) : undefined;
      if (!storage) {
        storage = await Storage.open(fx.url);
        opened.push(storage);
      }
      const keys = await SigningKeys.open(storage, await Envelope.open(storage, kek), { ...POLICY, now, ...rest });
      storages.set(keys, storage);
      return keys;
    }
    const tools = (keys: SigningKeys) => ({
      issuer: new TokenIssuer({ keys, publicUrl: PUBLIC_URL, tenantId: TENANT, now, lifetimeSeconds: LIFETIME }),
      verifier: new TokenVerifier({ keys, publicUrl: PUBLIC_URL, tenantId: TENANT, now }),
    });
    /** What a relying party does: verify against the JWKS as published now. */
    async function verifiesWithJwks(keys: SigningKeys, token: string): Promise<boolean> {
      try {
        await jwtVerify(token, createLocalJWKSet(await keys.jwks()), { currentDate: new Date(clock), clockTolerance: 300 });
        return true;
      } catch {
        return false;
      }
    }
    const states = async (keys: SigningKeys) => (await keys.list()).map((k) => k.state);

    it('a rotation publishes the new key first, signs with it after the pre-publication, keeps the old one until its tokens expire', async () => {
      const transitions: SigningKeyTransition[] = [];
      const keys = await replica(await database(), { onTransition: async (t) => void transitions.push(t) });
      const { issuer, verifier } = tools(keys);
      const oldKid = (await keys.current()).kid;
      assert.deepEqual(transitions.map((t) => t.reason), ['bootstrap']);
      const before = (await issuer.issue(request)).token;

      const [, pending] = await keys.rotate();
      assert.equal(pending!.state, 'pending');
      assert.equal(Date.parse(pending!.activatesAt), clock + POLICY.prepublishMs);
      // Published at once, not signing yet.
      assert.deepEqual((await keys.jwks()).keys.map((k) => k.kid), [oldKid, pending!.kid]);
      assert.equal(kidOf((await issuer.issue(request)).token), oldKid);
      await assert.rejects(keys.rotate(), (err: unknown) => err instanceof ConflictError && err.code === 'KH_SIGNING_KEY_ROTATION_PENDING');

      clock += POLICY.prepublishMs - 1000;
      assert.equal(kidOf((await issuer.issue(request)).token), oldKid);
      const lastOld = (await issuer.issue(request)).token;
      clock += 1000; // the pre-publication is over: the new key signs
      const after = (await issuer.issue(request)).token;
      assert.equal(kidOf(after), pending!.kid);
      assert.deepEqual(await states(keys), ['retired', 'active']);
      assert.deepEqual((await keys.jwks()).keys.map((k) => k.kid), [pending!.kid, oldKid], 'the signing key is listed first');
      assert.ok(await verifiesWithJwks(keys, lastOld), 'a token signed just before the switch still verifies');
      assert.ok(await verifiesWithJwks(keys, after));
      await verifier.verify(lastOld, { audiences: [AUD] });

      // The old key's last token lives one hour (+ 5 minutes' skew); the key stays 2 hours.
      clock += HOUR;
      assert.ok(await verifiesWithJwks(keys, lastOld));
      clock += POLICY.retainMs - HOUR;
      assert.deepEqual((await keys.jwks()).keys.map((k) => k.kid), [pending!.kid], 'the retired key left the JWKS');
      assert.equal(await keys.publicKey(oldKid), undefined);
      assert.deepEqual(await states(keys), ['active'], 'and the store');
      await assert.rejects(verifier.verify(lastOld, { audiences: [AUD] }), (err: unknown) => err instanceof UnauthenticatedError && err.code === TOKEN_ERRORS.unknownKey);
      assert.equal(await verifiesWithJwks(keys, before), false);
      assert.deepEqual(transitions.map((t) => t.reason), ['bootstrap', 'rotate', 'schedule', 'schedule']);
      assert.deepEqual(transitions[2], { reason: 'schedule', activated: pending!.kid, retired: [oldKid], removed: [] });
      assert.deepEqual(transitions[3], { reason: 'schedule', retired: [], removed: [oldKid] });
    });

    it('rotates on a schedule, publishing the next key ahead', async () => {
      const keys = await replica(await database(), { rotationMs: 10 * DAY, prepublishMs: DAY });
      const start = clock;
      const first = (await keys.current()).kid;
      clock = start + 9 * DAY - 1;
      assert.equal((await keys.jwks()).keys.length, 1);
      clock = start + 9 * DAY;
      const jwks = (await keys.jwks()).keys.map((k) => k.kid);
      assert.equal(jwks.length, 2, 'the next key is published a day ahead');
      assert.equal((await keys.current()).kid, first);
      clock = start + 10 * DAY;
      assert.equal((await keys.current()).kid, jwks[1]);
      assert.deepEqual(await states(keys), ['retired', 'active']);
      clock = start + 19 * DAY;
      assert.deepEqual(await states(keys), ['active', 'pending'], 'the retired key is gone; the third is published');
    });

    it('--now signs with a new key at once and retires the old one; --revoke-previous unpublishes it at once', async () => {
      const keys = await replica(await database());
      const { issuer } = tools(keys);
      const oldKid = (await keys.current()).kid;
      const before = (await issuer.issue(request)).token;
      await keys.rotate(); // a pending key: --now replaces it too
      const after = await keys.rotate({ immediate: true });
      assert.deepEqual(after.map((k) => k.state).sort(), ['active', 'retired']);
      const newKid = after.find((k) => k.state === 'active')!.kid;
      assert.equal(after.find((k) => k.state === 'retired')!.kid, oldKid);
      assert.equal(kidOf((await issuer.issue(request)).token), newKid);
      assert.ok(await verifiesWithJwks(keys, before), 'a plain --now keeps the old tokens valid');
      assert.deepEqual((await keys.jwks()).keys.map((k) => k.kid), [newKid, oldKid]);

      const revoked = await keys.rotate({ immediate: true, revokePrevious: true });
      assert.deepEqual(revoked.map((k) => k.state), ['active']);
      assert.equal((await keys.jwks()).keys.length, 1);
      assert.equal(await verifiesWithJwks(keys, before), false, 'tokens of a revoked key stop verifying at once');
    });

    it('two replicas agree: one creates the scheduled key, both publish the same JWKS and sign with the same key', async () => {
      const fx = await database();
      const options = { rotationMs: 10 * DAY, prepublishMs: DAY, unknownKidRefreshMs: 0 };
      const a = await replica(fx, options);
      // SQLite serves from one process; two SigningKeys on one Storage stand for two of its
      // users (better-sqlite3 is synchronous: two connections in one process waiting on each
      // other's lock would block the event loop).
      const b = await replica(fx, { ...options, shareWith: a });
      assert.deepEqual(await a.jwks(), await b.jwks());
      const start = clock;
      clock = start + 9 * DAY;
      // Both find the transition due at the same moment; the lock lets one make it.
      const [ja, jb] = await Promise.all([a.jwks(), b.jwks()]);
      assert.deepEqual(ja, jb);
      assert.equal(ja.keys.length, 2);
      assert.equal((await a.list()).length, 2, 'one new key, not two');
      clock = start + 10 * DAY;
      const [ca, cb] = await Promise.all([a.current(), b.current()]);
      assert.equal(ca.kid, cb.kid);
      assert.equal(ca.kid, ja.keys[1]!.kid);
    });

    it('replicas opening an empty database together make one first key', async () => {
      const fx = await database();
      // PostgreSQL: three pools; SQLite: three users of one Storage (see the test below).
      const storages: Storage[] = [];
      for (let i = 0; i < (engine.name === 'postgres' ? 3 : 1); i++) {
        storages.push(await Storage.open(fx.url)); // migrations run before the race
        opened.push(storages.at(-1)!);
      }
      const keys = await Promise.all([0, 1, 2].map(async (i) => {
        const st = storages[i % storages.length]!;
        return SigningKeys.open(st, await Envelope.open(st, kek), { ...POLICY, now });
      }));
      assert.equal(new Set(await Promise.all(keys.map(async (k) => (await k.current()).kid))).size, 1);
      assert.deepEqual(await states(keys[0]!), ['active']);
    });

    it('with no pre-publication, a rotation signs at once (the old key still retired, not removed)', async () => {
      const keys = await replica(await database(), { prepublishMs: 0 });
      const oldKid = (await keys.current()).kid;
      const after = await keys.rotate();
      assert.deepEqual(after.map((k) => [k.kid === oldKid, k.state]).sort(), [[false, 'active'], [true, 'retired']]);
      assert.notEqual((await keys.current()).kid, oldKid);
    });

    it("a replica follows another's rotation: at once on PostgreSQL (NOTIFY), within the refresh interval otherwise", async () => {
      const fx = await database();
      const a = await replica(fx);
      const b = await replica(fx);
      await b.watch();
      const pending = (await a.rotate({ immediate: true })).find((k) => k.state === 'active');
      if (engine.name === 'postgres') {
        const deadline = Date.now() + 10_000;
        while ((await b.current()).kid !== pending!.kid) {
          assert.ok(Date.now() < deadline, 'the NOTIFY did not reach the other replica');
          await new Promise((r) => setTimeout(r, 20));
        }
      } else {
        clock += POLICY.refreshIntervalMs;
      }
      assert.equal((await b.current()).kid, pending!.kid);
      assert.deepEqual(await b.jwks(), await a.jwks());
    });
  });
}
