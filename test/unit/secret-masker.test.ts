// The masker of `keyhaven run` (issue 13's masking acceptance, at the stream level): 5 secrets,
// each written in every encoding and in many chunkings, come out as `***`; everything else
// arrives intact and in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMaskingStream, planMasks, SecretMasker } from '../../src/cli/run/secret-masker.js';

const SECRETS = [
  { name: 'MULTI', value: 'first-line-4f9a\nsecond-line-77c2\nthird-line-a0e1' },
  { name: 'REGEX', value: 'a.b*c+(d)?[e]$^|\\' },
  { name: 'UNICODE', value: 'pässwörd-ключ-密码' },
  { name: 'ENCODED', value: `p@ss w/rd&q="x" it's+%2F` },
  { name: 'PLAIN', value: 'hunter2hunter2' },
];

function encodings(v: string): string[] {
  const b64 = Buffer.from(v).toString('base64');
  return [
    v,
    b64,
    Buffer.from(`${v}\n`).toString('base64'),
    Buffer.from(v).toString('base64url'),
    b64.replace(/=+$/, ''),
    encodeURIComponent(v),
    JSON.stringify(v).slice(1, -1),
    JSON.stringify(v), // with its quotes: the inner part is masked
    `'${v.replace(/'/g, `'\\''`)}'`,
    v.replace(/[^A-Za-z0-9_\/.,:@%+=-]/gu, (c) => `\\${c}`),
    `export X=${JSON.stringify(v)}`,
  ];
}

/** Chunks of `bytes` as one piece, one byte per write, and split at every point. */
function chunkings(bytes: Buffer): Buffer[][] {
  const out: Buffer[][] = [[bytes], [...bytes].map((b) => Buffer.from([b]))];
  for (let k = 1; k < bytes.length; k++) out.push([bytes.subarray(0, k), bytes.subarray(k)]);
  return out;
}

async function through(writes: Buffer[], patterns: Buffer[]): Promise<string> {
  // A long hold-back: the end of the stream, not the timer, must release everything here.
  const stream = createMaskingStream(patterns, 60_000);
  const got: Buffer[] = [];
  stream.on('data', (b: Buffer) => got.push(b));
  const ended = new Promise((r) => stream.on('end', r));
  for (const w of writes) stream.write(w);
  stream.end();
  await ended;
  return Buffer.concat(got).toString('utf8');
}

/** What must never appear: each value, each line of it, and their encodings. */
function forbidden(): string[] {
  const all = new Set<string>();
  for (const { value } of SECRETS) for (const part of [value, ...value.split('\n')]) for (const e of encodings(part)) all.add(e.replace(/^export X=/, ''));
  // Quotes and prefixes around a form are not secret: check the forms themselves.
  return [...all].map((s) => (s.startsWith('"') ? s.slice(1, -1) : s));
}

test('every secret in every encoding and chunking is masked; the rest arrives in order', async () => {
  const { patterns, tooShort } = planMasks(SECRETS);
  assert.deepEqual(tooShort, []);
  const bad = forbidden();
  let cases = 0;
  for (const { value } of SECRETS) {
    for (const [n, enc] of encodings(value).entries()) {
      const line = Buffer.from(`<before ${n}>${enc}<after ${n}>\r\n`);
      for (const writes of chunkings(line)) {
        const out = await through(writes, patterns);
        cases++;
        for (const b of bad) assert.ok(!out.includes(b), `a form of a secret leaked in ${JSON.stringify(out)}`);
        assert.ok(out.startsWith(`<before ${n}>`) && out.endsWith(`<after ${n}>\r\n`), out);
        assert.ok(out.includes('***'), out);
      }
    }
  }
  assert.ok(cases > 5 * 10 * 10);
});

test('interleaved with other text, over many writes, the other text is byte-exact and in order', async () => {
  const { patterns } = planMasks(SECRETS);
  const pieces: string[] = [];
  const expected: string[] = [];
  for (const [i, { value }] of SECRETS.entries()) {
    for (const [n, enc] of encodings(value).entries()) {
      const plain = `line ${i}.${n} ✓ progress ${n * 10}%\r`;
      pieces.push(plain, enc, '\n');
      expected.push(plain, '\n');
    }
  }
  const all = Buffer.from(pieces.join(''));
  // Writes of 7 bytes: splits land everywhere, inside secrets and inside UTF-8 sequences.
  const writes: Buffer[] = [];
  for (let k = 0; k < all.length; k += 7) writes.push(all.subarray(k, k + 7));
  const out = await through(writes, patterns);
  for (const b of forbidden()) assert.ok(!out.includes(b), `leaked: ${b}`);
  // Removing every mask (and what an encoding left around it) leaves exactly the other text.
  const stripped = out.split('\n').map((l) => l.replace(/\r.*$/s, '\r')).join('\n');
  assert.equal(stripped, expected.join(''));
});

test('a value under 4 characters is left as it is and reported by name only', async () => {
  const { patterns, tooShort } = planMasks([{ name: 'PIN', value: 'abc' }, { name: 'OK', value: 'long-enough' }]);
  assert.deepEqual(tooShort, ['PIN']);
  assert.equal(await through([Buffer.from('abc and long-enough')], patterns), 'abc and ***');
});

test('text that only starts like a secret passes through unchanged, also when the stream ends on it', async () => {
  const { patterns } = planMasks(SECRETS);
  assert.equal(await through([Buffer.from('hunter2hunt'), Buffer.from('er3 pässw')], patterns), 'hunter2hunter3 pässw');
});

test('the hold-back is only the possible prefix, and the timer releases it', async () => {
  const masker = new SecretMasker(planMasks(SECRETS).patterns);
  assert.equal(masker.push(Buffer.from('downloading 42% hunter')).toString(), 'downloading 42% ');
  assert.equal(masker.pendingLength, 'hunter'.length);
  assert.equal(masker.push(Buffer.from('2hunter2 done')).toString(), '*** done');

  const stream = createMaskingStream(planMasks(SECRETS).patterns, 5);
  const got: string[] = [];
  stream.on('data', (b: Buffer) => got.push(b.toString()));
  stream.write(Buffer.from('\r 99% hunt'));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(got.join(''), '\r 99% hunt');
  stream.end();
});
