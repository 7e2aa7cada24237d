// Machine enrollment against a live server (issue 10 item 4): join tokens issued through the
// management API and `keyhaven vm join-token create`, machines joining with `keyhaven machine
// join` (key pair made on the machine) and with hand-made jose keys, tokens for the machines from
// @azure/identity's ClientAssertionCredential, revocation of one machine of a pool (its next
// token request and its already-issued token refused, the other machine unaffected), key
// rotation, expiry of a pool token (the server restarted with its enrollment clock moved ahead:
// no sleeping), the private keys looked for in the stored rows and the audit log, and hostile
// join requests — each refused with its ARM-shaped error and nothing written.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ClientAssertionCredential } from '@azure/identity';
import { decodeJwt, exportJWK, SignJWT, type JWK } from 'jose';
import { withPgClient } from '../helpers/postgres.js';
import { blackboxStorage, runCli, startServerProcess, tempHome, TEST_CA_CERT, type ServerProcess } from '../helpers/server-process.js';
import { createServicePrincipal, postForm, tenantOf, userToken, type Tenant } from '../helpers/tenant-fixtures.js';

const COMPUTE = 'api-version=2022-11-01';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

interface Answer {
  status: number;
  body: Record<string, any>;
  text: string;
}

interface JoinedMachine {
  id: string;
  clientId: string;
  kid: string;
  privateKey: KeyObject;
  alg: string;
}

