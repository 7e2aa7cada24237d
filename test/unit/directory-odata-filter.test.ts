// The OData $filter parser, $select/$top/$skiptoken and the SQL it leads to: the grammar Graph
// supports, and hostile input — injection attempts, unbalanced or deeply nested parentheses,
// unknown properties, overlong text — each refused with KH_ODATA_FILTER_INVALID or kept as data.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Kysely, SqliteDialect } from 'kysely';
import BetterSqlite3 from 'better-sqlite3';
import { InvalidInputError, KeyhavenError } from '../../src/errors.js';
import { MAX_FILTER_DEPTH, MAX_FILTER_LENGTH, parseFilter, type FilterFields } from '../../src/directory/odata-filter.js';
import {
  decodeCreationToken, encodeCreationToken, parseEtag, parseSelect, parseTop, project,
} from '../../src/directory/odata-query.js';
import { USER_FILTER_FIELDS } from '../../src/directory/user-accounts.js';
import { compileFilter } from '../../src/storage/row-filter.js';

const FIELDS: FilterFields = USER_FILTER_FIELDS;

function refused(text: string, pattern?: RegExp): void {
  assert.throws(() => parseFilter(text, FIELDS), (err) => {
    assert.ok(err instanceof InvalidInputError, `${text}: ${String(err)}`);
    assert.equal(err.code, 'KH_ODATA_FILTER_INVALID');
    assert.equal(err.status, 400);
    assert.match(err.message, /^Invalid filter clause: /);
    if (pattern) assert.match(err.message, pattern);
    return true;
  }, text);
}

/** The SQL text and parameters a filter compiles to (SQLite dialect). */
function compiled(text: string): { sql: string; parameters: readonly unknown[] } {
  const db = new Kysely<{ users: Record<string, unknown> }>({ dialect: new SqliteDialect({ database: new BetterSqlite3(':memory:') }) });
  const columns = new Set(Object.values(FIELDS).map((f) => f.column));
  const query = db.selectFrom('users').selectAll().where(compileFilter(parseFilter(text, FIELDS), columns)).compile();
  void db.destroy();
  return { sql: query.sql, parameters: query.parameters };
}

describe('OData $filter parser', () => {
  it('parses eq, ne, startswith, in, and/or with precedence, parentheses, booleans, null and numbers', () => {
    assert.deepEqual(parseFilter("displayName eq 'Ann'", FIELDS), { kind: 'compare', op: 'eq', column: 'display_name', value: 'Ann' });
    assert.deepEqual(parseFilter("startsWith(userPrincipalName,'a')", FIELDS), { kind: 'startsWith', column: 'user_principal_name', prefix: 'a' });
    assert.deepEqual(parseFilter('accountEnabled eq false', FIELDS), { kind: 'compare', op: 'eq', column: 'account_enabled', value: false });
    assert.deepEqual(parseFilter('mail ne null', FIELDS), { kind: 'compare', op: 'ne', column: 'mail', value: null });
    assert.deepEqual(parseFilter('keyhavenPosix/uidNumber eq 10001', FIELDS), { kind: 'compare', op: 'eq', column: 'uid_number', value: 10001 });
    assert.deepEqual(parseFilter("mailNickname in ('a', 'b')", FIELDS), { kind: 'in', column: 'username', values: ['a', 'b'] });
    // and binds tighter than or.
    const tree = parseFilter("givenName eq 'a' or givenName eq 'b' and surname eq 'c'", FIELDS);
    assert.equal(tree.kind, 'or');
    assert.equal(tree.kind === 'or' && tree.operands[1]!.kind, 'and');
    const grouped = parseFilter("(givenName eq 'a' or givenName eq 'b') and surname eq 'c'", FIELDS);
    assert.equal(grouped.kind, 'and');
    // Object ids compare lower-cased, as they are stored.
    assert.deepEqual(parseFilter("id eq 'ABCDEF00-0000-4000-8000-000000000000'", FIELDS), { kind: 'compare', op: 'eq', column: 'id', value: 'abcdef00-0000-4000-8000-000000000000' });
  });

  it("unescapes '' inside strings and keeps everything in a string as data", () => {
    assert.deepEqual(parseFilter("displayName eq 'O''Brien'", FIELDS), { kind: 'compare', op: 'eq', column: 'display_name', value: "O'Brien" });
    const tricky = parseFilter("displayName eq 'a'') or (''1''=''1'", FIELDS);
    assert.deepEqual(tricky, { kind: 'compare', op: 'eq', column: 'display_name', value: "a') or ('1'='1" });
  });

  it('refuses injection attempts that need a literal, an operator or SQL where a property must stand', () => {
    refused("displayName eq 'x' or 1 eq 1", /property name/);
    refused("displayName eq 'x' or 'a' eq 'a'");
    refused("displayName eq 'x'; drop table users");
    refused("displayName eq 'x' -- comment");
    refused("displayName eq 'x' /* */");
    refused('displayName eq x');
    refused("displayName eq 'x' union select * from users");
    refused("displayName eq 'x' or displayName like '%'");
    refused("displayName eq 'x' and not accountEnabled eq true");
    refused("displayName = 'x'");
    refused("displayName eq \"x\"");
    refused("displayName eq 'x'\u0000");
    refused('accountEnabled eq 1', /boolean/);
    refused("keyhavenPosix/uidNumber eq '1'", /integer/);
    refused('keyhavenPosix/uidNumber eq 4294967296');
    refused("startswith(accountEnabled,'t')", /text properties/);
  });

  it('refuses unknown properties, including prototype names and secret columns', () => {
    refused("password_hash eq 'x'", /does not exist/);
    refused("passwordProfile eq 'x'", /does not exist/);
    refused("constructor eq 'x'", /does not exist/);
    refused("__proto__ eq 'x'", /does not exist/);
    refused("display_name eq 'x'", /does not exist/);
    refused("keyhavenPosix/../password eq 'x'");
  });

  it('refuses malformed syntax: unbalanced parentheses, unterminated strings, dangling operators, empty input', () => {
    for (const text of [
      "(displayName eq 'x'",
      "displayName eq 'x')",
      "((displayName eq 'x')",
      "displayName eq 'x",
      "displayName eq 'x' and",
      "displayName eq 'x' or or displayName eq 'y'",
      'displayName eq',
      "eq 'x'",
      '()',
      '',
      '   ',
      "startswith(displayName 'x')",
      "startswith(displayName,'x'",
      "mailNickname in ()",
      "mailNickname in ('a',)",
      "mailNickname in ('a', null)",
    ]) refused(text);
  });

  it('bounds nesting depth, length, and the number of terms (no deep recursion, no huge SQL)', () => {
    const nested = (n: number) => '('.repeat(n) + "displayName eq 'x'" + ')'.repeat(n);
    assert.ok(parseFilter(nested(MAX_FILTER_DEPTH), FIELDS));
    refused(nested(MAX_FILTER_DEPTH + 1), /nested deeper/);
    refused(nested(100_000).slice(0, MAX_FILTER_LENGTH + 1), /longer than/);
    refused('('.repeat(MAX_FILTER_LENGTH), /nested deeper/);
    refused("displayName eq '" + 'a'.repeat(MAX_FILTER_LENGTH) + "'", /longer than/);
    const many = Array.from({ length: 65 }, (_, i) => `givenName eq '${i}'`).join(' or ');
    refused(many, /more than 64 conditions/);
    refused(`mailNickname in (${Array.from({ length: 16 }, (_, i) => `'${i}'`).join(',')})`, /at most 15/);
  });

  it('compiles to SQL whose text holds no client value: every value is a parameter', () => {
    const hostile = "a') or ('1'='1";
    const { sql, parameters } = compiled("displayName eq 'a'') or (''1''=''1' or startswith(mail,'%_\\') and accountEnabled eq true");
    assert.ok(!sql.includes("'1'"), sql);
    assert.ok(!sql.includes('%_'), sql);
    assert.deepEqual(parameters, [hostile, '\\%\\_\\\\%', 1]);
    assert.match(sql, /lower\("display_name"\) = \?/);
    assert.match(sql, /like \? escape '\\'/);
  });

  it('refuses a column outside the repository allowlist even if a caller builds the tree by hand', () => {
    assert.throws(() => compileFilter({ kind: 'compare', op: 'eq', column: 'password_hash', value: 'x' }, new Set(['display_name'])), RangeError);
  });
});

