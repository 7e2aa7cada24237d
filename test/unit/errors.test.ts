// Every error code in the sources is documented in docs/errors.md, and every documented code
// is still used: codes are the stable part of errors that clients and operators rely on.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { ConflictError, InternalError, InvalidInputError, KeyhavenError, NotFoundError, UnavailableError } from '../../src/errors.js';

const root = resolve(import.meta.dirname, '../..');
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('error codes', () => {
  const used = new Set(sources(join(root, 'src')).flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/'(KH_[A-Z0-9_]+)'/g)].map((m) => m[1]!)));
  const doc = readFileSync(join(root, 'docs/errors.md'), 'utf8');
  const documented = [...doc.matchAll(/^\| `(KH_[A-Z0-9_*]+)` \|/gm)].map((m) => m[1]!);

  it('documents every code used in the sources', () => {
    const missing = [...used].filter((c) => !documented.includes(c));
    assert.deepEqual(missing, [], `add these to docs/errors.md: ${missing.join(', ')}`);
  });

  it('lists each code once and only codes still in use', () => {
    assert.equal(new Set(documented).size, documented.length, 'a code is listed twice');
    const stale = documented.filter((c) => !c.endsWith('*') && !used.has(c));
    assert.deepEqual(stale, []);
  });

  it('gives each kind its status and keeps internal messages hidden', () => {
    const cases: [KeyhavenError, number, boolean][] = [
      [new NotFoundError('KH_USER_NOT_FOUND', 'x'), 404, true],
      [new ConflictError('KH_MASTER_KEY_SAME', 'x'), 409, true],
      [new InvalidInputError('KH_PASSWORD_EMPTY', 'x'), 400, true],
      [new UnavailableError('KH_STORAGE_CLOSED', 'x'), 503, true],
      [new InternalError('KH_INTERNAL', 'secret detail'), 500, false],
    ];
    for (const [err, status, expose] of cases) {
      assert.equal(err.status, status);
      assert.equal(err.expose, expose);
      assert.equal(err.name, err.constructor.name);
    }
  });
});
