import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { CredentialDigester, generateCredential } from '../../src/crypto/generated-credential.js';

const KEY = new Uint8Array(32).fill(0x42);

test('generateCredential: 256 random bits as 43 base64url characters', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const c = generateCredential();
    assert.match(c, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(c, 'base64url').length, 32);
    seen.add(c);
  }
  assert.equal(seen.size, 1000);
});

test('generateCredential never starts with "-" (a command line would take it for an option)', () => {
  // 1/64 of base64url strings start with '-': 5,000 draws would show ~78 of them.
  for (let i = 0; i < 5000; i++) assert.notEqual(generateCredential()[0], '-');
});

test('the HMAC key must be a Uint8Array of at least 32 bytes', () => {
  assert.throws(() => new CredentialDigester(new Uint8Array(31)), RangeError);
  assert.throws(() => new CredentialDigester(new Uint8Array(0)), RangeError);
  assert.throws(() => new CredentialDigester('x'.repeat(64) as unknown as Uint8Array), RangeError);
  assert.throws(() => new CredentialDigester(undefined as unknown as Uint8Array), RangeError);
  assert.ok(new CredentialDigester(new Uint8Array(32)));
  assert.ok(new CredentialDigester(Buffer.alloc(64)));
});

test('digest is lowercase hex HMAC-SHA-256 of the UTF-8 value', () => {
  const d = new CredentialDigester(KEY);
  const value = generateCredential();
  const digest = d.digest(value);
  assert.match(digest, /^[0-9a-f]{64}$/);
  assert.equal(digest, createHmac('sha256', KEY).update(value).digest('hex'));
  assert.equal(d.digest(value), digest, 'deterministic');
  assert.notEqual(d.digest(`${value}x`), digest);
  assert.equal(d.digest('caf\u00e9'), createHmac('sha256', KEY).update(Buffer.from('caf\u00e9', 'utf8')).digest('hex'));
  assert.throws(() => d.digest(undefined as unknown as string), TypeError);
});

test('RFC 4231 test case 6 (131-byte key)', () => {
  const d = new CredentialDigester(new Uint8Array(131).fill(0xaa));
  assert.equal(
    d.digest('Test Using Larger Than Block-Size Key - Hash Key First'),
    '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
  );
});

test('a different server key gives a different digest', () => {
  const value = generateCredential();
  const other = new Uint8Array(32).fill(0x43);
  assert.notEqual(new CredentialDigester(KEY).digest(value), new CredentialDigester(other).digest(value));
  assert.equal(new CredentialDigester(other).matches(value, new CredentialDigester(KEY).digest(value)), false);
});

test('the key is copied: changing the caller\'s buffer later changes nothing', () => {
  const key = new Uint8Array(32).fill(1);
  const d = new CredentialDigester(key);
  const before = d.digest('v');
  key.fill(2);
  assert.equal(d.digest('v'), before);
});

test('matches: true for the right value, false for any other', () => {
  const d = new CredentialDigester(KEY);
  const value = generateCredential();
  const digest = d.digest(value);
  assert.equal(d.matches(value, digest), true);
  assert.equal(d.matches(value, digest.toUpperCase()), true, 'hex case does not matter');
  assert.equal(d.matches(generateCredential(), digest), false);
  assert.equal(d.matches(value.slice(0, -1), digest), false);
  assert.equal(d.matches('', digest), false);
  assert.equal(d.matches('', d.digest('')), true);
});

test('matches: a malformed digest or non-string input is false, never an exception', () => {
  const d = new CredentialDigester(KEY);
  const value = generateCredential();
  const digest = d.digest(value);
  const malformed: unknown[] = [
    '', 'zz', digest.slice(0, 63), `${digest}0`, `${digest.slice(0, 62)}zz`, ` ${digest.slice(1)}`,
    `${digest.slice(0, 63)}\n`, Buffer.from(digest, 'hex').toString('base64'), digest.repeat(1000),
    null, undefined, 42, {}, Buffer.from(digest, 'hex'),
  ];
  for (const m of malformed) {
    assert.equal(d.matches(value, m as string), false, String(m));
  }
  for (const v of [null, undefined, 42, {}, Buffer.from(value)]) {
    assert.equal(d.matches(v as unknown as string, digest), false);
  }
});