describe('OData $select, $top, $skiptoken, If-Match', () => {
  it('validates $top from 1 to 999', () => {
    assert.equal(parseTop(undefined), 100);
    assert.equal(parseTop('999'), 999);
    for (const bad of ['0', '1000', '-1', '1.5', '1e3', 'abc', ' 5', '10; drop']) {
      assert.throws(() => parseTop(bad), (e) => e instanceof KeyhavenError && e.code === 'KH_ODATA_TOP_INVALID', bad);
    }
  });

  it('validates $select names and projects objects, keeping OData annotations', () => {
    const allowed = ['id', 'displayName', 'mail'];
    assert.deepEqual(parseSelect('displayName, id,displayName', allowed, 't'), ['displayName', 'id']);
    assert.throws(() => parseSelect('passwordHash', allowed, 'microsoft.graph.user'), /Could not find a property named 'passwordHash' on type 'microsoft.graph.user'/);
    assert.throws(() => parseSelect(' , ', allowed, 't'), (e) => e instanceof KeyhavenError && e.code === 'KH_ODATA_SELECT_INVALID');
    assert.deepEqual(project({ '@odata.etag': 'W/"1"', id: '1', displayName: 'x', mail: null }, ['mail']), { '@odata.etag': 'W/"1"', mail: null });
  });

  it('round-trips skip tokens and refuses altered or foreign ones', () => {
    const pos = { createdAt: '2026-01-02T03:04:05.678Z', id: '0f8fad5b-d9cb-469f-a165-70867728950e' };
    assert.deepEqual(decodeCreationToken(encodeCreationToken(pos)), pos);
    const forge = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    for (const bad of [
      'not base64!',
      forge(['c', "2026' or '1'='1", pos.id]),
      forge(['c', pos.createdAt, "x' or 1=1 --"]),
      forge(['c', pos.createdAt]),
      forge(['i', pos.id]),
      forge({ c: 1 }),
      forge(['c', 1, 2]),
      'A'.repeat(300),
      '',
    ]) {
      assert.throws(() => decodeCreationToken(bad), (e) => e instanceof KeyhavenError && e.code === 'KH_ODATA_SKIPTOKEN_INVALID', bad);
    }
  });

  it('reads versions from If-Match', () => {
    assert.equal(parseEtag('W/"3"'), 3);
    assert.equal(parseEtag('"12"'), 12);
    assert.throws(() => parseEtag('*'), (e) => e instanceof KeyhavenError && e.code === 'KH_ETAG_INVALID');
  });
});
