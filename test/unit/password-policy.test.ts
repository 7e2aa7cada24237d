import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { InvalidInputError } from '../../src/errors.js';
import { PasswordHasher } from '../../src/crypto/password-hash.js';
import { DEFAULT_MIN_LENGTH, MAX_LENGTH, PasswordPolicy, loadCommonPasswords } from '../../src/directory/password-policy.js';

const policy = new PasswordPolicy({ commonPasswords: loadCommonPasswords() });

function rejects(password: string, code: string, context?: Parameters<PasswordPolicy['check']>[1], p = policy): InvalidInputError {
  let caught: unknown;
  try {
    p.check(password, context);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof InvalidInputError, `expected ${code} for ${JSON.stringify(password)}, got ${String(caught)}`);
  assert.equal(caught.code, code, `${JSON.stringify(password)}: ${caught.message}`);
  assert.equal(caught.status, 400);
  assert.ok(caught.expose);
  if (password.length > 8) assert.ok(!caught.message.includes(password), 'the message never repeats the password');
  return caught;
}

test('the shipped list: 10,000 distinct lower-case entries, loaded once', () => {
  const set = loadCommonPasswords();
  assert.equal(set.size, 10_000);
  assert.equal(loadCommonPasswords(), set, 'the same set on every call');
  for (const p of ['password', '123456', 'qwerty', 'dragon', 'password1', 'unbelievable']) assert.ok(set.has(p), p);
  for (const p of set) assert.equal(p, p.toLowerCase());
  const lines = readFileSync(new URL('../../data/common-passwords.txt', import.meta.url), 'utf8').split('\n');
  assert.equal(lines.length, 10_001, '10,000 lines, each ending in LF');
  assert.equal(lines[0], 'password', 'most common first');
});

test('default minimum is 12; shorter is refused with the minimum in the detail', () => {
  assert.equal(DEFAULT_MIN_LENGTH, 12);
  assert.equal(policy.minLength, 12);
  const err = rejects('kx7#mQ2vLp9', 'KH_PASSWORD_TOO_SHORT');
  assert.deepEqual(err.detail, { minLength: 12 });
  assert.match(err.message, /at least 12 characters/);
  rejects('', 'KH_PASSWORD_TOO_SHORT');
});

test('exactly 12 characters is enough', () => {
  assert.doesNotThrow(() => policy.check('kx7#mQ2vLp9w'));
});

test('length counts Unicode code points, after the same NFC the hasher applies', () => {
  const emoji = ['🦊', '🐙', '🦀', '🐝', '🦉', '🐢', '🦔', '🐳', '🦜', '🐞', '🦒', '🐧'];
  assert.equal(emoji.slice(0, 11).join('').length, 22, '22 UTF-16 units…');
  rejects(emoji.slice(0, 11).join(''), 'KH_PASSWORD_TOO_SHORT'); // …but 11 characters
  assert.doesNotThrow(() => policy.check(emoji.join('')));
  // 6 decomposed "é" (e + U+0301) are 12 code points as typed but 6 once normalised.
  const decomposed = 'e\u0301'.repeat(6);
  assert.equal([...decomposed].length, 12);
  rejects(`${decomposed}`, 'KH_PASSWORD_TOO_SHORT');
  assert.doesNotThrow(() => policy.check('ÉtéÀlaPlage9'), 'accented letters count once each');
});

test('at most 256 characters, measured the same way; huge input refused before any work', () => {
  assert.equal(MAX_LENGTH, 256);
  const body = (n: number) => Array.from({ length: n }, (_, i) => String.fromCodePoint(0x4e00 + ((i * 7919) % 20000))).join('');
  assert.doesNotThrow(() => policy.check(body(256)));
  const err = rejects(body(257), 'KH_PASSWORD_TOO_LONG');
  assert.deepEqual(err.detail, { maxLength: 256 });
  rejects('x'.repeat(1_000_000), 'KH_PASSWORD_TOO_LONG');
});

test('a password the policy accepts can always be hashed, even 256 four-byte characters', async () => {
  const longest = Array.from({ length: 256 }, (_, i) => String.fromCodePoint(0x1f300 + i)).join('');
  policy.check(longest);
  const hasher = new PasswordHasher({ logN: 10, r: 8, p: 1 });
  const stored = await hasher.hash(longest);
  assert.equal((await hasher.verify(longest, stored)).ok, true);
});

