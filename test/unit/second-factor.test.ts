// The TOTP verifier with an injected clock: enrolment needs a valid code before the factor is
// active; codes are accepted within one 30-second step either way and each step once (RFC 6238
// §5.2); wrong codes go through the login throttle; refusals are audited without the code.
// Codes come from Debian's oathtool, never from Keyhaven's own TOTP code.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { AuditLog } from '../../src/audit/audit-log.js';
import { Envelope } from '../../src/crypto/envelope.js';
import { createMasterKey } from '../../src/crypto/master-key.js';
import { LoginThrottle, MemoryThrottleStore } from '../../src/directory/login-throttle.js';
import { SecondFactor } from '../../src/directory/second-factor.js';
import { normalizeCode } from '../../src/directory/totp-codes.js';
import { KeyhavenError } from '../../src/errors.js';
import { Storage } from '../../src/storage/storage.js';
import { oathtoolCode, secretOfUri } from '../helpers/oathtool.js';

/** The start of a 30-second step (2026-12-03T10:00:00Z). */
const T0 = 1_796_292_000_000;
const STEP = 30_000;
const CTX = { source: '198.51.100.9' };
const ACTOR = { id: 'system', source: CTX.source };

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<KeyhavenError> {
  let caught: unknown;
  await assert.rejects(promise, (err) => {
    caught = err;
    return err instanceof KeyhavenError && err.code === code;
  }, `expected ${code}`);
  return caught as KeyhavenError;
}

