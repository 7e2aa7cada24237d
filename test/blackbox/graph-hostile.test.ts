// Malformed and hostile requests to the Graph-shaped directory API, as a table: missing,
// forged and wrong-audience tokens; bodies that are not JSON, not objects, too large or of the
// wrong content type; OData injection attempts in $filter, unknown $select properties, $top
// out of range, forged $skiptoken; path traversal and control characters in ids; group cycles
// and duplicate members; writes by a caller without a role. Each must get Graph's error with
// the right status and code. Afterwards the server is still healthy, logged no server error,
// and the directory is exactly as before: no refused request wrote anything.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { blackboxStorage, startServerProcess, tempHome, type ServerProcess } from '../helpers/server-process.js';
import { tenantOf, userToken, type Tenant } from '../helpers/tenant-fixtures.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Caller = 'admin' | 'user' | 'none' | 'management' | 'tampered' | 'unsigned' | 'garbage' | 'basic';

interface Row {
  name: string;
  as?: Caller;
  method?: string;
  path: string;
  /** A JSON value to send, or `raw` text with its own content type. */
  body?: unknown;
  raw?: string;
  contentType?: string;
  status: number;
  /** Graph's error code; absent for the injection attempts that are just (unmatched) strings. */
  code?: string;
  message?: string | RegExp;
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('directory API: malformed and hostile requests', () => {
  const { home, remove } = tempHome();
  let storage: { url: string; drop(): Promise<void> };
  let server: ServerProcess;
  let t: Tenant;
  let publicUrl: string;
  const tokens = {} as Record<Caller, string | undefined>;
  const ids: Record<string, string> = {};

  async function call(row: Pick<Row, 'as' | 'method' | 'path' | 'body' | 'raw' | 'contentType'>): Promise<{ status: number; headers: Headers; text: string; body: Json }> {
    const token = tokens[row.as ?? 'admin'];
    const headers: Record<string, string> = {};
    if (token !== undefined) headers.authorization = row.as === 'basic' ? token : `Bearer ${token}`;
    let body: string | undefined;
    if (row.raw !== undefined) body = row.raw;
    else if (row.body !== undefined) body = JSON.stringify(row.body);
    if (body !== undefined) headers['content-type'] = row.contentType ?? 'application/json';
    const res = await fetch(row.path.startsWith('/graph/') || row.path.startsWith('/readyz') ? `${t.url}${row.path}` : `${t.url}/graph/v1.0${row.path}`, {
      method: row.method ?? (body === undefined ? 'GET' : 'POST'),
      headers,
      body,
    });
    const text = await res.text();
    let parsed: Json = {};
    try {
      parsed = text ? (JSON.parse(text) as Json) : {};
    } catch {
      parsed = { unparsable: text.slice(0, 200) };
    }
    return { status: res.status, headers: res.headers, text, body: parsed };
  }

  /** Every directory collection the table could have touched, as the admin reads it. */
  async function snapshot(): Promise<Json> {
    const paths = [
      '/users?$top=999', '/groups?$top=999', '/applications?$top=999', '/servicePrincipals?$top=999',
      '/roleManagement/directory/roleAssignments?$top=999',
      `/groups/${ids.outer}/members`, `/groups/${ids.inner}/members`, `/applications/${ids.app}`,
    ];
    const out: Json = {};
    for (const path of paths) {
      const res = await call({ path });
      assert.equal(res.status, 200, `${path}: ${res.text}`);
      out[path] = res.body;
    }
    return out;
  }

  before(async () => {
    storage = await blackboxStorage(home);
    server = await startServerProcess({ home, storage: storage.url });
    t = await tenantOf(server);
    const discovery = (await (await fetch(`${t.url}/organizations/v2.0/.well-known/openid-configuration`)).json()) as { issuer: string };
    publicUrl = new URL(discovery.issuer).origin;
    const admin = await userToken(t, 'admin', t.adminPassword, `${publicUrl}/graph//.default`);
    tokens.admin = admin;
    const [header, payload, signature] = admin.split('.') as [string, string, string];
    // The last signature character flipped; and the same claims re-labelled as unsigned (alg none).
    tokens.tampered = `${header}.${payload}.${signature.slice(0, -2)}${signature.at(-2) === 'A' ? 'B' : 'A'}${signature.slice(-1)}`;
    tokens.unsigned = `${b64url({ alg: 'none', typ: 'JWT' })}.${payload}.`;
    tokens.garbage = 'not-a-jwt';
    tokens.basic = `Basic ${Buffer.from(`admin:${t.adminPassword}`).toString('base64')}`;
    tokens.none = undefined;
    // A real token of the same user for another API (the management audience).
    tokens.management = await userToken(t, 'admin', t.adminPassword, `${publicUrl}//.default`);

    const created = async (path: string, body: unknown) => {
      const res = await call({ path, body });
      assert.equal(res.status, 201, res.text);
      return res.body.id as string;
    };
    ids.mallory = await created('/users', { displayName: 'Mallory', userPrincipalName: 'mallory@example.org', mailNickname: 'mallory', passwordProfile: { password: 'Crimson-falcon-ledger-63' } });
    tokens.user = await userToken(t, 'mallory', 'Crimson-falcon-ledger-63', `${publicUrl}/graph//.default`);
    ids.outer = await created('/groups', { displayName: 'outer', mailNickname: 'outer' });
    ids.inner = await created('/groups', { displayName: 'inner', mailNickname: 'inner' });
    ids.app = await created('/applications', { displayName: 'hostile-app' });
    for (const [group, member] of [[ids.outer, ids.inner], [ids.inner, ids.mallory]] as const) {
      const res = await call({ path: `/groups/${group}/members/$ref`, body: { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${member}` } });
      assert.equal(res.status, 204, res.text);
    }
  });
  after(async () => {
    await server?.stop();
    await storage?.drop();
    remove();
  });

  function rows(): Row[] {
    const ref = (id: string) => ({ '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${id}` });
    const unknown = randomUUID();
    const newUser = { displayName: 'Eve', userPrincipalName: 'eve@example.org', mailNickname: 'eve' };
    const filter = (f: string) => `/users?$filter=${encodeURIComponent(f)}`;
    return [
      // Tokens ---------------------------------------------------------------------------------
      { name: 'no Authorization header', as: 'none', path: '/users', status: 401, code: 'InvalidAuthenticationToken', message: 'Access token is empty.' },
      { name: 'a bearer token that is no JWT', as: 'garbage', path: '/users', status: 401, code: 'InvalidAuthenticationToken' },
      { name: 'Basic credentials instead of a bearer token', as: 'basic', path: '/users', status: 401, code: 'InvalidAuthenticationToken' },
      { name: "a valid token for another API's audience", as: 'management', path: '/users', status: 401, code: 'InvalidAuthenticationToken', message: /Invalid audience/ },
      { name: 'a token with a forged signature', as: 'tampered', path: '/me', status: 401, code: 'InvalidAuthenticationToken' },
      { name: 'the same claims unsigned (alg none)', as: 'unsigned', path: '/me', status: 401, code: 'InvalidAuthenticationToken' },
      { name: 'no token and a malformed body: authentication answers first', as: 'none', path: '/users', raw: '{"displayName":', status: 401, code: 'InvalidAuthenticationToken' },
      // Bodies ---------------------------------------------------------------------------------
      { name: 'malformed JSON', path: '/users', raw: '{"displayName": "Eve",', status: 400, code: 'Request_BadRequest', message: /Unable to read JSON request payload/ },
      { name: 'text/plain body', path: '/users', raw: JSON.stringify(newUser), contentType: 'text/plain', status: 415, code: 'UnsupportedMediaType' },
      { name: 'form-encoded body', path: '/groups', raw: 'displayName=x&mailNickname=x', contentType: 'application/x-www-form-urlencoded', status: 415, code: 'UnsupportedMediaType' },
      { name: 'a body over 1 MiB', path: '/users', body: { ...newUser, displayName: 'x'.repeat(1_100_000) }, status: 413, code: 'RequestEntityTooLarge' },
      { name: 'a JSON array instead of an object', path: '/users', body: [newUser], status: 400, code: 'Request_BadRequest' },
      { name: 'an empty JSON body', path: '/users', raw: '', status: 400, code: 'Request_BadRequest' },
      { name: 'prototype pollution (__proto__)', path: '/users', raw: '{"displayName":"Eve","userPrincipalName":"eve@example.org","__proto__":{"isAdmin":true}}', status: 400, code: 'Request_BadRequest' },
      { name: 'a property users do not have', path: '/users', body: { ...newUser, passwordHash: '$scrypt$...' }, status: 400, code: 'Request_BadRequest', message: "Property 'passwordHash' does not exist as a declared property or extension property." },
      { name: 'a string where a boolean belongs', path: '/users', body: { ...newUser, accountEnabled: 'yes' }, status: 400, code: 'Request_BadRequest', message: "Invalid value specified for property 'accountEnabled' of resource 'User'." },
      { name: 'a required property missing', path: '/users', body: { displayName: 'Eve' }, status: 400, code: 'Request_BadRequest', message: "A value is required for property 'userPrincipalName' of resource 'User'." },
      { name: 'an overlong displayName', path: '/groups', body: { displayName: 'g'.repeat(300), mailNickname: 'longname' }, status: 400, code: 'Request_BadRequest' },
      { name: 'control characters in displayName', path: '/groups', body: { displayName: 'bad\u0000name\u001b[31m', mailNickname: 'ctlname' }, status: 400, code: 'Request_BadRequest' },
      { name: 'a reserved Linux group name (sudo)', path: '/groups', body: { displayName: 'sudo', mailNickname: 'sudo' }, status: 400, code: 'Request_BadRequest' },
      // OData ----------------------------------------------------------------------------------
      { name: "$filter injection: or 1 eq 1", path: filter("displayName eq 'x' or 1 eq 1"), status: 400, code: 'Request_BadRequest', message: /^Invalid filter clause/ },
      { name: '$filter injection: quotes are only a string', path: filter("displayName eq 'a'') or (''1''=''1'"), status: 200 },
      { name: '$filter injection: SQL inside a literal is only a string', path: filter("userPrincipalName eq 'x''; DROP TABLE users; --'"), status: 200 },
      { name: '$filter injection: SQL outside a literal', path: filter("displayName eq 'x'; DROP TABLE users"), status: 400, code: 'Request_BadRequest' },
      { name: '$filter on a column that is no property', path: filter("password_hash eq 'x'"), status: 400, code: 'Request_BadRequest' },
      { name: '$filter on a prototype name', path: filter("constructor eq 'x'"), status: 400, code: 'Request_BadRequest' },
      { name: '$filter nested 40 deep', path: filter(`${'('.repeat(40)}displayName eq 'x'${')'.repeat(40)}`), status: 400, code: 'Request_BadRequest' },
      { name: '$filter with a NUL character', path: filter("displayName eq 'a\u0000'"), status: 400, code: 'Request_BadRequest' },
      { name: '$filter of 3000 characters', path: filter(`displayName eq '${'a'.repeat(3000)}'`), status: 400, code: 'Request_BadRequest' },
      { name: '$select of an unknown property', path: '/users?$select=id,passwordHash', status: 400, code: 'Request_BadRequest', message: "Could not find a property named 'passwordHash' on type 'microsoft.graph.user'." },
      { name: '$top=0', path: '/users?$top=0', status: 400, code: 'Request_BadRequest' },
      { name: '$top=10000', path: '/users?$top=10000', status: 400, code: 'Request_BadRequest' },
      { name: '$top=abc', path: '/users?$top=abc', status: 400, code: 'Request_BadRequest' },
      { name: '$top=-1', path: '/groups?$top=-1', status: 400, code: 'Request_BadRequest' },
      { name: '$top given twice', path: '/users?$top=1&$top=2', status: 400, code: 'Request_BadRequest' },
      { name: 'a $skiptoken that is not ours', path: '/users?$skiptoken=not*a*token', status: 400, code: 'Request_BadRequest' },
      { name: 'a forged $skiptoken carrying SQL', path: `/users?$skiptoken=${b64url(['c', "' OR 1=1 --", unknown])}`, status: 400, code: 'Request_BadRequest' },
      { name: '$orderby (not supported)', path: '/users?$orderby=displayName', status: 400, code: 'Request_UnsupportedQuery' },
      { name: '$filter on a navigation collection', path: `/groups/${ids.outer}/members?$filter=${encodeURIComponent("displayName eq 'x'")}`, status: 400, code: 'Request_UnsupportedQuery' },
      // Paths ----------------------------------------------------------------------------------
      { name: 'path traversal in a user id', path: '/users/..%2F..%2Fetc%2Fpasswd', status: 404, code: 'Request_ResourceNotFound' },
      { name: 'path traversal in a directory object id', path: '/directoryObjects/..%2Fusers', status: 400, code: 'Request_BadRequest', message: /^Invalid object identifier/ },
      { name: 'a NUL in an id', path: '/users/%00', status: 400, code: 'Request_BadRequest', message: /^Invalid object identifier/ },
      { name: 'an id of 100 characters', path: `/groups/${'a'.repeat(100)}`, status: 404, code: 'Request_ResourceNotFound' },
      { name: 'an unknown user id', path: `/users/${unknown}`, status: 404, code: 'Request_ResourceNotFound' },
      { name: 'PATCH of an unknown user', method: 'PATCH', path: `/users/${unknown}`, body: { displayName: 'x' }, status: 404, code: 'Request_ResourceNotFound' },
      { name: 'DELETE of an unknown group', method: 'DELETE', path: `/groups/${unknown}`, status: 404, code: 'Request_ResourceNotFound' },
      { name: 'an unknown path segment', path: '/secrets', status: 400, code: 'BadRequest', message: "Resource not found for the segment 'secrets'." },
      { name: 'an API version Keyhaven does not serve', path: '/graph/beta/users', status: 400, code: 'BadRequest' },
      { name: 'PUT (Graph updates with PATCH)', method: 'PUT', path: `/users/${ids.mallory}`, body: { displayName: 'x' }, status: 405, code: 'Request_BadRequest' },
      // Membership -----------------------------------------------------------------------------
      { name: 'a group cycle (outer into inner)', path: `/groups/${ids.inner}/members/$ref`, body: ref(ids.outer!), status: 400, code: 'Request_BadRequest' },
      { name: 'a group as its own member', path: `/groups/${ids.outer}/members/$ref`, body: ref(ids.outer!), status: 400, code: 'Request_BadRequest' },
      { name: 'a duplicate member', path: `/groups/${ids.outer}/members/$ref`, body: ref(ids.inner!), status: 400, code: 'Request_BadRequest', message: "One or more added object references already exist for the following modified properties: 'members'." },
      { name: 'an unknown member', path: `/groups/${ids.outer}/members/$ref`, body: ref(unknown), status: 404, code: 'Request_ResourceNotFound' },
      { name: 'an @odata.id that is no directory URL', path: `/groups/${ids.outer}/members/$ref`, body: { '@odata.id': 'javascript:alert(1)' }, status: 400, code: 'Request_BadRequest' },
      { name: 'checkMemberGroups with 21 ids', path: `/directoryObjects/${ids.mallory}/checkMemberGroups`, body: { groupIds: Array.from({ length: 21 }, () => randomUUID()) }, status: 400, code: 'Request_BadRequest' },
      // Authorization and rules ----------------------------------------------------------------
      { name: 'a user without a role creates a user', as: 'user', path: '/users', body: newUser, status: 403, code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' },
      { name: 'a user without a role adds themself to a group', as: 'user', path: `/groups/${ids.outer}/members/$ref`, body: ref(ids.mallory!), status: 403, code: 'Authorization_RequestDenied' },
      {
        name: 'a user without a role makes themself Global Administrator',
        as: 'user',
        path: '/roleManagement/directory/roleAssignments',
        body: { roleDefinitionId: '62e90394-69f5-4237-9190-012177145e10', principalId: ids.mallory, directoryScopeId: '/' },
        status: 403,
        code: 'Authorization_RequestDenied',
      },
      { name: 'a user without a role mints an application secret', as: 'user', path: `/applications/${ids.app}/addPassword`, body: {}, status: 403, code: 'Authorization_RequestDenied' },
      { name: 'a role that does not exist', path: '/roleManagement/directory/roleAssignments', body: { roleDefinitionId: unknown, principalId: ids.mallory, directoryScopeId: '/' }, status: 404, code: 'Request_ResourceNotFound' },
      { name: 'a roleAssignments filter Graph does not take', path: `/roleManagement/directory/roleAssignments?$filter=${encodeURIComponent("principalId ne 'x'")}`, status: 400, code: 'Request_UnsupportedQuery' },
      { name: 'a secret that expired before it was made', path: `/applications/${ids.app}/addPassword`, body: { passwordCredential: { endDateTime: '2001-01-01T00:00:00Z' } }, status: 400, code: 'Request_BadRequest' },
      { name: 'a certificate that is no certificate', path: `/applications/${ids.app}/addKey`, body: { keyCredential: { type: 'AsymmetricX509Cert', usage: 'Verify', key: 'bm90IGEgY2VydA==' } }, status: 400, code: 'Request_BadRequest' },
      { name: 'disabling the last Global Administrator', method: 'PATCH', path: '/users/admin', body: { accountEnabled: false }, status: 400, code: 'Request_BadRequest' },
    ];
  }

  it('answers each with Graph\'s error, changes nothing, and stays healthy', async () => {
    const table = rows();
    assert.ok(table.length >= 15);
    const before = await snapshot();
    const logFrom = server.stdout().length;
    const failures: string[] = [];
    for (const row of table) {
      let res;
      try {
        res = await call(row);
      } catch (err) {
        failures.push(`${row.name}: request failed: ${(err as Error).message}`);
        continue;
      }
      const problems: string[] = [];
      if (res.status !== row.status) problems.push(`status ${res.status}, expected ${row.status}`);
      if (row.code === undefined) {
        if (!Array.isArray(res.body.value) || res.body.value.length !== 0) problems.push('expected an empty collection');
      } else {
        const error = res.body.error as Json | undefined;
        if (error?.code !== row.code) problems.push(`code ${error?.code}, expected ${row.code}`);
        if (typeof row.message === 'string' && error?.message !== row.message) problems.push(`message ${JSON.stringify(error?.message)}`);
        if (row.message instanceof RegExp && !row.message.test(String(error?.message))) problems.push(`message ${JSON.stringify(error?.message)}`);
        if (typeof error?.innerError?.['request-id'] !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/.test(String(error?.innerError?.date))) {
          problems.push('no Graph innerError');
        }
        if (!res.headers.get('content-type')?.startsWith('application/json')) problems.push(`content-type ${res.headers.get('content-type')}`);
        if (row.status === 401 && !res.headers.get('www-authenticate')?.startsWith('Bearer realm=""')) problems.push('no Bearer challenge');
      }
      if (problems.length > 0) failures.push(`${row.name}: ${problems.join('; ')} — ${res.text.slice(0, 300)}`);
    }
    assert.deepEqual(failures, []);

    const ready = await fetch(`${t.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal(server.child.exitCode, null, 'the server is still running');
    const serverErrors = server.stdout().slice(logFrom).split('\n').filter((l) => /"level":(50|60)/.test(l));
    assert.deepEqual(serverErrors, [], 'no request made the server fail');
    assert.deepEqual(await snapshot(), before, 'no refused request changed the directory');
  });

  // A userPrincipalName may have 113 characters: the server's router takes path parameters up
  // to 1024 (Fastify's default stops at 100, before any route sees the request).
  it('addresses a user by a 110-character userPrincipalName, and refuses a 300-character id in Graph\'s shape', async () => {
    const upn = `${'u'.repeat(64)}@${'d'.repeat(40)}.org`;
    const long = await call({ path: `/users/${upn}` });
    assert.equal(long.status, 404, long.text);
    assert.equal(long.body.error?.code, 'Request_ResourceNotFound');
    const absurd = await call({ path: `/groups/${'a'.repeat(300)}` });
    assert.equal(absurd.status, 400, absurd.text);
    assert.equal(absurd.body.error?.code, 'Request_BadRequest');
  });
});
