// The second factor on both engines: the TOTP secret is stored only envelope-encrypted and
// bound to its row; requirements by user and by group (nested groups included); one code
// accepted once across two servers on one database; LDAP-style password+code sign-in behind
// its mode; deleting a user takes its factor with it. Codes come from Debian's oathtool.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AuditLog } from '../../src/audit/audit-log.js';
import { Envelope } from '../../src/crypto/envelope.js';
import { CredentialDigester } from '../../src/crypto/generated-credential.js';
import { createMasterKey, type MasterKey } from '../../src/crypto/master-key.js';
import { PasswordHasher } from '../../src/crypto/password-hash.js';
import { SecretValue } from '../../src/crypto/secret-value.js';
import type { DirectoryAccess } from '../../src/directory/directory-access.js';
import type { DirectoryDeps } from '../../src/directory/directory-context.js';
import { DirectoryService } from '../../src/directory/directory-service.js';
import { LoginThrottle, MemoryThrottleStore } from '../../src/directory/login-throttle.js';
import { loadCommonPasswords, PasswordPolicy } from '../../src/directory/password-policy.js';
import { Storage } from '../../src/storage/storage.js';
import { engines, type EngineFixture } from '../helpers/engines.js';
import { oathtoolCode, secretOfUri } from '../helpers/oathtool.js';
import { CHEAP_SCRYPT, GOOD_PASSWORD, rejectsWith } from './directory-fixture.js';

const SOURCE = '192.0.2.44';
const STEP = 30_000;

interface Server {
  storage: Storage;
  audit: AuditLog;
  directory: DirectoryService;
}