describe('second factor (TOTP) verifier', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kh-totp-'));
  const clock = { now: T0 };
  let storage: Storage;
  let audit: AuditLog;
  let mfa: SecondFactor;

  /** A user with a confirmed factor; returns its base32 secret. The confirming code is the one of `at`. */
  async function enrolled(userId: string, at = clock.now): Promise<string> {
    const enrolment = await mfa.beginTotp(ACTOR, { id: userId, userPrincipalName: `${userId.slice(0, 8)}@keyhaven.local` });
    const secret = secretOfUri(enrolment.otpauthUri.reveal());
    await mfa.confirmTotp(ACTOR, userId, enrolment.methodId, oathtoolCode(secret, at), at);
    return secret;
  }

  before(async () => {
    storage = await Storage.open(`sqlite:${join(dir, 'keyhaven.db')}`);
    const envelope = await Envelope.open(storage, createMasterKey(join(dir, 'master.key')));
    audit = new AuditLog(storage, randomBytes(32));
    const tick = () => clock.now;
    const throttle = new LoginThrottle(new MemoryThrottleStore({}, tick), { threshold: 3, baseDelaySeconds: 60 }, tick);
    mfa = new SecondFactor({ storage, audit, throttle, sealer: envelope }, { issuer: 'Keyhaven Test', enrollmentTimeoutSeconds: 600, clock: tick });
  });
  after(async () => {
    await audit.flush();
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('enrolment: a 20-byte secret in an otpauth URI; a wrong code leaves it pending; a valid code activates it', async () => {
    const user = randomUUID();
    const enrolment = await mfa.beginTotp(ACTOR, { id: user, userPrincipalName: 'alice@keyhaven.local' });
    const uri = new URL(enrolment.otpauthUri.reveal());
    assert.equal(uri.protocol, 'otpauth:');
    assert.equal(uri.host, 'totp');
    assert.equal(decodeURIComponent(uri.pathname), '/Keyhaven Test:alice@keyhaven.local');
    assert.equal(uri.searchParams.get('issuer'), 'Keyhaven Test');
    assert.equal(uri.searchParams.get('period'), '30');
    assert.equal(uri.searchParams.get('digits'), '6');
    const secret = enrolment.secret.reveal();
    assert.equal(secret, uri.searchParams.get('secret'));
    assert.equal(Buffer.from(secret, 'utf8').length, 32, '20 bytes are 32 base32 characters');
    assert.equal(String(enrolment.secret), '[REDACTED]');

    // Before confirmation it is not a factor: no code verifies, nothing is required.
    await rejectsWith(mfa.verify(user, oathtoolCode(secret, clock.now), clock.now, CTX), 'KH_MFA_CODE_INVALID');
    assert.deepEqual(await mfa.status(user), { required: false, enrolled: false });

    const wrong = oathtoolCode(secret, clock.now + 10 * STEP);
    await rejectsWith(mfa.confirmTotp(ACTOR, user, enrolment.methodId, wrong, clock.now), 'KH_MFA_CODE_INVALID');
    assert.equal((await mfa.methods(user))[0]!.state, 'pending');
    const method = await mfa.confirmTotp(ACTOR, user, enrolment.methodId, oathtoolCode(secret, clock.now), clock.now);
    assert.equal(method.state, 'active');
    assert.deepEqual(await mfa.status(user), { required: true, reason: 'enrolled', enrolled: true });
    await rejectsWith(mfa.beginTotp(ACTOR, { id: user, userPrincipalName: 'alice@keyhaven.local' }), 'KH_MFA_ALREADY_ENROLLED');
  });

  it('accepts the current step and one step either side, nothing further', async () => {
    const user = randomUUID();
    const secret = await enrolled(user, T0 - 20 * STEP);
    const now = T0 + 5 * STEP + 12_000; // mid-step
    await rejectsWith(mfa.verify(user, oathtoolCode(secret, now - 2 * STEP), now, CTX), 'KH_MFA_CODE_INVALID');
    await rejectsWith(mfa.verify(user, oathtoolCode(secret, now + 2 * STEP), now, CTX), 'KH_MFA_CODE_INVALID');
    const result = await mfa.verify(user, oathtoolCode(secret, now - STEP), now, CTX);
    assert.deepEqual([...result.amr], ['otp', 'mfa']);
    assert.ok(await mfa.verify(user, oathtoolCode(secret, now), now, CTX));
    assert.ok(await mfa.verify(user, oathtoolCode(secret, now + STEP), now, CTX));
  });

  it('refuses a replayed code, and a code of an earlier step once a later one was used', async () => {
    const user = randomUUID();
    const secret = await enrolled(user, T0 - 20 * STEP);
    const now = T0 + 40 * STEP;
    const code = oathtoolCode(secret, now);
    await mfa.verify(user, code, now, CTX);
    await rejectsWith(mfa.verify(user, code, now, CTX), 'KH_MFA_CODE_REUSED');
    await rejectsWith(mfa.verify(user, code, now + 20_000, CTX), 'KH_MFA_CODE_REUSED');
    // The next step's code is new (and its success clears the throttle's count of the replays).
    await mfa.verify(user, oathtoolCode(secret, now + STEP), now + STEP, CTX);
    await rejectsWith(mfa.verify(user, code, now + STEP, CTX), 'KH_MFA_CODE_REUSED');
    // The confirming code is used up too.
    const other = randomUUID();
    const otherSecret = await enrolled(other, T0 + 5 * STEP);
    await rejectsWith(mfa.verify(other, oathtoolCode(otherSecret, T0 + 5 * STEP), T0 + 5 * STEP, CTX), 'KH_MFA_CODE_REUSED');
  });

  it('parallel verifications of one code: exactly one wins', async () => {
    const user = randomUUID();
    const secret = await enrolled(user, T0 - 20 * STEP);
    const now = T0 + 60 * STEP;
    const code = oathtoolCode(secret, now);
    const outcomes = await Promise.allSettled(Array.from({ length: 6 }, () => mfa.verify(user, code, now, CTX)));
    assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1);
  });

  it('throttles wrong codes with the login throttle: locked even for the right code, until the lock ends', async () => {
    const user = randomUUID();
    const secret = await enrolled(user, T0 - 20 * STEP);
    const start = clock.now;
    const now = T0 + 80 * STEP;
    const right = oathtoolCode(secret, now);
    const wrongCode = right === '000000' ? '111111' : '000000';
    for (let i = 0; i < 3; i++) await rejectsWith(mfa.verify(user, wrongCode, now, CTX), 'KH_MFA_CODE_INVALID');
    const locked = await rejectsWith(mfa.verify(user, oathtoolCode(secret, now), now, CTX), 'KH_ACCOUNT_LOCKED');
    assert.ok(locked.retryAfterSeconds! > 0);
    clock.now = start + 61_000;
    try {
      await mfa.verify(user, oathtoolCode(secret, now), now, CTX);
    } finally {
      clock.now = start;
    }
  });

  it('a begun enrolment expires', async () => {
    const user = randomUUID();
    const enrolment = await mfa.beginTotp(ACTOR, { id: user, userPrincipalName: 'late@keyhaven.local' });
    const late = clock.now + 601_000;
    const secret = secretOfUri(enrolment.otpauthUri.reveal());
    await rejectsWith(mfa.confirmTotp(ACTOR, user, enrolment.methodId, oathtoolCode(secret, late), late), 'KH_MFA_ENROLLMENT_EXPIRED');
    await rejectsWith(mfa.confirmTotp(ACTOR, user, randomUUID(), oathtoolCode(secret, clock.now), clock.now), 'KH_MFA_METHOD_NOT_FOUND');
  });

  it('removal ends the factor', async () => {
    const user = randomUUID();
    const secret = await enrolled(user, T0 - 20 * STEP);
    await mfa.removeTotp(ACTOR, user);
    await rejectsWith(mfa.verify(user, oathtoolCode(secret, T0), T0, CTX), 'KH_MFA_CODE_INVALID');
    await rejectsWith(mfa.removeTotp(ACTOR, user), 'KH_MFA_METHOD_NOT_FOUND');
    assert.deepEqual(await mfa.methods(user), []);
  });

  it('audits enrolment, confirmation, removal and refused codes, never a code or the secret', async () => {
    const user = randomUUID();
    const enrolment = await mfa.beginTotp(ACTOR, { id: user, userPrincipalName: 'audited@keyhaven.local' });
    const secret = secretOfUri(enrolment.otpauthUri.reveal());
    const now = clock.now;
    const code = oathtoolCode(secret, now);
    await mfa.confirmTotp(ACTOR, user, enrolment.methodId, code, now);
    const wrong = code === '123456' ? '654321' : '123456';
    await rejectsWith(mfa.verify(user, wrong, now + STEP, CTX), 'KH_MFA_CODE_INVALID');
    await mfa.removeTotp(ACTOR, user);
    await audit.flush();
    const records = (await storage.read.audit.page(0, 10_000)).filter((r) => r.target === user);
    assert.deepEqual(records.map((r) => `${r.action}:${r.outcome}`), ['user.mfa.enroll:success', 'user.mfa.confirm:success', 'user.mfa.verify:denied', 'user.mfa.remove:success']);
    const text = JSON.stringify(records);
    for (const forbidden of [secret, code, wrong]) assert.ok(!text.includes(forbidden), `audit holds ${forbidden}`);
  });

  it('reads codes as typed: six digits, spaces or a dash between groups', () => {
    assert.equal(normalizeCode('123 456'), '123456');
    assert.equal(normalizeCode('123-456'), '123456');
    assert.equal(normalizeCode('12345'), undefined);
    assert.equal(normalizeCode('1234567'), undefined);
    assert.equal(normalizeCode('12345a'), undefined);
    assert.equal(normalizeCode(123456 as unknown as string), undefined);
  });
});
