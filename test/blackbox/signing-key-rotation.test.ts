// Signing-key rotation across replicas: two `keyhaven serve` processes on one PostgreSQL
// database (always PostgreSQL: replicas need a shared database) publish the same JWKS at every
// key route before and after `keyhaven admin rotate-signing-key`; a new key is published before
// it signs; `--now` switches both at once (and a SQLite server follows within its refresh interval); tokens signed before a rotation keep verifying (jose,
// against the JWKS fetched over HTTPS) until `--revoke-previous` takes their key away.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { runCli, startServerProcess, tempHome, type ServerProcess } from '../helpers/server-process.js';
import { createServicePrincipal, postForm, tenantOf, userToken, type ServicePrincipalFixture, type Tenant } from '../helpers/tenant-fixtures.js';

interface Jwks {
  keys: { kid: string; kty: string; n: string; e: string }[];
}

describe('signing-key rotation with two replicas on PostgreSQL', () => {
  const homes = [tempHome(), tempHome()];
  let db: TestDatabase;
  const servers: ServerProcess[] = [];
  let t: Tenant;
  let sp: ServicePrincipalFixture;

  before(async () => {
    db = await createTestDatabase();
    servers.push(await startServerProcess({ home: homes[0]!.home, storage: db.url }));
    // The second replica: its own home (TLS files), the first one's master key.
    servers.push(await startServerProcess({ home: homes[1]!.home, storage: db.url, args: ['--master-key-file', join(homes[0]!.home, 'master.key')] }));
    t = await tenantOf(servers[0]!);
    sp = await createServicePrincipal(t, await userToken(t, 'admin', t.adminPassword), 'rotation-test-app');
  });
  after(async () => {
    for (const s of servers) await s.stop();
    await db?.drop();
    for (const h of homes) h.remove();
  });

  const keyRoutes = (s: ServerProcess) => [`${s.url}/${t.tenantId}/discovery/v2.0/keys`, `${s.url}/${t.tenantId}/discovery/keys`, `${s.url}/adfs/discovery/keys`];

  /** Every key route of every replica; asserts they all publish the same set and returns it. */
  async function publishedEverywhere(): Promise<Jwks> {
    const sets: string[] = [];
    for (const s of servers) {
      for (const url of keyRoutes(s)) {
        const res = await fetch(url);
        assert.equal(res.status, 200, url);
        sets.push(JSON.stringify(await res.json()));
      }
    }
    assert.equal(new Set(sets).size, 1, `replicas publish different JWKS:\n${sets.join('\n')}`);
    return JSON.parse(sets[0]!) as Jwks;
  }

  /** Waits (bounded) until every replica publishes the same JWKS satisfying `ok`. */
  async function settle(ok: (jwks: Jwks) => boolean): Promise<Jwks> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        const jwks = await publishedEverywhere();
        if (ok(jwks)) return jwks;
      } catch (err) {
        if (Date.now() > deadline) throw err;
      }
      assert.ok(Date.now() < deadline, 'the replicas did not agree on the new keys in time');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function tokenFrom(s: ServerProcess): Promise<string> {
    const { status, body } = await postForm(`${s.url}/${t.tenantId}/oauth2/v2.0/token`, {
      grant_type: 'client_credentials',
      client_id: sp.appId,
      client_secret: sp.secret,
      scope: `${s.url}//.default`,
    });
    assert.equal(status, 200, JSON.stringify(body));
    return body.access_token as string;
  }

  /** What a relying party does: fetch the JWKS over HTTPS (a fresh fetch each time) and verify. */
  async function verifiesAt(s: ServerProcess, token: string): Promise<boolean> {
    try {
      await jwtVerify(token, createRemoteJWKSet(new URL(keyRoutes(s)[0]!)), { algorithms: ['RS256'] });
      return true;
    } catch {
      return false;
    }
  }

  const rotate = (...flags: string[]) => runCli(['admin', 'rotate-signing-key', '--home', homes[0]!.home, '--storage', db.url, ...flags]);
  const kid = (token: string) => decodeProtectedHeader(token).kid;

  it('publishes one JWKS, pre-publishes a rotated key on both, switches both with --now, and revokes on request', async () => {
    const initial = await publishedEverywhere();
    assert.equal(initial.keys.length, 1);
    const first = initial.keys[0]!.kid;
    const before = [await tokenFrom(servers[0]!), await tokenFrom(servers[1]!)];
    assert.deepEqual(before.map(kid), [first, first]);

    // Published now, signing after signingKeyPrepublishHours (48 h by default).
    const rotated = await rotate();
    assert.equal(rotated.code, 0, rotated.stderr);
    const listed = JSON.parse(rotated.stdout) as { kid: string; state: string }[];
    const pending = listed.find((k) => k.state === 'pending')!;
    assert.ok(pending, rotated.stdout);
    const both = await settle((j) => j.keys.length === 2);
    assert.deepEqual(both.keys.map((k) => k.kid), [first, pending.kid], 'the signing key first, then the pre-published one');
    for (const s of servers) assert.equal(kid(await tokenFrom(s)), first, 'a pre-published key does not sign yet');

    const again = await rotate();
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /already published/);

    // Emergency rotation: a fresh key signs at once everywhere; the old one stays published.
    const now = await rotate('--now');
    assert.equal(now.code, 0, now.stderr);
    const active = (JSON.parse(now.stdout) as { kid: string; state: string }[]).find((k) => k.state === 'active')!;
    const switched = await settle((j) => j.keys[0]?.kid === active.kid);
    assert.deepEqual(switched.keys.map((k) => k.kid), [active.kid, first], 'the unused pending key is gone, the retired one stays');
    const after = [await tokenFrom(servers[0]!), await tokenFrom(servers[1]!)];
    assert.deepEqual(after.map(kid), [active.kid, active.kid]);
    for (const s of servers) {
      for (const token of [...before, ...after]) assert.ok(await verifiesAt(s, token), 'tokens of the retired and the new key verify');
    }

    const revoked = await rotate('--now', '--revoke-previous');
    assert.equal(revoked.code, 0, revoked.stderr);
    const last = await settle((j) => j.keys.length === 1 && j.keys[0]!.kid !== active.kid);
    for (const s of servers) {
      for (const token of [...before, ...after]) assert.equal(await verifiesAt(s, token), false, 'a revoked key verifies nothing');
      const fresh = await tokenFrom(s);
      assert.equal(kid(fresh), last.keys[0]!.kid);
      assert.ok(await verifiesAt(s, fresh));
    }
  });

  it('every transition is one audit record, naming key ids only', async () => {
    const res = await runCli(['audit', 'list', '--action', 'signingkey.rotate', '--home', homes[0]!.home, '--storage', db.url]);
    assert.equal(res.code, 0, res.stderr);
    const records = JSON.parse(res.stdout) as { actor: string; details: Record<string, string> }[];
    // bootstrap (one replica made it), rotate, rotate-now, rotate-now with revocation.
    assert.deepEqual(records.map((r) => r.details.reason).sort(), ['bootstrap', 'rotate', 'rotate-now', 'rotate-now'].sort());
    for (const r of records) assert.equal(r.actor, 'system');
  });

  it('--revoke-previous without --now is a usage error', async () => {
    const res = await rotate('--revoke-previous');
    assert.equal(res.code, 2, res.stderr);
  });
});

