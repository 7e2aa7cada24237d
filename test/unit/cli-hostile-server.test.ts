// What the CLI does when a server answers in a way Keyhaven never does: the defence under test
// is the client's, so the server here is a stand-in that is hostile on purpose (the client
// commands against the real server are test/blackbox/cli-client.test.ts). It answers
// discovery and the password grant as the token service would, then a user list whose
// @odata.nextLink points at another origin: following it would hand the bearer token away.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureTls } from '../../src/crypto/tls-ca.js';
import { main } from '../../src/cli/main.js';

const TENANT = '11111111-2222-4333-8444-555555555555';

describe('a hostile server', () => {
  let dir: string;
  let server: Server;
  let url: string;
  let caFile: string;
  const paths: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kh-cli-hostile-'));
    const tls = await ensureTls({ tlsDir: join(dir, 'tls'), extraNames: [], hostname: 'localhost', vaultDnsSuffix: 'vault.localhost' });
    caFile = tls.caFile;
    server = createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
      req.resume();
      req.on('end', () => {
        const path = new URL(req.url!, 'https://x').pathname;
        paths.push(`${req.method} ${path}`);
        const base = `https://localhost:${(server.address() as { port: number }).port}`;
        let body: unknown = { error: { code: 'Request_ResourceNotFound', message: 'not here' } };
        let status = 404;
        if (path.endsWith('/.well-known/openid-configuration')) {
          [status, body] = [200, { issuer: `${base}/${TENANT}/v2.0`, token_endpoint: `${base}/${TENANT}/oauth2/v2.0/token` }];
        } else if (path.endsWith('/oauth2/v2.0/token')) {
          [status, body] = [200, { token_type: 'Bearer', expires_in: 3600, access_token: 'header.payload.signature' }];
        } else if (path === '/graph/v1.0/users') {
          [status, body] = [200, { value: [], '@odata.nextLink': 'https://evil.example/graph/v1.0/users?$skiptoken=x' }];
        }
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('never follows a nextLink to another origin', async () => {
    let stderr = '';
    const io = { stdout: () => undefined, stderr: (text: string) => void (stderr += text), env: { KEYHAVEN_CONFIG_DIR: join(dir, 'config') } };
    assert.equal(await main(['node', 'keyhaven', 'login', '--server', url, '--ca-file', caFile, '-u', 'admin', '-p', 'whatever it is'], io), 0, stderr);
    stderr = '';
    const code = await main(['node', 'keyhaven', 'ad', 'user', 'list'], io);
    assert.equal(code, 1);
    assert.match(stderr, /^ERROR: refusing to follow @odata\.nextLink outside [^\n]+\n$/);
    assert.equal(paths.filter((p) => p.startsWith('GET /graph/')).length, 1);
  });
});