for (const engine of engines) {
  describe(`second factor: ${engine.name}`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'kh-mfa-'));
    let fx: EngineFixture;
    let kek: MasterKey;
    const servers: Server[] = [];
    let a: Server;
    let b: Server;
    let admin: DirectoryAccess;
    const tenantId = randomUUID();
    const auditKey = randomBytes(32);
    const credentialKey = randomBytes(32);

    /** One server's services over the database (a replica, when opened twice). */
    async function open(): Promise<Server> {
      const storage = await Storage.open(fx.url);
      const envelope = await Envelope.open(storage, kek);
      const audit = new AuditLog(storage, auditKey);
      const deps: DirectoryDeps = { storage, audit, passwords: new PasswordHasher(CHEAP_SCRYPT), credentials: new CredentialDigester(credentialKey), tenantId };
      const throttle = new LoginThrottle(new MemoryThrottleStore(), { threshold: 10 });
      const directory = new DirectoryService(deps, new PasswordPolicy({ commonPasswords: loadCommonPasswords() }), throttle, {}, { sealer: envelope });
      const server = { storage, audit, directory };
      servers.push(server);
      return server;
    }

    async function user(name: string): Promise<string> {
      return (await admin.users().create({ userPrincipalName: `${name}@example.test`, displayName: name, password: GOOD_PASSWORD })).id;
    }

    /** Enrols and confirms; returns the base32 secret and the method id. */
    async function enrol(userId: string): Promise<{ secret: string; methodId: string }> {
      const at = Date.now();
      const methods = await admin.authenticationMethods(userId);
      const enrolment = await methods.beginSoftwareOath();
      const secret = secretOfUri(enrolment.otpauthUri.reveal());
      await a.directory.system().authenticationMethods(userId).then((m) => m.activateSoftwareOath(enrolment.methodId, oathtoolCode(secret, at)));
      return { secret, methodId: enrolment.methodId };
    }

    before(async () => {
      fx = await engine.create();
      kek = createMasterKey(join(dir, 'master.key'));
      a = await open();
      b = await open();
      admin = a.directory.system();
    });
    after(async () => {
      for (const s of servers) {
        await s.audit.flush();
        await s.storage.close();
      }
      await fx?.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    it('stores the secret only sealed: neither base32, hex nor base64 of it is in the database', async () => {
      const alice = await user('alice');
      const { secret } = await enrol(alice);
      const bytes = Buffer.from(base32Decode(secret));
      assert.equal(bytes.length, 20);
      const rows = await fx.exec('select * from user_totp where user_id = $1'.replace('$1', engine.name === 'sqlite' ? '?' : '$1'), [alice]);
      assert.equal(rows.length, 1);
      assert.match(String(rows[0]!.secret), /^kh1\.dk_[0-9a-f]+\./, 'an envelope ciphertext');
      const tables = ['user_totp', 'audit_records', 'settings', 'server_secrets', 'data_keys', 'users'];
      const dump = JSON.stringify(await Promise.all(tables.map((t) => fx.exec(`select * from ${t}`))));
      for (const form of [secret, secret.toLowerCase(), bytes.toString('hex'), bytes.toString('base64'), bytes.toString('base64url')]) {
        assert.ok(!dump.includes(form), `the secret is in the database as ${form.slice(0, 6)}…`);
      }
    });

    it('a sealed secret copied onto another user does not open', async () => {
      const mallory = await user('mallory');
      const victim = await user('victim');
      await enrol(mallory);
      const { secret } = await enrol(victim);
      const p = (n: number) => (engine.name === 'sqlite' ? '?' : `$${n}`);
      const [row] = await fx.exec(`select secret from user_totp where user_id = ${p(1)}`, [victim]);
      await fx.exec(`update user_totp set secret = ${p(1)} where user_id = ${p(2)}`, [row!.secret, mallory]);
      await rejectsWith(a.directory.secondFactor.verify(mallory, oathtoolCode(secret), Date.now(), { source: SOURCE }), 'KH_CIPHERTEXT_INVALID');
    });

    it('requirements: per user, per group through nested groups, and by enrolment; lifted again', async () => {
      const carol = await user('carol');
      const dave = await user('dave');
      const erin = await user('erin');
      const ops = await admin.groups().create({ displayName: 'ops', mailNickname: 'ops' });
      const oncall = await admin.groups().create({ displayName: 'oncall', mailNickname: 'oncall' });
      await admin.groups().addMember(ops.id, oncall.id);
      await admin.groups().addMember(oncall.id, carol);
      const sf = b.directory.secondFactor; // the other server sees the same policy
      assert.deepEqual(await sf.status(carol), { required: false, enrolled: false });
      await (await admin.groupMfaRequirement(ops.id)).set('enforced');
      assert.deepEqual(await sf.status(carol), { required: true, reason: 'group', enrolled: false });
      assert.equal(await sf.requiredFor(dave), false);
      await (await admin.authenticationMethods(dave)).setRequirement('enabled');
      assert.deepEqual(await sf.status(dave), { required: true, reason: 'user', enrolled: false });
      assert.deepEqual((await (await admin.authenticationMethods(dave)).requirement()).perUserMfaState, 'enforced');
      await enrol(erin);
      assert.deepEqual(await sf.status(erin), { required: true, reason: 'enrolled', enrolled: true });
      await (await admin.groupMfaRequirement(ops.id)).set('disabled');
      await (await admin.authenticationMethods(dave)).setRequirement('disabled');
      assert.equal(await sf.requiredFor(carol), false);
      assert.equal(await sf.requiredFor(dave), false);
      await rejectsWith((await admin.authenticationMethods(dave)).setRequirement('sometimes'), 'KH_MFA_REQUIREMENT_INVALID');
    });

    it('a user may manage their own factor but not lift their own requirement', async () => {
      const frank = await user('frank');
      const self = await a.directory.access({ id: frank, source: SOURCE });
      const mine = await self.authenticationMethods(frank);
      const enrolment = await mine.beginSoftwareOath();
      await mine.activateSoftwareOath(enrolment.methodId, oathtoolCode(secretOfUri(enrolment.otpauthUri.reveal())));
      await rejectsWith(mine.setRequirement('disabled'), 'KH_FORBIDDEN');
      await rejectsWith(self.authenticationMethods(await user('grace')), 'KH_FORBIDDEN');
      await mine.removeSoftwareOath(enrolment.methodId);
      assert.deepEqual(await mine.softwareOathMethods(), []);
    });

    it('one code is accepted once across two servers on one database', async () => {
      const heidi = await user('heidi');
      const { secret } = await enrol(heidi);
      // The next step's code (the confirming one used this step's).
      const now = Date.now() + STEP;
      const code = oathtoolCode(secret, now);
      const outcomes = await Promise.allSettled([a, b, a, b].map((s) => s.directory.secondFactor.verify(heidi, code, now, { source: SOURCE })));
      assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1, JSON.stringify(outcomes.map((o) => o.status === 'rejected' ? (o.reason as { code?: string }).code : 'ok')));
    });

    it("password-only sign-ins: 'append' takes the password followed by the code (FreeIPA), 'refuse' refuses, 'ignore' lets the password in", async () => {
      const ivan = await user('ivan');
      const { secret } = await enrol(ivan);
      const now = Date.now() + STEP;
      const d = a.directory;
      const signIn = (password: string, mode: 'ignore' | 'append' | 'refuse') => d.authenticateUser('ivan@example.test', new SecretValue(password), SOURCE, undefined, { secondFactor: mode });
      assert.equal((await signIn(GOOD_PASSWORD, 'ignore')).objectId, ivan);
      await rejectsWith(signIn(GOOD_PASSWORD, 'refuse'), 'KH_MFA_REQUIRED');
      await rejectsWith(signIn(GOOD_PASSWORD, 'append'), 'KH_INVALID_CREDENTIALS');
      const code = oathtoolCode(secret, now);
      assert.equal((await signIn(GOOD_PASSWORD + code, 'append')).objectId, ivan);
      await rejectsWith(signIn(GOOD_PASSWORD + code, 'append'), 'KH_INVALID_CREDENTIALS'); // replayed
      await rejectsWith(signIn(`x${GOOD_PASSWORD}${code}`, 'append'), 'KH_INVALID_CREDENTIALS');
      // Users without a requirement sign in with the password alone in every mode.
      await user('judy');
      assert.ok(await d.authenticateUser('judy@example.test', new SecretValue(GOOD_PASSWORD), SOURCE, undefined, { secondFactor: 'append' }));
    });

    it('deleting a user deletes its factor and its requirement', async () => {
      const ken = await user('ken');
      await enrol(ken);
      await (await admin.authenticationMethods(ken)).setRequirement('enforced');
      await admin.users().delete(ken);
      const p = engine.name === 'sqlite' ? '?' : '$1';
      assert.deepEqual(await fx.exec(`select id from user_totp where user_id = ${p}`, [ken]), []);
      assert.deepEqual(await fx.exec(`select principal_id from mfa_requirements where principal_id = ${p}`, [ken]), []);
    });
  });
}

/** RFC 4648 §6 base32 (no padding), independent of the code under test. */
function base32Decode(text: string): Uint8Array {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of text.replace(/=+$/, '')) {
    value = (value << 5) | alphabet.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Uint8Array.from(out);
}
