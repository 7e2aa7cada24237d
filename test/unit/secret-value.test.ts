import { test } from 'node:test';
import assert from 'node:assert/strict';
import { format, inspect } from 'node:util';
import { SecretValue } from '../../src/crypto/secret-value.js';

const SECRET = 'sv-7f3a9c-top-secret';

test('reveal returns the value', () => {
  assert.equal(new SecretValue(SECRET).reveal(), SECRET);
  assert.equal(new SecretValue('').reveal(), '');
});

test('no conversion to text shows the value', () => {
  const s = new SecretValue(SECRET);
  const renderings = [
    JSON.stringify(s), JSON.stringify({ nested: { s } }), JSON.stringify([s]), String(s), `${s}`, 'x' + s,
    s.toString(), inspect(s), inspect({ s }, { showHidden: true, depth: 10 }), format('%s %o %O %j', s, s, s, s),
    format(s), Object.keys(s).join(), JSON.stringify({ ...s }), JSON.stringify(Object.entries(s)),
  ];
  for (const text of renderings) {
    assert.ok(!text.includes(SECRET), text);
  }
  assert.equal(JSON.stringify(s), '"[REDACTED]"');
  assert.equal(String(s), '[REDACTED]');
  assert.equal(`${s}`, '[REDACTED]');
  assert.equal(inspect(s), 'SecretValue([REDACTED])');
});

test('a structured clone does not carry the value', () => {
  const clone = structuredClone(new SecretValue(SECRET)) as unknown;
  assert.ok(!inspect(clone, { showHidden: true }).includes(SECRET));
});

test('only strings, and the instance is frozen', () => {
  assert.throws(() => new SecretValue(42 as unknown as string), TypeError);
  const s = new SecretValue(SECRET);
  assert.ok(Object.isFrozen(s));
  assert.throws(() => { (s as unknown as { leak: string }).leak = s.reveal(); }, TypeError);
});
