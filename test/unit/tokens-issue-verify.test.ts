// Access tokens: Entra-shaped claims, RS256 verifiable by any JOSE library from the JWKS, and
// every forged, stale or misdirected token refused with its own code.
import assert from 'node:assert/strict';
import { createHmac, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import { Envelope } from '../../src/crypto/envelope.js';
import { createMasterKey, type MasterKey } from '../../src/crypto/master-key.js';
import { UnauthenticatedError, UnavailableError } from '../../src/errors.js';
import { Storage } from '../../src/storage/storage.js';
import { Audiences } from '../../src/tokens/audiences.js';
import { SigningKeys } from '../../src/tokens/signing-keys.js';
import { TokenIssuer, type TokenRequest } from '../../src/tokens/token-issuer.js';
import { signInAmr } from '../../src/tokens/token-claims.js';
import { bearerToken, TOKEN_ERRORS, TokenVerifier } from '../../src/tokens/token-verifier.js';

const PUBLIC_URL = 'https://kh.test:8443';
const TENANT = '0d7c54f1-8c3e-4f0a-9a51-3b2d8e6f1a20';
const CLIENT = '11111111-2222-4333-8444-555555555555';
const SP = '99999999-aaaa-4bbb-8ccc-dddddddddddd';
const USER = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
const MGMT = `${PUBLIC_URL}/`;

const appRequest = (over: Partial<TokenRequest> = {}): TokenRequest =>
  ({ kind: 'app', version: '2.0', audience: MGMT, clientAppId: CLIENT, clientAuth: 'secret', objectId: SP, ...over }) as TokenRequest;
const userRequest = (version: '1.0' | '2.0'): TokenRequest => ({
  kind: 'user',
  version,
  audience: 'https://management.core.windows.net/',
  clientAppId: CLIENT,
  clientAuth: 'none',
  user: { objectId: USER, userPrincipalName: 'ada@kh.test', displayName: 'Ada Lovelace', givenName: 'Ada', surname: 'Lovelace' },
  scp: 'user_impersonation',
  groups: ['g1', 'g2'],
  amr: ['pwd'],
  roles: ['Reader'],
});

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const parts = (token: string) => token.split('.') as [string, string, string];
const payloadOf = (token: string) => JSON.parse(Buffer.from(parts(token)[1], 'base64url').toString()) as Record<string, unknown>;

describe('access token issue and verify', () => {
  let dir: string;
  let storage: Storage;
  let keys: SigningKeys;
  let issuer: TokenIssuer;
  let verifier: TokenVerifier;
  let audiences: Audiences;
  let management: string[];
  let kek: MasterKey;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kh-tokens-'));
    storage = await Storage.open(`sqlite:${join(dir, 'k.db')}`);
    kek = createMasterKey(join(dir, 'master.key'));
    const envelope = await Envelope.open(storage, kek);
    keys = await SigningKeys.open(storage, envelope);
    issuer = new TokenIssuer({ keys, publicUrl: PUBLIC_URL, tenantId: TENANT });
    verifier = new TokenVerifier({ keys, publicUrl: PUBLIC_URL, tenantId: TENANT });
    audiences = new Audiences({ publicUrl: PUBLIC_URL, vaultDnsSuffix: 'vault.localhost', httpsPort: 8443, applicationExists: () => true });
    management = audiences.acceptedAudiences('management');
  });
  after(async () => {
    await storage?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('amr (RFC 8176): pwd for a password sign-in; pwd, otp and mfa after a second factor (v1 tokens carry it, as Entra)', async () => {
    assert.deepEqual(signInAmr(), ['pwd']);
    assert.deepEqual(signInAmr({ amr: ['otp', 'mfa'] }), ['pwd', 'otp', 'mfa']);
    assert.deepEqual(signInAmr({ amr: ['mfa', 'otp', 'mfa', 'rsa'] }), ['pwd', 'mfa', 'otp'], 'known values only, each once');
    const v1 = (await issuer.issue({ ...userRequest('1.0'), amr: signInAmr({ amr: ['otp', 'mfa'] }) } as TokenRequest)).claims;
    assert.deepEqual(v1.amr, ['pwd', 'otp', 'mfa']);
    const verified = await verifier.verify((await issuer.issue({ ...userRequest('1.0'), amr: signInAmr({ amr: ['otp', 'mfa'] }) } as TokenRequest)).token, { audiences: management });
    assert.deepEqual(verified.amr, ['pwd', 'otp', 'mfa']);
  });

  /** Asserts rejection with `code`, and that the message does not echo the token. */
  async function rejects(token: string, code: string, accepted: readonly string[] = management) {
    await assert.rejects(verifier.verify(token, { audiences: accepted }), (err: unknown) => {
      assert.ok(err instanceof UnauthenticatedError, String(err));
      assert.equal(err.code, code);
      for (const part of token.split('.')) if (part.length > 8) assert.equal(err.message.includes(part), false);
      assert.equal(err.cause, undefined);
      return true;
    });
  }

  /** Signs arbitrary claims with the server's own current key: valid signature, chosen content. */
  async function signOwn(claims: Record<string, unknown>, header: Record<string, unknown> = {}) {
    const { kid, privateKey } = await keys.current();
    return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid, ...header }).sign(privateKey);
  }

  it('issues RS256 JWTs that jose verifies from the JWKS alone', async () => {
    const issued = await issuer.issue(appRequest());
    const header = decodeProtectedHeader(issued.token);
    assert.deepEqual(header, { alg: 'RS256', typ: 'JWT', kid: (await keys.current()).kid });
    const { payload } = await jwtVerify(issued.token, createLocalJWKSet(await keys.jwks()), {
      algorithms: ['RS256'],
      issuer: `${PUBLIC_URL}/${TENANT}/v2.0`,
      audience: MGMT,
    });
    assert.deepEqual(payload, issued.claims);
    const claims = await verifier.verify(issued.token, { audiences: management });
    assert.equal(claims.oid, SP);
  });

  it('app-only v1 and v2 claims are shaped as Entra shapes them', async () => {
    const v1 = (await issuer.issue(appRequest({ version: '1.0', clientAuth: 'certificate' }))).claims;
    assert.equal(v1.iss, `${PUBLIC_URL}/${TENANT}/`);
    assert.equal(v1.ver, '1.0');
    assert.equal(v1.appid, CLIENT);
    assert.equal(v1.appidacr, '2');
    assert.equal(v1.azp, undefined);
    const v2 = (await issuer.issue(appRequest())).claims;
    assert.equal(v2.iss, `${PUBLIC_URL}/${TENANT}/v2.0`);
    assert.deepEqual([v2.ver, v2.azp, v2.azpacr, v2.appid], ['2.0', CLIENT, '1', undefined]);
    for (const c of [v1, v2]) {
      assert.deepEqual([c.idtyp, c.oid, c.sub, c.tid, c.aud], ['app', SP, SP, TENANT, MGMT]);
      assert.match(c.uti, /^[A-Za-z0-9_-]{22}$/);
      assert.equal(c.upn, undefined);
      assert.equal(c.scp, undefined);
    }
    assert.notEqual(v1.uti, v2.uti);
  });

  it('user tokens carry upn (v1) or preferred_username (v2), name, scp, groups, roles and a pairwise sub', async () => {
    const v1 = (await issuer.issue(userRequest('1.0'))).claims;
    assert.deepEqual(
      [v1.idtyp, v1.oid, v1.upn, v1.unique_name, v1.name, v1.given_name, v1.family_name, v1.scp, v1.appidacr],
      ['user', USER, 'ada@kh.test', 'ada@kh.test', 'Ada Lovelace', 'Ada', 'Lovelace', 'user_impersonation', '0'],
    );
    assert.deepEqual([v1.groups, v1.roles, v1.amr], [['g1', 'g2'], ['Reader'], ['pwd']]);
    const v2 = (await issuer.issue(userRequest('2.0'))).claims;
    assert.deepEqual([v2.preferred_username, v2.upn, v2.name, v2.scp], ['ada@kh.test', undefined, 'Ada Lovelace', 'user_impersonation']);
    assert.match(v1.sub, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(v1.sub, USER);
    assert.equal(v1.sub, v2.sub, 'same user and client: same sub');
    const other = (await issuer.issue({ ...userRequest('2.0'), clientAppId: '22222222-2222-4333-8444-555555555555' })).claims;
    assert.notEqual(other.sub, v1.sub, 'another client: another sub');
    await verifier.verify((await issuer.issue(userRequest('1.0'))).token, { audiences: management });
  });

  it('a user in more groups than a JWT holds gets the overage claim instead', async () => {
    const groups = Array.from({ length: 201 }, (_, i) => `group-${i}`);
    const c = (await issuer.issue({ ...userRequest('2.0'), groups } as TokenRequest)).claims;
    assert.equal(c.groups, undefined);
    assert.deepEqual(c._claim_names, { groups: 'src1' });
    assert.equal(c._claim_sources?.src1?.endpoint, `${PUBLIC_URL}/graph/v1.0/users/${USER}/getMemberObjects`);
  });

  it('lifetimes are a random 60–90 minutes; nbf five minutes back', async () => {
    const lifetimes = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const before = Date.now();
      const t = await issuer.issue(appRequest());
      const c = t.claims;
      const lifetime = c.exp - c.iat;
      assert.ok(lifetime >= 3600 && lifetime <= 5400, `lifetime ${lifetime}`);
      lifetimes.add(lifetime);
      assert.equal(c.nbf, c.iat - 300);
      assert.ok(Math.abs(c.iat * 1000 - before) < 2000);
      assert.equal(t.expiresOn.getTime(), c.exp * 1000);
      assert.equal(t.notBefore.getTime(), c.nbf * 1000);
      assert.ok(Math.abs(t.expiresIn - lifetime) <= 1);
    }
    assert.ok(lifetimes.size > 100, `only ${lifetimes.size} distinct lifetimes`);
  });

  it('accepts every alias of the API, in both slash forms, and refuses other audiences', async () => {
    for (const aud of ['https://management.azure.com', 'https://management.core.windows.net/', PUBLIC_URL]) {
      await verifier.verify((await issuer.issue(appRequest({ audience: aud }))).token, { audiences: management });
    }
    const vaultToken = (await issuer.issue(appRequest({ audience: 'https://vault.azure.net' }))).token;
    await verifier.verify(vaultToken, { audiences: audiences.acceptedAudiences('vault') });
    await rejects(vaultToken, TOKEN_ERRORS.audience);
    const appToken = (await issuer.issue(appRequest({ audience: `api://${CLIENT}` }))).token;
    await rejects(appToken, TOKEN_ERRORS.audience, audiences.acceptedAudiences('application', SP));
    await verifier.verify(appToken, { audiences: audiences.acceptedAudiences('application', CLIENT) });
  });

  it('refuses expired and not-yet-valid tokens, beyond a 300 s clock skew', async () => {
    const at = (offsetSeconds: number) =>
      new TokenIssuer({ keys, publicUrl: PUBLIC_URL, tenantId: TENANT, lifetimeSeconds: { min: 3600, max: 3600 }, now: () => Date.now() + offsetSeconds * 1000 });
    await rejects((await at(-3600 - 301).issue(appRequest())).token, TOKEN_ERRORS.expired);
    await verifier.verify((await at(-3600 - 200).issue(appRequest())).token, { audiences: management }); // within skew
    // Issued by a clock 11 minutes fast: nbf (iat - 5 min) is still 6 minutes ahead.
    await rejects((await at(660).issue(appRequest())).token, TOKEN_ERRORS.notYetValid);
    await verifier.verify((await at(500).issue(appRequest())).token, { audiences: management });
  });

  it('refuses tokens from another issuer or tenant, even when signed with the right key', async () => {
    const otherHost = new TokenIssuer({ keys, publicUrl: 'https://evil.test', tenantId: TENANT });
    await rejects((await otherHost.issue(appRequest())).token, TOKEN_ERRORS.issuer);
    const otherTenant = new TokenIssuer({ keys, publicUrl: PUBLIC_URL, tenantId: '3f1e2d3c-0000-4000-8000-000000000000' });
    await rejects((await otherTenant.issue(appRequest())).token, TOKEN_ERRORS.issuer);
    const good = (await issuer.issue(appRequest())).claims;
    await rejects(await signOwn({ ...good, tid: '3f1e2d3c-0000-4000-8000-000000000000' }), TOKEN_ERRORS.tenant);
    await rejects(await signOwn({ ...good, iss: `${PUBLIC_URL}/${TENANT}/` }), TOKEN_ERRORS.issuer); // v1 issuer, ver 2.0
  });

  it('refuses tampered tokens and signatures by other keys', async () => {
    const token = (await issuer.issue(appRequest())).token;
    const [h, p, s] = parts(token);
    await rejects(`${h}.${b64({ ...payloadOf(token), oid: USER })}.${s}`, TOKEN_ERRORS.signature);
    const sig = Buffer.from(s, 'base64url');
    sig[10]! ^= 1;
    await rejects(`${h}.${p}.${sig.toString('base64url')}`, TOKEN_ERRORS.signature);
    const { privateKey: foreign } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const claims = payloadOf(token);
    const { kid } = await keys.current();
    await rejects(await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid }).sign(foreign), TOKEN_ERRORS.signature);
    await rejects(await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: 'forged' }).sign(foreign), TOKEN_ERRORS.unknownKey);
    // A key embedded in the token itself is never trusted (RFC 8725 §3.10 applies to jwk/jku/x5u alike).
    const embedded = createPublicKey(foreign).export({ format: 'jwk' });
    await rejects(await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'x', jwk: { kty: 'RSA', n: embedded.n!, e: embedded.e! } }).sign(foreign), TOKEN_ERRORS.unknownKey);
  });

  it("refuses alg 'none' and HS256 keyed with the public key (algorithm confusion)", async () => {
    const claims = payloadOf((await issuer.issue(appRequest())).token);
    const { kid } = await keys.current();
    await rejects(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`, TOKEN_ERRORS.algorithm);
    await rejects(`${b64({ alg: 'none', typ: 'JWT', kid })}.${b64(claims)}.`, TOKEN_ERRORS.algorithm);
    const jwk = (await keys.jwks()).keys[0]!;
    const spkiPem = createPublicKey({ key: { ...jwk }, format: 'jwk' }).export({ format: 'pem', type: 'spki' });
    for (const alg of ['HS256', 'HS512'] as const) {
      for (const secret of [spkiPem, JSON.stringify(jwk), Buffer.from(jwk.n, 'base64url')]) {
        const signingInput = `${b64({ alg, typ: 'JWT', kid })}.${b64(claims)}`;
        const mac = createHmac(alg === 'HS256' ? 'sha256' : 'sha512', secret).update(signingInput).digest('base64url');
        await rejects(`${signingInput}.${mac}`, TOKEN_ERRORS.algorithm);
      }
    }
    for (const alg of ['PS256', 'RS512', 'ES256']) {
      await rejects(`${b64({ alg, typ: 'JWT', kid })}.${b64(claims)}.AAAA`, TOKEN_ERRORS.algorithm);
    }
  });

  it('refuses malformed tokens and tokens missing Entra claims', async () => {
    for (const bad of ['', 'abc', 'a.b', 'a.b.c', 'a.b.c.d.e', '..', `${'x'.repeat(20000)}.y.z`, `${b64({ alg: 'RS256' })}.${b64({})}`]) {
      await rejects(bad, TOKEN_ERRORS.malformed);
    }
    const good = (await issuer.issue(appRequest())).claims as unknown as Record<string, unknown>;
    const { kid } = await keys.current();
    await rejects(await signOwn(good, { kid: undefined }), TOKEN_ERRORS.malformed);
    for (const claim of ['tid', 'oid', 'sub', 'ver', 'exp', 'nbf', 'iat', 'azp', 'idtyp', 'uti']) {
      const { [claim]: _, ...rest } = good;
      await rejects(await signOwn(rest), TOKEN_ERRORS.malformed);
    }
    await rejects(await signOwn({ ...good, ver: '3.0' }), TOKEN_ERRORS.malformed);
    await rejects(await signOwn({ ...good, roles: 'Owner' }), TOKEN_ERRORS.malformed);
    await rejects(await signOwn({ ...good, aud: [MGMT, 'https://other/'] }), TOKEN_ERRORS.audience);
    // Correctly signed, but the payload is not a JSON object (RFC 7519 §7.2 step 10).
    const input = `${b64({ alg: 'RS256', kid })}.${Buffer.from('not json').toString('base64url')}`;
    const signature = sign('sha256', Buffer.from(input), (await keys.current()).privateKey).toString('base64url');
    await rejects(`${input}.${signature}`, TOKEN_ERRORS.malformed);
  });

  it('a storage failure while looking up a key is not reported as a bad token', async () => {
    let down = false;
    const envelope = await Envelope.open(storage, kek);
    // The same storage, whose signing-key reads fail while `down`.
    const flakyStorage = {
      transaction: storage.transaction.bind(storage),
      watchChannel: storage.watchChannel.bind(storage),
      get read() {
        return {
          ...storage.read,
          signingKeys: Object.assign(Object.create(storage.read.signingKeys), {
            all: () => (down ? Promise.reject(new UnavailableError('KH_STORAGE_UNAVAILABLE', 'storage is not reachable')) : storage.read.signingKeys.all()),
          }),
        };
      },
    } as unknown as Storage;
    const flaky = await SigningKeys.open(flakyStorage, envelope, { unknownKidRefreshMs: 0 });
    const flakyVerifier = new TokenVerifier({ keys: flaky, publicUrl: PUBLIC_URL, tenantId: TENANT });
    const { privateKey: foreign } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const claims = payloadOf((await issuer.issue(appRequest())).token);
    const token = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'not-yet-seen' }).sign(foreign);
    down = true;
    await assert.rejects(flakyVerifier.verify(token, { audiences: management }), (err: unknown) => err instanceof UnavailableError);
    down = false;
    await assert.rejects(flakyVerifier.verify(token, { audiences: management }), (err: unknown) => err instanceof UnauthenticatedError && err.code === TOKEN_ERRORS.unknownKey);
  });

  it('reads the token from a Bearer Authorization header', () => {
    assert.equal(bearerToken('Bearer abc.def.ghi'), 'abc.def.ghi');
    assert.equal(bearerToken('bearer abc.def.ghi'), 'abc.def.ghi');
    for (const bad of [undefined, '', 'Basic abc', 'Bearer', 'Bearer a b', 'Bearer a\u0000b']) {
      assert.throws(() => bearerToken(bad), (err: unknown) => err instanceof UnauthenticatedError && err.code === TOKEN_ERRORS.malformed);
    }
  });
});