describe('machine enrollment', () => {
  const { home, remove } = tempHome();
  const work = mkdtempSync(join(tmpdir(), 'kh-machines-'));
  const configDir = join(work, 'config');
  let storage: { url: string; drop(): Promise<void> };
  let server: ServerProcess;
  let t: Tenant;
  let admin: string;
  let armScope: string;
  let sub: string;
  const privateMaterial: string[] = [];
  const joinTokens: string[] = [];
  let vmId: string;
  let poolId: string;

  const kh = (...args: string[]) => runCli(args, { env: { KEYHAVEN_CONFIG_DIR: configDir } });
  const json = (r: { stdout: string }) => JSON.parse(r.stdout) as Record<string, any>;

  async function call(token: string | undefined, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const res = await fetch(`${t.url}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: Record<string, any> = {};
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      parsed = { raw: text };
    }
    return { status: res.status, body: parsed, text };
  }

  const rg = () => `/subscriptions/${sub}/resourceGroups/machines-rg`;
  async function joinToken(resourceId: string, body: Record<string, unknown> = {}): Promise<string> {
    const r = await call(admin, 'POST', `${resourceId}/generateJoinToken?${COMPUTE}`, body);
    assert.equal(r.status, 200, r.text);
    joinTokens.push(r.body.token);
    return r.body.token as string;
  }

  /** A machine's key made here (as the machine would), RSA or EC. */
  function machineKey(kind: 'rsa' | 'ec' = 'ec', bits = 2048): { privateKey: KeyObject; alg: string } {
    const { privateKey } = kind === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: bits }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return { privateKey, alg: kind === 'rsa' ? 'RS256' : 'ES256' };
  }
  async function publicJwkOf(privateKey: KeyObject): Promise<JWK> {
    const full = await exportJWK(privateKey);
    remember(full);
    return full.kty === 'RSA' ? { kty: 'RSA', n: full.n!, e: full.e! } : { kty: 'EC', crv: full.crv!, x: full.x!, y: full.y! };
  }
  function remember(full: JWK): void {
    for (const m of ['d', 'p', 'q', 'dp', 'dq', 'qi'] as const) if (typeof full[m] === 'string') privateMaterial.push(full[m]!);
  }
  async function joinWith(token: string, kind: 'rsa' | 'ec' = 'ec'): Promise<JoinedMachine> {
    const { privateKey, alg } = machineKey(kind);
    const r = await call(undefined, 'POST', '/machines/join', { token, publicKey: await publicJwkOf(privateKey) });
    assert.equal(r.status, 201, r.text);
    return { id: r.body.id, clientId: r.body.clientId, kid: r.body.kid, privateKey, alg };
  }
  function assertion(m: JoinedMachine, claims: Record<string, unknown> = {}, key = m.privateKey, kid = m.kid): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iss: m.clientId, sub: m.clientId, aud: t.tokenUrl, jti: randomUUID(), iat: now, nbf: now, exp: now + 300, ...claims })
      .setProtectedHeader({ alg: m.alg, typ: 'JWT', kid }).sign(key);
  }
  /** The machine's token for the management API, the way Azure SDK code gets one. */
  async function machineArmToken(m: JoinedMachine): Promise<string> {
    const credential = new ClientAssertionCredential(t.tenantId, m.clientId, () => assertion(m), { authorityHost: t.url, disableInstanceDiscovery: true });
    const token = await credential.getToken(armScope);
    assert.ok(token?.token);
    return token.token;
  }
  const tokenRequest = async (m: JoinedMachine, signed?: string) =>
    postForm(t.tokenUrl, { grant_type: 'client_credentials', client_id: m.clientId, scope: armScope, client_assertion_type: ASSERTION_TYPE, client_assertion: signed ?? (await assertion(m)) });
  const subscriptions = (token: string) => call(token, 'GET', '/subscriptions?api-version=2019-11-01');
  const machinesOf = async (resourceId: string) => {
    const r = await call(admin, 'GET', `${resourceId}/machines?${COMPUTE}`);
    assert.equal(r.status, 200, r.text);
    return r.body.value as Record<string, any>[];
  };

  before(async () => {
    storage = await blackboxStorage(home);
    server = await startServerProcess({ home, storage: storage.url, args: ['--lockout-threshold', '100'] });
    t = await tenantOf(server);
    armScope = `${t.url}//.default`;
    admin = await userToken(t, 'admin', t.adminPassword, armScope);
    const subs = await subscriptions(admin);
    sub = subs.body.value[0].subscriptionId;
    assert.equal((await call(admin, 'PUT', `${rg()}?api-version=2021-04-01`, { location: 'westeurope' })).status, 201);
    vmId = `${rg()}/providers/Microsoft.Compute/virtualMachines/vm1`;
    poolId = `${rg()}/providers/Microsoft.Compute/virtualMachineScaleSets/pool`;
    for (const id of [vmId, poolId, `${rg()}/providers/Microsoft.Compute/virtualMachines/vm2`]) {
      const r = await call(admin, 'PUT', `${id}?${COMPUTE}`, { location: 'westeurope' });
      assert.equal(r.status, 201, r.text);
    }
    const login = await kh('login', '--server', t.url, '--username', 'admin', '--password', t.adminPassword);
    assert.equal(login.code, 0, login.stderr);
  });
  after(async () => {
    await server?.stop();
    await storage?.drop();
    remove();
    rmSync(work, { recursive: true, force: true });
  });

  let cliMachine: { dir: string; id: string; clientId: string; kid: string };

  it('a VM join token works once: keyhaven machine join writes a 0600 credential, the machine gets tokens carrying it', async () => {
    const created = await kh('vm', 'join-token', 'create', '-g', 'machines-rg', '-n', 'vm1');
    assert.equal(created.code, 0, created.stderr);
    const issued = json(created);
    assert.equal(issued.maxUses, 1);
    assert.equal(issued.resourceId.toLowerCase(), vmId.toLowerCase());
    assert.match(issued.token, /^[A-Za-z0-9_-]{43}$/);
    joinTokens.push(issued.token);
    const dir = join(work, 'vm1-state');
    const joined = await runCli(['machine', 'join', '--server', t.url, '--token', issued.token, '--state-dir', dir, '--ca-file', TEST_CA_CERT], { env: { KEYHAVEN_CONFIG_DIR: join(work, 'nobody') } });
    assert.equal(joined.code, 0, joined.stderr);
    const summary = json(joined);
    assert.equal(summary.resourceId.toLowerCase(), vmId.toLowerCase());
    assert.ok(!joined.stdout.includes('PRIVATE KEY'), 'the private key is never printed');
    const file = join(dir, 'machine.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    const state = JSON.parse(readFileSync(file, 'utf8'));
    for (const k of ['privateKeyPem', 'kid', 'clientId', 'tenantId', 'server', 'caPem', 'tokenEndpoint']) assert.ok(state[k], k);
    assert.equal(state.tenantId, t.tenantId);
    privateMaterial.push(...pemChunks(state.privateKeyPem));
    cliMachine = { dir, id: summary.machineId, clientId: summary.clientId, kid: summary.kid };

    // Used: a second join with the same token is refused and joins nothing.
    const again = await call(undefined, 'POST', '/machines/join', { token: issued.token, publicKey: await publicJwkOf(machineKey().privateKey) });
    assert.equal(again.status, 401, again.text);
    assert.equal(again.body.error.code, 'JoinTokenUsed');
    assert.equal((await machinesOf(vmId)).length, 1);

    // The machine's token (through the CLI, from the credential file) carries the machine.
    const got = await runCli(['machine', 'get-access-token', '--resource', `${t.url}/`, '--state-dir', dir]);
    assert.equal(got.code, 0, got.stderr);
    const claims = decodeJwt(json(got).accessToken);
    assert.equal(claims.kh_machine, cliMachine.id);
    assert.equal(String(claims.xms_mirid).toLowerCase(), vmId.toLowerCase());
    assert.equal(claims.oid, cliMachine.id);
    assert.equal(claims.azp, cliMachine.clientId);
    assert.equal((await subscriptions(json(got).accessToken)).status, 200, 'the management API accepts it');
  });

  let poolA: JoinedMachine;
  let poolB: JoinedMachine;

  it('a scale set token works up to its use count, for machines of either key type', async () => {
    const created = await kh('vm', 'join-token', 'create', '-g', 'machines-rg', '-n', 'pool', '--vmss', '--max-uses', '2', '--expires-in', '600');
    assert.equal(created.code, 0, created.stderr);
    const token = json(created).token as string;
    joinTokens.push(token);
    assert.equal(json(created).maxUses, 2);
    poolA = await joinWith(token, 'rsa');
    poolB = await joinWith(token, 'ec');
    assert.notEqual(poolA.clientId, poolB.clientId);
    const third = await call(undefined, 'POST', '/machines/join', { token, publicKey: await publicJwkOf(machineKey().privateKey) });
    assert.equal(third.status, 401, third.text);
    assert.equal(third.body.error.code, 'JoinTokenUsed');
    const listed = await kh('vm', 'machine', 'list', '-g', 'machines-rg', '-n', 'pool', '--vmss');
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual((JSON.parse(listed.stdout) as { id: string }[]).map((m) => m.id).sort(), [poolA.id, poolB.id].sort());
    // A VM's token has one use: asking for more is refused.
    const more = await call(admin, 'POST', `${vmId}/generateJoinToken?${COMPUTE}`, { maxUses: 3 });
    assert.equal(more.status, 400, more.text);
    assert.equal(more.body.error.code, 'InvalidRequestContent');
  });

  it('join tokens and machine lists are refused without write or read on the resource', async () => {
    const anonymous = await call(undefined, 'POST', `${vmId}/generateJoinToken?${COMPUTE}`, {});
    assert.equal(anonymous.status, 401);
    const machineToken = await machineArmToken(poolB);
    for (const [method, path] of [['POST', `${vmId}/generateJoinToken`], ['GET', `${poolId}/machines`], ['POST', `${poolId}/machines/${poolA.id}/revoke`], ['POST', `${rg()}/providers/Microsoft.Compute/virtualMachines/nothing/generateJoinToken`]] as const) {
      const r = await call(machineToken, method, `${path}?${COMPUTE}`, method === 'POST' ? {} : undefined);
      assert.equal(r.status, 403, `${method} ${path}: ${r.text}`);
      assert.equal(r.body.error.code, 'AuthorizationFailed');
    }
    assert.equal((await machinesOf(poolId)).every((m) => m.state === 'Active'), true);
  });

  it('revoking one machine of a pool refuses its next token request and its issued token at once; the other keeps working', async () => {
    const tokenA = await machineArmToken(poolA);
    const tokenB = await machineArmToken(poolB);
    assert.equal((await subscriptions(tokenA)).status, 200);
    assert.equal((await subscriptions(tokenB)).status, 200);
    const revoked = await kh('vm', 'machine', 'revoke', '-g', 'machines-rg', '-n', 'pool', '--vmss', '--machine-id', poolA.id);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal(json(revoked).state, 'Revoked');
    // The token issued before: refused by the management API on the very next request.
    const refused = await subscriptions(tokenA);
    assert.equal(refused.status, 401, refused.text);
    assert.equal(refused.body.error.code, 'InvalidAuthenticationToken');
    // And by the directory API.
    assert.equal((await call(tokenA, 'GET', '/graph/v1.0/organization')).status, 401);
    // Its next token request: invalid_client, AADSTS700027, no token.
    const next = await tokenRequest(poolA);
    assert.equal(next.status, 401, JSON.stringify(next.body));
    assert.equal(next.body.error, 'invalid_client');
    assert.deepEqual(next.body.error_codes, [700027]);
    assert.match(String(next.body.error_description), /^AADSTS700027: .*revoked/);
    assert.equal(next.body.access_token, undefined);
    // The pool's other machine: its old token and new ones work.
    assert.equal((await subscriptions(tokenB)).status, 200);
    assert.equal((await subscriptions(await machineArmToken(poolB))).status, 200);
    const states = Object.fromEntries((await machinesOf(poolId)).map((m) => [m.id, m.state]));
    assert.deepEqual(states, { [poolA.id]: 'Revoked', [poolB.id]: 'Active' });
    // Revoking again changes nothing; a machine of another resource is not found here.
    assert.equal((await call(admin, 'POST', `${poolId}/machines/${poolA.id}/revoke?${COMPUTE}`)).status, 200);
    const elsewhere = await call(admin, 'POST', `${poolId}/machines/${cliMachine.id}/revoke?${COMPUTE}`);
    assert.equal(elsewhere.status, 404, elsewhere.text);
    assert.equal(elsewhere.body.error.code, 'MachineNotFound');
  });

  it("a machine gets tokens for its pool's managed identities; revoking it stops its identity tokens, not the pool's", async () => {
    const graphAdmin = await userToken(t, 'admin', t.adminPassword);
    // Stand-ins for the identities the managed-identity provider creates: service principals,
    // written into the scale set's identity block in ARM's shape.
    const system = await createServicePrincipal(t, graphAdmin, 'pool-system-identity');
    const user = await createServicePrincipal(t, graphAdmin, 'pool-user-identity');
    const uaiId = `${rg()}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/shared`;
    await setIdentity(poolId, { type: 'SystemAssigned, UserAssigned', principalId: system.servicePrincipalId, tenantId: t.tenantId, userAssignedIdentities: { [uaiId]: { principalId: user.servicePrincipalId, clientId: user.appId } } });
    const poolC = await joinWith(await joinToken(poolId, { maxUses: 1 }));
    const identityToken = async (m: JoinedMachine, extra: Record<string, string>) =>
      postForm(t.tokenUrl, { grant_type: 'client_credentials', client_id: m.clientId, scope: armScope, client_assertion_type: ASSERTION_TYPE, client_assertion: await assertion(m), ...extra });
    const bSystem = await identityToken(poolB, { identity: 'system' });
    assert.equal(bSystem.status, 200, JSON.stringify(bSystem.body));
    const claims = decodeJwt(bSystem.body.access_token as string);
    assert.equal(claims.oid, system.servicePrincipalId);
    assert.equal(claims.azp, system.appId);
    assert.equal(claims.kh_machine, poolB.id);
    assert.equal(String(claims.xms_mirid).toLowerCase(), poolId.toLowerCase());
    const cUser = await identityToken(poolC, { identity_client_id: user.appId });
    assert.equal(cUser.status, 200, JSON.stringify(cUser.body));
    assert.equal(decodeJwt(cUser.body.access_token as string).oid, user.servicePrincipalId);
    assert.equal(String(decodeJwt(cUser.body.access_token as string).xms_mirid).toLowerCase(), uaiId.toLowerCase());
    const cByRes = await identityToken(poolC, { identity_res_id: uaiId });
    assert.equal(cByRes.status, 200, JSON.stringify(cByRes.body));
    const cSystem = await identityToken(poolC, { identity: 'system' });
    assert.equal(cSystem.status, 200);
    // Not assigned, malformed, or asked by a client that is no machine: invalid_request, no token.
    for (const extra of <Record<string, string>[]>[{ identity_client_id: randomUUID() }, { identity_object_id: 'nope' }, { identity: 'user' }, { identity: 'system', identity_client_id: user.appId }]) {
      const r = await identityToken(poolC, extra);
      assert.equal(r.status, 400, JSON.stringify(extra));
      assert.equal(r.body.error, 'invalid_request');
      assert.deepEqual(r.body.error_codes, [700016]);
    }
    const notMachine = await postForm(t.tokenUrl, { grant_type: 'client_credentials', client_id: system.appId, client_secret: system.secret, scope: armScope, identity: 'system' });
    assert.equal(notMachine.status, 400);
    for (const r of [bSystem, cSystem, cUser]) assert.equal((await subscriptions(r.body.access_token as string)).status, 200);
    // Revoke C: its identity tokens stop at once; B's token for the same shared identity works on.
    assert.equal((await call(admin, 'POST', `${poolId}/machines/${poolC.id}/revoke?${COMPUTE}`)).status, 200);
    assert.equal((await subscriptions(cSystem.body.access_token as string)).status, 401);
    assert.equal((await subscriptions(cUser.body.access_token as string)).status, 401);
    assert.equal((await subscriptions(bSystem.body.access_token as string)).status, 200);
    assert.equal((await identityToken(poolB, { identity: 'system' })).status, 200);
    // The identity removed from the resource: no more tokens for it.
    await setIdentity(poolId, { type: 'SystemAssigned', principalId: system.servicePrincipalId, tenantId: t.tenantId });
    assert.equal((await identityToken(poolB, { identity_client_id: user.appId })).status, 400);
  });

  /** Writes a resource's stored identity block (what the managed-identity provider keeps), outside Keyhaven. */
  async function setIdentity(resourceId: string, identity: Record<string, unknown>): Promise<void> {
    const sql = 'update arm_resources set identity = $1 where key = $2';
    if (storage.url.startsWith('sqlite:')) {
      const { default: Database } = await import('better-sqlite3');
      const db = new Database(storage.url.slice('sqlite:'.length));
      try {
        db.pragma('busy_timeout = 5000');
        assert.equal(db.prepare(sql.replace('$1', '?').replace('$2', '?')).run(JSON.stringify(identity), resourceId.toLowerCase()).changes, 1);
      } finally {
        db.close();
      }
      return;
    }
    await withPgClient(storage.url, async (c) => assert.equal((await c.query(sql, [JSON.stringify(identity), resourceId.toLowerCase()])).rowCount, 1));
  }

  it('a machine rotates its key with a request signed by the current key; the old key stops working', async () => {
    const previous = JSON.parse(readFileSync(join(cliMachine.dir, 'machine.json'), 'utf8'));
    const rotated = await runCli(['machine', 'rotate-key', '--state-dir', cliMachine.dir]);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.notEqual(json(rotated).kid, cliMachine.kid);
    const rotatedState = JSON.parse(readFileSync(join(cliMachine.dir, 'machine.json'), 'utf8'));
    privateMaterial.push(...pemChunks(rotatedState.privateKeyPem));
    assert.equal(statSync(join(cliMachine.dir, 'machine.json')).mode & 0o777, 0o600);
    const got = await runCli(['machine', 'get-access-token', '--scope', armScope, '--state-dir', cliMachine.dir]);
    assert.equal(got.code, 0, got.stderr);
    // An assertion with the old key is refused.
    const { createPrivateKey } = await import('node:crypto');
    const old: JoinedMachine = { id: cliMachine.id, clientId: cliMachine.clientId, kid: previous.kid, privateKey: createPrivateKey(previous.privateKeyPem), alg: previous.alg };
    const refused = await tokenRequest(old);
    assert.equal(refused.status, 401);
    assert.equal(refused.body.error, 'invalid_client');
    assert.deepEqual(refused.body.error_codes, [700027]);
    // A rotation signed by a key that is not the machine's current one is refused.
    const stranger = machineKey();
    const now = Math.floor(Date.now() / 1000);
    const forged = await new SignJWT({ iss: poolB.clientId, sub: poolB.clientId, aud: `${t.url}/machines/rotate-key`, jti: randomUUID(), iat: now, exp: now + 60, jwk: await publicJwkOf(machineKey().privateKey) })
      .setProtectedHeader({ alg: 'ES256', kid: poolB.kid }).sign(stranger.privateKey);
    const r = await call(undefined, 'POST', '/machines/rotate-key', { request: forged });
    assert.equal(r.status, 401, r.text);
    assert.equal(r.body.error.code, 'InvalidKeyRotationRequest');
    assert.equal((await subscriptions(await machineArmToken(poolB))).status, 200, 'poolB keeps its key');
  });

  it('hostile join requests are refused with a clear error and write nothing', async () => {
    const fresh = await joinToken(`${rg()}/providers/Microsoft.Compute/virtualMachines/vm2`);
    const ec = await publicJwkOf(machineKey().privateKey);
    const small = await publicJwkOf(machineKey('rsa', 1024).privateKey);
    const rsa = await exportJWK(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
    remember(rsa);
    const big = Buffer.alloc(1100, 0xff).toString('base64url');
    const cases: { name: string; body: unknown; status: number; code: string; raw?: boolean; contentType?: string }[] = [
      { name: 'unknown token', body: { token: randomBytes(32).toString('base64url'), publicKey: ec }, status: 401, code: 'InvalidJoinToken' },
      { name: 'malformed token', body: { token: 'not-a-token', publicKey: ec }, status: 401, code: 'InvalidJoinToken' },
      { name: 'used token', body: { token: joinTokens[0], publicKey: ec }, status: 401, code: 'JoinTokenUsed' },
      { name: 'no token', body: { publicKey: ec }, status: 400, code: 'InvalidRequestContent' },
      { name: 'token not a string', body: { token: 42, publicKey: ec }, status: 400, code: 'InvalidRequestContent' },
      { name: 'unknown member', body: { token: fresh, publicKey: ec, admin: true }, status: 400, code: 'InvalidRequestContent' },
      { name: 'body an array', body: [fresh, ec], status: 400, code: 'InvalidRequestContent' },
      { name: 'not JSON', body: '{"token":', status: 400, code: 'InvalidRequestContent', raw: true },
      { name: 'text/plain', body: JSON.stringify({ token: fresh, publicKey: ec }), status: 415, code: 'UnsupportedMediaType', raw: true, contentType: 'text/plain' },
      { name: 'no key', body: { token: fresh }, status: 400, code: 'InvalidPublicKey' },
      { name: 'key a string', body: { token: fresh, publicKey: 'ssh-rsa AAAA' }, status: 400, code: 'InvalidPublicKey' },
      { name: 'RSA too small (1024 bits)', body: { token: fresh, publicKey: small }, status: 400, code: 'InvalidPublicKey' },
      { name: 'RSA modulus too large', body: { token: fresh, publicKey: { kty: 'RSA', n: big, e: 'AQAB' } }, status: 400, code: 'InvalidPublicKey' },
      { name: 'RSA even exponent', body: { token: fresh, publicKey: { kty: 'RSA', n: rsa.n, e: 'AQAA' } }, status: 400, code: 'InvalidPublicKey' },
      { name: 'kty oct', body: { token: fresh, publicKey: { kty: 'oct', k: 'c2VjcmV0' } }, status: 400, code: 'PrivateKeyNotAccepted' },
      { name: 'kty OKP', body: { token: fresh, publicKey: { kty: 'OKP', crv: 'Ed25519', x: Buffer.alloc(32, 1).toString('base64url') } }, status: 400, code: 'InvalidPublicKey' },
      { name: 'kty missing', body: { token: fresh, publicKey: { n: rsa.n, e: rsa.e } }, status: 400, code: 'InvalidPublicKey' },
      { name: 'EC curve secp256k1', body: { token: fresh, publicKey: { ...ec, crv: 'secp256k1' } }, status: 400, code: 'InvalidPublicKey' },
      { name: 'EC point off the curve', body: { token: fresh, publicKey: { ...ec, y: ec.x } }, status: 400, code: 'InvalidPublicKey' },
      { name: 'EC member not base64url', body: { token: fresh, publicKey: { ...ec, x: 'a+b/c=' } }, status: 400, code: 'InvalidPublicKey' },
      { name: 'private RSA key sent', body: { token: fresh, publicKey: rsa }, status: 400, code: 'PrivateKeyNotAccepted' },
      { name: 'oversized key', body: { token: fresh, publicKey: { ...ec, x5c: ['A'.repeat(5000)] } }, status: 400, code: 'InvalidPublicKey' },
      { name: 'oversized body', body: { token: fresh, publicKey: ec, pad: 'x'.repeat(20_000) }, status: 413, code: 'RequestEntityTooLarge' },
    ];
    for (const c of cases) {
      const r = await call(undefined, 'POST', '/machines/join', c.raw ? (c.body as string) : c.body, c.contentType ? { 'content-type': c.contentType } : {});
      assert.equal(r.status, c.status, `${c.name}: ${r.text}`);
      assert.equal(r.body.error?.code, c.code, `${c.name}: ${r.text}`);
      assert.equal(typeof r.body.error.message, 'string', c.name);
      for (const secret of privateMaterial) assert.ok(!r.text.includes(secret), `${c.name}: the answer echoes private material`);
    }
    // Nothing was written: no machine joined vm2, and its token still has its one use.
    const vm2 = `${rg()}/providers/Microsoft.Compute/virtualMachines/vm2`;
    assert.equal((await machinesOf(vm2)).length, 0);
    const ok = await joinWith(fresh);
    assert.equal((await machinesOf(vm2)).map((m) => m.id).join(), ok.id);
  });

  it('no private key reaches the server: not in the stored rows, not in the audit log; join tokens stored only as digests', async () => {
    assert.ok(privateMaterial.length >= 10);
    const audit = await runCli(['audit', 'list', '--home', home, '--storage', storage.url, '--top', '10000']);
    assert.equal(audit.code, 0, audit.stderr);
    const actions = (JSON.parse(audit.stdout) as { action: string }[]).map((r) => r.action);
    for (const a of ['machine.join.issue', 'machine.join', 'machine.revoke', 'machine.key.rotate']) assert.ok(actions.includes(a), a);
    const stored = await storedText();
    for (const text of [audit.stdout, stored]) {
      for (const secret of privateMaterial) assert.ok(!text.includes(secret), 'private key material found');
      for (const token of joinTokens) assert.ok(!text.includes(token), 'a join token in plaintext');
      assert.ok(!text.includes('PRIVATE KEY'));
    }
    assert.ok(stored.includes(poolA.kid) || stored.includes(poolA.clientId), 'the check reads the machines rows');
  });

  /** Every stored byte: the SQLite files, or the PostgreSQL tables as text. */
  async function storedText(): Promise<string> {
    if (storage.url.startsWith('sqlite:')) {
      const file = storage.url.slice('sqlite:'.length);
      return [file, `${file}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f).toString('latin1')).join('\n');
    }
    return withPgClient(storage.url, async (c) => {
      const tables = (await c.query<{ tablename: string }>("select tablename from pg_tables where schemaname = 'public'")).rows.map((r) => r.tablename);
      let out = '';
      for (const table of tables) out += JSON.stringify((await c.query(`select * from "${table}"`)).rows);
      return out;
    });
  }

  it('deleting a VM deletes its machines and join tokens: tokens and assertions refused; a VM of the same name made again has none', async () => {
    const vm3 = `${rg()}/providers/Microsoft.Compute/virtualMachines/vm3`;
    assert.equal((await call(admin, 'PUT', `${vm3}?${COMPUTE}`, { location: 'westeurope' })).status, 201);
    const m3 = await joinWith(await joinToken(vm3));
    const unused = await joinToken(vm3);
    const token3 = await machineArmToken(m3);
    assert.equal((await subscriptions(token3)).status, 200);
    assert.equal((await call(admin, 'DELETE', `${vm3}?${COMPUTE}`)).status, 200);
    assert.equal((await subscriptions(token3)).status, 401, 'its issued token is refused at once');
    // Its client id names nothing any more: Entra's AADSTS700016 (application not found).
    const next = await tokenRequest(m3);
    assert.equal(next.body.access_token, undefined);
    assert.equal(next.body.error, 'unauthorized_client', JSON.stringify(next.body));
    assert.deepEqual(next.body.error_codes, [700016]);
    const late = await call(undefined, 'POST', '/machines/join', { token: unused, publicKey: await publicJwkOf(machineKey().privateKey) });
    assert.equal(late.status, 401, late.text);
    assert.equal(late.body.error.code, 'InvalidJoinToken');
    assert.equal((await call(admin, 'PUT', `${vm3}?${COMPUTE}`, { location: 'westeurope' })).status, 201);
    assert.deepEqual(await machinesOf(vm3), []);
  });

  it('hostile management requests on the enrollment paths get ARM errors and write nothing', async () => {
    const before = (await machinesOf(poolId)).length;
    const cases: [string, string, unknown, number, string][] = [
      ['POST', `${poolId}/generateJoinToken`, {}, 400, 'MissingApiVersionParameter'],
      ['POST', `${poolId}/generateJoinToken?api-version=1999-01-01`, {}, 400, 'NoRegisteredProviderFound'],
      ['GET', `${poolId}/generateJoinToken?${COMPUTE}`, undefined, 405, 'MethodNotAllowed'],
      ['POST', `${poolId}/machines?${COMPUTE}`, {}, 405, 'MethodNotAllowed'],
      ['POST', `${poolId}/generateJoinToken?${COMPUTE}`, { maxUses: 0 }, 400, 'InvalidRequestContent'],
      ['POST', `${poolId}/generateJoinToken?${COMPUTE}`, { maxUses: '5' }, 400, 'InvalidRequestContent'],
      ['POST', `${poolId}/generateJoinToken?${COMPUTE}`, { maxUses: 10_000_000 }, 400, 'InvalidRequestContent'],
      ['POST', `${poolId}/generateJoinToken?${COMPUTE}`, { expiresInSeconds: 999_999_999 }, 400, 'InvalidRequestContent'],
      ['POST', `${poolId}/generateJoinToken?${COMPUTE}`, { expiresInSeconds: -1 }, 400, 'InvalidRequestContent'],
      ['POST', `${rg()}/providers/Microsoft.Compute/virtualMachines/absent/generateJoinToken?${COMPUTE}`, {}, 404, 'ResourceNotFound'],
      ['POST', `${poolId}/machines/not-a-guid/revoke?${COMPUTE}`, undefined, 404, 'MachineNotFound'],
      ['GET', `${poolId}/machines/${randomUUID()}?${COMPUTE}`, undefined, 404, 'MachineNotFound'],
      ['POST', `${poolId}/machines/${poolB.id}/delete?${COMPUTE}`, undefined, 400, 'InvalidResourceId'],
    ];
    for (const [method, path, body, status, code] of cases) {
      const r = await call(admin, method, path, body);
      assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
      assert.equal(r.body.error?.code, code, `${method} ${path}: ${r.text}`);
    }
    assert.equal((await machinesOf(poolId)).length, before);
    assert.equal((await machinesOf(poolId)).find((m) => m.id === poolB.id)!.state, 'Active');
  });

  it('a pool token stops working at its expiry (the server restarted with its enrollment clock moved ahead)', async () => {
    const token = await joinToken(poolId, { maxUses: 5, expiresInSeconds: 60 });
    const first = await joinWith(token);
    const joined = (await machinesOf(poolId)).length;
    await server.stop();
    server = await startServerProcess({ home, storage: storage.url, args: ['--lockout-threshold', '100', '--machine-clock-offset-seconds', '61'] });
    t = await tenantOf(server);
    const expired = await call(undefined, 'POST', '/machines/join', { token, publicKey: await publicJwkOf(machineKey().privateKey) });
    assert.equal(expired.status, 401, expired.text);
    assert.equal(expired.body.error.code, 'JoinTokenExpired');
    admin = await userToken(t, 'admin', t.adminPassword, armScope = `${t.url}//.default`);
    const ids = (await machinesOf(poolId)).map((m) => m.id);
    assert.ok(ids.includes(first.id));
    assert.equal(ids.length, joined, 'nothing joined after the expiry');
    // The machine that joined in time still gets tokens (the machine credential does not expire with the token).
    assert.equal(tokenRequestOk(await tokenRequest({ ...first })), true);
  });
});

function tokenRequestOk(r: { status: number }): boolean {
  return r.status === 200;
}

function pemChunks(pem: string): string[] {
  // 64-character lines of the PKCS #8 body (each is key material), minus the header lines.
  return pem.split('\n').filter((l) => l.length >= 40 && !l.startsWith('-----'));
}
