// argon2id by default, and the upgrade of existing hashes (issue 8, item 9): users made on a
// server configured for scrypt get scrypt hashes; the same database served with argon2id
// upgrades each hash at that user's next successful sign-in — an LDAP simple bind
// (ldapwhoami) for one, the OAuth password grant for the other — and not at a failed one; a
// later change of the argon2id parameters upgrades them again. Hashes are read the way an
// admin would, with `keyhaven directory export-ldif --include-password-hashes`.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ldapTool as tool } from '../helpers/ldap-tools.js';
import { groupAttributes, parseLdif } from '../../src/directory/ldif/ldif-parser.js';
import { blackboxStorage, runCli, startServerProcess, tempHome, type ServerProcess } from '../helpers/server-process.js';
import { graph, postForm, tenantOf, userToken, AZURE_CLI_CLIENT_ID } from '../helpers/tenant-fixtures.js';

const BASE = 'dc=keyhaven,dc=local';
const userDn = (name: string) => `uid=${name},ou=people,${BASE}`;
const ADA = 'Quartz-upgrade-Passw0rd-1';
const BOB = 'Maple-upgrade-Passw0rd-2';

describe('password hashes: argon2id by default, scrypt upgraded at the next sign-in', () => {
  let home: { home: string; remove(): void };
  let storage: { url: string; drop(): Promise<void> };
  let server: ServerProcess | undefined;
  const store = () => ['--home', home.home, '--storage', storage.url];
  const start = async (...args: string[]) => {
    await server?.stop();
    server = await startServerProcess({ home: home.home, storage: storage.url, args });
    return server;
  };
  const hashes = async (): Promise<Map<string, string | undefined>> => {
    const out = join(home.home, `hashes-${randomBytes(4).toString('hex')}.ldif`);
    const r = await runCli(['directory', 'export-ldif', ...store(), '--include-password-hashes', '--output-file', out]);
    assert.equal(r.code, 0, r.stderr);
    return new Map(parseLdif(readFileSync(out)).map((e) => [e.dn.toLowerCase(), groupAttributes(e).get('userpassword')?.[0]?.value.toString()]));
  };
  const hashOf = async (name: string) => (await hashes()).get(userDn(name).toLowerCase()) ?? '';
  const grant = async (s: ServerProcess, username: string, password: string) => {
    const t = await tenantOf(s);
    return postForm(t.tokenUrl, { grant_type: 'password', client_id: AZURE_CLI_CLIENT_ID, username, password, scope: `${t.url}/graph//.default` });
  };
  const whoami = (s: ServerProcess, name: string, password: string) =>
    tool('ldapwhoami', ['-x', '-H', `ldaps://localhost:${s.ldapsPort}`, '-D', userDn(name), '-w', password]);

  before(async () => {
    home = tempHome();
    storage = await blackboxStorage(home.home);
    const s = await start('--password-hash-algorithm', 'scrypt');
    const t = await tenantOf(s);
    const admin = await userToken(t, 'admin', t.adminPassword);
    for (const [name, password] of [['ada', ADA], ['bob', BOB]] as const) {
      const res = await graph(t, admin, 'POST', '/users', {
        accountEnabled: true, displayName: name, mailNickname: name, userPrincipalName: `${name}@keyhaven.local`,
        passwordProfile: { password, forceChangePasswordNextSignIn: false },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
    }
  });
  after(async () => {
    await server?.stop();
    await storage?.drop();
    home?.remove();
  });

  it('a server configured for scrypt makes scrypt hashes', async () => {
    assert.match(await hashOf('ada'), /^\{SCRYPT\}\$scrypt\$ln=10,r=8,p=1\$/);
    assert.match(await hashOf('bob'), /^\{SCRYPT\}\$scrypt\$ln=10,r=8,p=1\$/);
  });

  it('served with argon2id: a failed sign-in changes nothing; an LDAP bind and a password grant upgrade the hash', async () => {
    const s = await start(); // argon2id, the default (the helper's cheap m=1024, t=1)
    const adaBefore = await hashOf('ada');
    assert.equal((await whoami(s, 'ada', 'Not-the-Passw0rd')).code, 49);
    assert.equal((await grant(s, 'bob', 'Not-the-Passw0rd')).status, 400);
    assert.equal(await hashOf('ada'), adaBefore, 'a failed bind does not rehash');
    assert.match(await hashOf('bob'), /^\{SCRYPT\}\$scrypt\$/, 'a failed grant does not rehash');

    const bound = await whoami(s, 'ada', ADA);
    assert.equal(bound.code, 0, bound.stderr);
    assert.match(await hashOf('ada'), /^\{ARGON2\}\$argon2id\$v=19\$m=1024,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    assert.match(await hashOf('bob'), /^\{SCRYPT\}\$scrypt\$/, 'bob has not signed in yet');
    const granted = await grant(s, 'bob', BOB);
    assert.equal(granted.status, 200, JSON.stringify(granted.body));
    assert.match(await hashOf('bob'), /^\{ARGON2\}\$argon2id\$v=19\$m=1024,t=1,p=1\$/);

    // The upgraded hashes verify, and a sign-in under unchanged parameters leaves them be.
    const adaNow = await hashOf('ada');
    assert.equal((await whoami(s, 'ada', ADA)).code, 0);
    assert.equal((await grant(s, 'ada', ADA)).status, 200);
    assert.equal(await hashOf('ada'), adaNow);
  });

  it('a change of the argon2id parameters upgrades a hash at the next sign-in', async () => {
    const s = await start('--password-argon2-memory-kib', '2048', '--password-argon2-time-cost', '2');
    assert.match(await hashOf('ada'), /m=1024,t=1,p=1/);
    assert.equal((await whoami(s, 'ada', ADA)).code, 0);
    assert.match(await hashOf('ada'), /^\{ARGON2\}\$argon2id\$v=19\$m=2048,t=2,p=1\$/);
    assert.equal((await grant(s, 'bob', BOB)).status, 200);
    assert.match(await hashOf('bob'), /^\{ARGON2\}\$argon2id\$v=19\$m=2048,t=2,p=1\$/);
  });
});
