// The CLI's HTTPS plumbing on its own: request deadlines and refusals, error answers mapped to
// exit codes, OData quoting, and az's time format.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureTls } from '../../src/crypto/tls-ca.js';
import { ServerError, errorFromResponse, firstSentence } from '../../src/cli/api-errors.js';
import { localTime } from '../../src/cli/commands/account.js';
import { exitCodeFor } from '../../src/cli/exit-codes.js';
import { filterQuery, isGuid, odataString } from '../../src/cli/graph.js';
import { TransportError, httpsRequest } from '../../src/cli/https-request.js';
import { ForbiddenError, InvalidInputError, NotFoundError, ThrottledError, UnauthenticatedError } from '../../src/errors.js';

describe('httpsRequest', () => {
  let server: Server;
  let url: string;
  let caFile: string;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kh-cli-http-'));
    const tls = await ensureTls({ tlsDir: dir, extraNames: [], hostname: 'localhost', vaultDnsSuffix: 'vault.localhost' });
    caFile = tls.caFile;
    server = createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
      if (req.url === '/hang') return; // never answers
      if (req.url === '/big') {
        res.writeHead(200);
        const chunk = Buffer.alloc(1024 * 1024, 'x');
        for (let i = 0; i < 40; i++) res.write(chunk);
        res.end();
        return;
      }
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ method: req.method, body, length: req.headers['content-length'] }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends a body and reads the answer, trusting the named CA', async () => {
    const res = await httpsRequest({ method: 'POST', url: `${url}/echo`, body: 'héllo', timeoutMs: 5000, caFile });
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.text), { method: 'POST', body: 'héllo', length: '6' });
  });

  it('gives up at the deadline with one line', async () => {
    const started = Date.now();
    await assert.rejects(httpsRequest({ method: 'GET', url: `${url}/hang`, timeoutMs: 300, caFile }), (err: unknown) => {
      assert.ok(err instanceof TransportError);
      assert.match(err.message, /^no answer from https:\/\/127\.0\.0\.1:\d+ within 0 s$/);
      return true;
    });
    assert.ok(Date.now() - started < 3000);
  });

  it('refuses an oversized answer, plain HTTP, an untrusted certificate and a missing CA file', async () => {
    await assert.rejects(httpsRequest({ method: 'GET', url: `${url}/big`, timeoutMs: 10_000, caFile }), /larger than/);
    await assert.rejects(httpsRequest({ method: 'GET', url: 'http://127.0.0.1:1/', timeoutMs: 1000 }), /non-HTTPS/);
    await assert.rejects(httpsRequest({ method: 'GET', url: `${url}/echo`, timeoutMs: 5000 }), /not trusted/);
    await assert.rejects(httpsRequest({ method: 'GET', url: `${url}/echo`, timeoutMs: 5000, caFile: join(dir, 'none.pem') }), /cannot read the CA file/);
  });

  it('names an unreachable server', async () => {
    await assert.rejects(httpsRequest({ method: 'GET', url: 'https://127.0.0.1:1/', timeoutMs: 5000 }), /cannot reach https:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\)/);
  });
});

describe('error answers', () => {
  const answer = (status: number, body: unknown, headers = {}) => ({ status, headers, text: typeof body === 'string' ? body : JSON.stringify(body) });
  const graphError = (code: string, message: string) => ({ error: { code, message } });

  it('maps statuses to error classes and az exit codes', () => {
    const cases: [number, new (...a: never[]) => Error, number][] = [
      [400, InvalidInputError, 1],
      [401, UnauthenticatedError, 1],
      [403, ForbiddenError, 1],
      [404, NotFoundError, 3],
      [429, ThrottledError, 1],
      [500, ServerError, 1],
    ];
    for (const [status, cls, exit] of cases) {
      const err = errorFromResponse(answer(status, graphError('Code', 'The message.')), 'https://h');
      assert.ok(err instanceof cls, `${status}`);
      assert.equal(exitCodeFor(err), exit);
    }
    assert.equal(errorFromResponse(answer(404, graphError('Request_ResourceNotFound', 'Gone.')), 'https://h').message, 'Gone.');
    assert.equal(errorFromResponse(answer(500, graphError('KH_INTERNAL', 'internal error (request r1)')), 'https://h').message, 'internal error (request r1) (HTTP 500)');
  });

  it('never echoes a body that is not an API error', () => {
    const err = errorFromResponse(answer(502, '<html>Bad gateway secret-ish</html>'), 'https://h:1');
    assert.equal(err.message, 'https://h:1 answered HTTP 502');
  });

  it('reads Entra errors: the AADSTS code and first sentence; credential failures are Unauthenticated', () => {
    const err = errorFromResponse(
      answer(401, {
        error: 'invalid_client',
        error_description: 'AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value. Trace ID: t Correlation ID: c Timestamp: 2026-01-01 00:00:00Z',
      }),
      'https://h',
    );
    assert.ok(err instanceof UnauthenticatedError);
    assert.equal(err.message, 'AADSTS7000215: Invalid client secret provided.');
    assert.equal(firstSentence("AADSTS70003: the grant type 'a.b' is not supported Trace ID: x"), "AADSTS70003: the grant type 'a.b' is not supported");
    const throttled = errorFromResponse(answer(429, { error: { code: 'TooMany', message: 'Slow down.' } }, { 'retry-after': '7' }), 'https://h');
    assert.equal((throttled as ThrottledError).retryAfterSeconds, 7);
  });
});

describe('OData and formats', () => {
  it('quotes string literals so that a value cannot change the filter', () => {
    assert.equal(odataString("O'Brien"), "'O''Brien'");
    assert.equal(odataString("x' or 1 eq 1 or 'a"), "'x'' or 1 eq 1 or ''a'");
    assert.equal(filterQuery([undefined, '']), '');
    assert.equal(filterQuery(["a eq 'b&c'", 'd eq 1']), `?$filter=${encodeURIComponent("a eq 'b&c' and d eq 1")}`);
    assert.ok(isGuid('04B07795-8ddb-461a-bbee-02f9e1bf7b46'));
    assert.ok(!isGuid('04b07795-8ddb-461a-bbee-02f9e1bf7b4'));
  });

  it('prints expiresOn as az: local time with microseconds', () => {
    const t = 1767225600; // 2026-01-01T00:00:00Z
    const d = new Date(t * 1000);
    const s = localTime(t);
    assert.match(s, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.000000$/);
    assert.equal(Number(s.slice(11, 13)), d.getHours());
    assert.equal(Number(s.slice(8, 10)), d.getDate());
  });
});