describe('signing-key rotation on SQLite: a running server follows an admin rotation', () => {
  const { home, remove } = tempHome();
  let server: ServerProcess;
  before(async () => {
    // SQLite has no NOTIFY: the server re-reads the keys every signingKeyRefreshSeconds (1 s here).
    server = await startServerProcess({ home, args: ['--signing-key-refresh-seconds', '1'] });
  });
  after(async () => {
    await server?.stop();
    remove();
  });

  it('rotate-signing-key --now: the server publishes and signs with the new key within the refresh interval', async () => {
    const t = await tenantOf(server);
    const keysUrl = `${server.url}/${t.tenantId}/discovery/v2.0/keys`;
    const before = ((await (await fetch(keysUrl)).json()) as Jwks).keys.map((k) => k.kid);
    assert.equal(before.length, 1);
    const res = await runCli(['admin', 'rotate-signing-key', '--now', '--home', home, '--storage', server.storage]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /within signingKeyRefreshSeconds/);
    const active = (JSON.parse(res.stdout) as { kid: string; state: string }[]).find((k) => k.state === 'active')!;
    const deadline = Date.now() + 15_000;
    for (;;) {
      const jwks = (await (await fetch(keysUrl)).json()) as Jwks;
      if (jwks.keys[0]?.kid === active.kid) {
        assert.deepEqual(jwks.keys.map((k) => k.kid), [active.kid, before[0]]);
        break;
      }
      assert.ok(Date.now() < deadline, 'the server did not pick up the rotation');
      await new Promise((r) => setTimeout(r, 100));
    }
    const token = await userToken(t, 'admin', t.adminPassword);
    assert.equal(decodeProtectedHeader(token).kid, active.kid);
    await jwtVerify(token, createRemoteJWKSet(new URL(keysUrl)), { algorithms: ['RS256'] });
  });
});
