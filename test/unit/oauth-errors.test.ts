// The token service's error table: every Keyhaven code the OAuth face maps is listed in
// docs/errors.md's token-service section with the same OAuth error, status and AADSTS number,
// and the section lists nothing the face does not map. The renderer is checked for Entra's shape.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { CODE_TABLE, oauthErrorOf } from '../../src/http/oauth/oauth-error.js';
import { InvalidInputError, ThrottledError, UnauthenticatedError } from '../../src/errors.js';

const doc = readFileSync(join(resolve(import.meta.dirname, '../..'), 'docs/errors.md'), 'utf8');
const section = doc.slice(doc.indexOf('## Token service'));
const rows = [...section.matchAll(/^\| (\d+) \| `([a-z_]+)` \| (\d+) \| (KH_[A-Z0-9_]+) \|$/gm)].map((m) => ({ aadsts: Number(m[1]), error: m[2]!, status: Number(m[3]), code: m[4]! }));

describe('token service error table', () => {
  it('documents every mapped code with its wire error, status and AADSTS number', () => {
    assert.ok(rows.length >= 30, `only ${rows.length} rows`);
    const mapped = Object.entries(CODE_TABLE).map(([code, e]) => ({ aadsts: e.aadsts, error: e.error, status: e.status, code }));
    assert.deepEqual([...rows].sort((a, b) => a.code.localeCompare(b.code)), mapped.sort((a, b) => a.code.localeCompare(b.code)));
  });

  it('maps codes by code and unknown codes by kind', () => {
    assert.equal(oauthErrorOf(new UnauthenticatedError('KH_CLIENT_ASSERTION_REPLAYED', 'x')).error, 'invalid_client');
    assert.equal(oauthErrorOf(new InvalidInputError('KH_OAUTH_UNSUPPORTED_GRANT', 'x')).error, 'unsupported_grant_type');
    assert.equal(oauthErrorOf(new InvalidInputError('KH_SOMETHING_NEW', 'x')).error, 'invalid_request');
    const throttled = oauthErrorOf(new ThrottledError('KH_CLIENT_THROTTLED', 'x'));
    assert.equal(throttled.status, 429);
    assert.equal(throttled.error, 'temporarily_unavailable');
  });
});