test('control characters and lone surrogates are refused, as the hasher would', () => {
  rejects('abcdefgh\u0000ijkl', 'KH_PASSWORD_INVALID');
  rejects('abcdefghijk\ud800', 'KH_PASSWORD_INVALID');
  assert.throws(() => policy.check(42 as unknown as string), (e: unknown) => e instanceof InvalidInputError && e.code === 'KH_PASSWORD_INVALID');
});

test('a common password is refused whatever its case', () => {
  for (const p of ['unbelievable', 'UNBELIEVABLE', 'UnBeLiEvAbLe']) rejects(p, 'KH_PASSWORD_COMMON');
  const lenient = new PasswordPolicy({ minLength: 8, commonPasswords: loadCommonPasswords() });
  for (const p of ['password', 'PASSWORD', 'Password1', 'TrustNo1']) rejects(p, 'KH_PASSWORD_COMMON', {}, lenient);
});

test('simple variations of a common password are refused too', () => {
  for (const p of ['password2024!', 'Password1234', '!!!dragon!!!', '2024Monkey2024', 'qwertyQWERTY', 'letmein1letmein1']) {
    rejects(p, 'KH_PASSWORD_COMMON');
  }
});

test('the caller\'s list is compared case-insensitively however it was written', () => {
  const custom = new PasswordPolicy({ commonPasswords: new Set(['Keyhaven-Rocks!']) });
  rejects('KEYHAVEN-ROCKS!', 'KH_PASSWORD_COMMON', {}, custom);
  assert.doesNotThrow(() => custom.check('keyhaven-rolls!'));
});

test('repetitive and sequential passwords are refused', () => {
  for (const p of ['aaaaaaaaaaaa', 'abababababab', 'wxyzwxyzwxyz', '818181818181', 'abcdefghijkl', 'ZYXWVUTSRQPO', '123456789012', '987654321098', 'xyzabcdefghi', 'qwertyuiopas']) {
    rejects(p, 'KH_PASSWORD_PREDICTABLE');
  }
});

test('a password containing the username or e-mail name is refused, in any case', () => {
  const ctx = { username: 'jsmith', email: 'john.smith@example.org', displayName: 'John Smith' };
  rejects('xx-JSmith-is-great-77', 'KH_PASSWORD_CONTAINS_USERNAME', ctx);
  rejects('my John.Smith secret', 'KH_PASSWORD_CONTAINS_USERNAME', ctx);
  rejects('jsmith@contoso.com-1', 'KH_PASSWORD_CONTAINS_USERNAME', { username: 'JSMITH@contoso.com' });
  assert.doesNotThrow(() => policy.check('violet-tractor-91', { username: 'jo' }), 'names under 3 characters are not checked');
});

test('a password containing a part of the display name is refused', () => {
  const ctx = { username: 'ada', displayName: 'Lovelace, Ada-Augusta' };
  rejects('i-love-LOVELACE-99', 'KH_PASSWORD_CONTAINS_NAME', ctx);
  rejects('augusta in winter 7', 'KH_PASSWORD_CONTAINS_NAME', ctx);
  rejects('xADAx-is-a-name-', 'KH_PASSWORD_CONTAINS_USERNAME', ctx);
});

test('good passwords pass, with and without context', () => {
  const ctx = { username: 'jsmith', email: 'john.smith@example.org', displayName: 'John Smith' };
  for (const p of ['correct horse battery staple', 'kx7#mQ2vLp9w', 'Tr0ub4dor&3-extended', 'ÉtéÀlaPlage9', 'violet-tractor-91']) {
    assert.doesNotThrow(() => policy.check(p), p);
    assert.doesNotThrow(() => policy.check(p, ctx), p);
  }
  // No composition rules: all lower-case letters and spaces are fine when long and uncommon.
  assert.doesNotThrow(() => policy.check('purple monkey dishwasher'));
});

test('the minimum is configurable within NIST\'s bounds', () => {
  const p16 = new PasswordPolicy({ minLength: 16, commonPasswords: new Set() });
  rejects('kx7#mQ2vLp9w', 'KH_PASSWORD_TOO_SHORT', {}, p16);
  for (const bad of [7, 0, 12.5, 257, Number.NaN]) {
    assert.throws(() => new PasswordPolicy({ minLength: bad, commonPasswords: new Set() }), RangeError);
  }
});
