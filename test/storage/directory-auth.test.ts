// Directory authentication and credentials on both engines: client secrets stored only as a
// digest, expiry, disabled principals, user sign-in through the throttle (lockout, unknown
// user indistinguishable from a wrong password), transparent rehash, self-service change.
import { SecretValue } from '../../src/crypto/secret-value.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateCa } from '../../src/crypto/tls-ca.js';
import { ThrottledError } from '../../src/errors.js';
import type { DirectoryAccess } from '../../src/directory/directory-access.js';
import { engines, type EngineFixture } from '../helpers/engines.js';
import { GOOD_PASSWORD, openDirectory, type DirectoryFixture, rejectsWith } from './directory-fixture.js';

const SOURCE = '203.0.113.7';

for (const engine of engines) {
  describe(`directory authentication: ${engine.name}`, () => {
    let fx: EngineFixture;
    let d: DirectoryFixture;
    let admin: DirectoryAccess;
    /** Every row of every table, as text: where a secret must never appear. */
    const dump = async () => {
      const tables = ['users', 'groups', 'group_members', 'applications', 'app_credentials', 'service_principals', 'directory_role_assignments', 'audit_records', 'settings'];
      return JSON.stringify(await Promise.all(tables.map((t) => fx.exec(`select * from ${t}`))));
    };

    before(async () => {
      fx = await engine.create();
      d = await openDirectory(fx, { threshold: 3, baseDelaySeconds: 60 });
      admin = d.directory.system();
    });
    after(async () => {
      await d?.close();
      await fx?.cleanup();
    });

    describe('client secrets', () => {
      it('returns a secret once and stores only its HMAC digest', async () => {
        const { application, servicePrincipal } = await admin.applications().create({ displayName: 'pipeline', withServicePrincipal: true });
        const cred = await admin.applications().addPassword(application.id, { displayName: 'ci' });
        assert.equal(cred.secretText.length, 43);
        assert.equal(cred.hint, cred.secretText.slice(0, 3));
        assert.ok(new Date(cred.endDateTime).getTime() > Date.now() + 700 * 86_400_000, 'two years by default');
        const principal = await d.directory.authenticateClientSecret(application.appId, new SecretValue(cred.secretText), SOURCE);
        assert.equal(principal.objectId, servicePrincipal!.id);
        assert.equal(principal.appId, application.appId);
        assert.equal(principal.credentialKeyId, cred.keyId);
        const db = await dump();
        assert.ok(!db.includes(cred.secretText), 'the secret is in the database');
        assert.ok(!db.includes(cred.secretText.slice(3)), 'part of the secret is in the database');
        // Listing shows metadata only.
        const listed = await admin.applications().listCredentials(application.id);
        assert.equal(listed.passwordCredentials.length, 1);
        assert.equal(listed.passwordCredentials[0]!.secretText, null);
        assert.ok(!JSON.stringify(listed).includes(cred.secretText));
        assert.ok(!JSON.stringify(await admin.reader().getApplication(application.id)).includes('digest'));
      });

      it('refuses wrong, expired, removed secrets, unknown clients and disabled principals with distinct codes', async () => {
        const { application, servicePrincipal } = await admin.applications().create({ displayName: 'expiring', withServicePrincipal: true });
        const writer = admin.applications();
        const cred = await writer.addPassword(application.id, {});
        await rejectsWith(d.directory.authenticateClientSecret(application.appId, new SecretValue(cred.secretText + 'x'), SOURCE), 'KH_INVALID_CLIENT_SECRET');
        await rejectsWith(d.directory.authenticateClientSecret(application.appId, new SecretValue(''), SOURCE), 'KH_INVALID_CLIENT_SECRET');
        await rejectsWith(d.directory.authenticateClientSecret('00000000-0000-4000-8000-000000000000', new SecretValue(cred.secretText), SOURCE), 'KH_CLIENT_NOT_FOUND');
        await rejectsWith(d.directory.authenticateClientSecret("' or 1=1 --", new SecretValue(cred.secretText), SOURCE), 'KH_CLIENT_NOT_FOUND');
        // Expire it in the database (the API only accepts future end dates).
        const p = fx.name === 'sqlite' ? '?' : '$1';
        await fx.exec(`update app_credentials set end_date = '2020-01-01T00:00:00.000Z' where key_id = ${p}`, [cred.keyId]);
        await rejectsWith(d.directory.authenticateClientSecret(application.appId, new SecretValue(cred.secretText), SOURCE), 'KH_CLIENT_SECRET_EXPIRED');
        // A second, valid secret still works beside the expired one.
        const fresh = await writer.addPassword(application.id, {});
        await d.directory.authenticateClientSecret(application.appId, new SecretValue(fresh.secretText), SOURCE);
        await writer.updateServicePrincipal(servicePrincipal!.id, { accountEnabled: false });
        await rejectsWith(d.directory.authenticateClientSecret(application.appId, new SecretValue(fresh.secretText), SOURCE), 'KH_CLIENT_DISABLED');
        assert.equal(await d.directory.isActive(servicePrincipal!.id), false);
        await writer.updateServicePrincipal(servicePrincipal!.id, { accountEnabled: true });
        await writer.removePassword(application.id, fresh.keyId);
        await rejectsWith(d.directory.authenticateClientSecret(application.appId, new SecretValue(fresh.secretText), SOURCE), 'KH_INVALID_CLIENT_SECRET');
        await rejectsWith(writer.addPassword(application.id, { endDateTime: '2001-01-01T00:00:00Z' }), 'KH_CREDENTIAL_DATES_INVALID');
        const records = await d.deps.audit.list({ action: 'serviceprincipal.signin', limit: 100 });
        assert.ok(records.some((r) => r.outcome === 'denied' && r.details.error === 'KH_CLIENT_SECRET_EXPIRED'));
        assert.ok(records.some((r) => r.outcome === 'success' && r.actor === servicePrincipal!.id));
      });

      it('stores certificates by public part and thumbprints, refusing private keys and duplicates', async () => {
        const { application } = await admin.applications().create({ displayName: 'cert-app', withServicePrincipal: true });
        const { certPem, keyPem } = await generateCa('Keyhaven test client');
        const key = await admin.applications().addKey(application.id, { key: certPem });
        assert.equal(key.type, 'AsymmetricX509Cert');
        assert.equal(Buffer.from(key.customKeyIdentifier, 'base64').length, 20);
        assert.equal(Buffer.from(key.keyhavenThumbprintSha256, 'base64url').length, 32);
        await rejectsWith(admin.applications().addKey(application.id, { key: certPem }), 'KH_CREDENTIAL_EXISTS');
        await rejectsWith(admin.applications().addKey(application.id, { key: certPem + keyPem }), 'KH_CERTIFICATE_HAS_PRIVATE_KEY');
        await rejectsWith(admin.applications().addKey(application.id, { key: 'bm90IGEgY2VydA==' }), 'KH_CERTIFICATE_INVALID');
        const certs = await d.directory.clientCertificates(application.appId);
        assert.equal(certs.length, 1);
        assert.equal(certs[0]!.certificate.fingerprint256.replaceAll(':', '').toLowerCase(), certs[0]!.thumbprintSha256);
        assert.ok(!(await dump()).includes(keyPem.split('\n')[1]!));
      });
    });

    describe('user sign-in', () => {
      let alice: string;
      before(async () => {
        alice = (await admin.users().create({ userPrincipalName: 'alice@example.test', displayName: 'Alice', password: GOOD_PASSWORD, givenName: 'Alice' })).id;
        await admin.users().create({ userPrincipalName: 'carol@example.test', displayName: 'Carol', password: GOOD_PASSWORD, accountEnabled: false });
        await admin.users().create({ userPrincipalName: 'dave@example.test', displayName: 'Dave', password: GOOD_PASSWORD });
      });

      it('accepts the UPN or the short name', async () => {
        const byUpn = await d.directory.authenticateUser('Alice@Example.test', new SecretValue(GOOD_PASSWORD), SOURCE);
        assert.equal(byUpn.objectId, alice);
        assert.equal(byUpn.givenName, 'Alice');
        assert.equal((await d.directory.authenticateUser('alice', new SecretValue(GOOD_PASSWORD), SOURCE)).userPrincipalName, 'alice@example.test');
      });

      it('answers an unknown user exactly as a wrong password', async () => {
        const wrong = await rejectsWith(d.directory.authenticateUser('alice', new SecretValue('not the password at all'), '198.51.100.1'), 'KH_INVALID_CREDENTIALS');
        const unknown = await rejectsWith(d.directory.authenticateUser('mallory', new SecretValue('not the password at all'), '198.51.100.1'), 'KH_INVALID_CREDENTIALS');
        assert.equal(wrong.message, unknown.message);
        assert.equal(wrong.status, unknown.status);
        assert.equal(wrong.constructor, unknown.constructor);
        const tooLong = await rejectsWith(d.directory.authenticateUser('alice', new SecretValue('x'.repeat(5000)), '198.51.100.1'), 'KH_INVALID_CREDENTIALS');
        assert.equal(tooLong.message, wrong.message);
        await d.directory.authenticateUser('alice', new SecretValue(GOOD_PASSWORD), '198.51.100.1'); // reset alice's count
      });

      it('says "disabled" only after the right password', async () => {
        await rejectsWith(d.directory.authenticateUser('carol', new SecretValue('wrong password here'), SOURCE), 'KH_INVALID_CREDENTIALS');
        await rejectsWith(d.directory.authenticateUser('carol', new SecretValue(GOOD_PASSWORD), SOURCE), 'KH_ACCOUNT_DISABLED');
      });

      it('locks an account after repeated failures, even for the right password, without touching others from the same source', async () => {
        for (let i = 0; i < 3; i++) await rejectsWith(d.directory.authenticateUser('dave', new SecretValue(`wrong guess ${i}`), SOURCE), 'KH_INVALID_CREDENTIALS');
        const locked = await rejectsWith(d.directory.authenticateUser('dave', new SecretValue(GOOD_PASSWORD), SOURCE), 'KH_ACCOUNT_LOCKED');
        assert.ok(locked instanceof ThrottledError && locked.retryAfterSeconds! > 0);
        // Another account from the same address is unaffected.
        assert.equal((await d.directory.authenticateUser('alice', new SecretValue(GOOD_PASSWORD), SOURCE)).objectId, alice);
        d.clock.now += 61_000;
        await d.directory.authenticateUser('dave', new SecretValue(GOOD_PASSWORD), SOURCE);
        const audit = await d.deps.audit.list({ action: 'user.signin', limit: 1000 });
        assert.ok(audit.some((r) => r.details.error === 'KH_ACCOUNT_LOCKED'));
        assert.ok(audit.some((r) => r.details.reason === 'unknown_user'));
      });

      it('never writes a password to the database or the audit log', async () => {
        const db = await dump();
        for (const pw of [GOOD_PASSWORD, 'not the password at all', 'wrong guess 0']) assert.ok(!db.includes(pw), pw);
      });

      it('rehashes transparently when the scrypt parameters change', async () => {
        const p = fx.name === 'sqlite' ? '?' : '$1';
        const before = (await fx.exec(`select password_hash from users where id = ${p}`, [alice]))[0]!.password_hash as string;
        assert.match(before, /^\$scrypt\$ln=10,/);
        const stronger = d.reopen({ logN: 11, r: 8, p: 1 });
        await stronger.authenticateUser('alice', new SecretValue(GOOD_PASSWORD), SOURCE);
        const afterHash = (await fx.exec(`select password_hash from users where id = ${p}`, [alice]))[0]!.password_hash as string;
        assert.match(afterHash, /^\$scrypt\$ln=11,/);
        const [last] = (await d.deps.audit.list({ action: 'user.signin', actor: alice, limit: 1000 })).slice(-1);
        assert.equal(last!.details.rehashed, true);
        await stronger.authenticateUser('alice', new SecretValue(GOOD_PASSWORD), SOURCE);
      });

      it('lets a user change their own password after proving the current one', async () => {
        const access = await d.directory.access({ id: alice, source: SOURCE });
        const me = access.self();
        assert.equal((await me.me()).id, alice);
        await rejectsWith(me.changePassword('wrong current password', 'Another-Long-Passphrase-77'), 'KH_CURRENT_PASSWORD_WRONG');
        await rejectsWith(me.changePassword(GOOD_PASSWORD, 'short'), 'KH_PASSWORD_TOO_SHORT');
        await rejectsWith(me.changePassword(GOOD_PASSWORD, GOOD_PASSWORD), 'KH_PASSWORD_REUSED');
        await me.changePassword(GOOD_PASSWORD, 'Another-Long-Passphrase-77');
        await rejectsWith(d.directory.authenticateUser('alice', new SecretValue(GOOD_PASSWORD), SOURCE), 'KH_INVALID_CREDENTIALS');
        await d.directory.authenticateUser('alice', new SecretValue('Another-Long-Passphrase-77'), SOURCE);
      });
    });
  });
}
