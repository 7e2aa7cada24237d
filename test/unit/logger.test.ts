import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { SecretValue } from '../../src/crypto/secret-value.js';
import { SENSITIVE_KEYS, createLogger, isSensitiveKey, redactUrl, requestSerializer } from '../../src/log/logger.js';

/** A logger writing into an array of parsed lines, plus the raw text. */
function capture(level = 'trace') {
  const chunks: string[] = [];
  const logger = createLogger({ level, name: 'test', destination: { write: (s: string) => { chunks.push(s); } } });
  return {
    logger,
    text: () => chunks.join(''),
    lines: () => chunks.join('').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

function assertAbsent(text: string, secrets: string[]) {
  for (const s of secrets) assert.ok(!text.includes(s), `secret ${JSON.stringify(s)} leaked into: ${text}`);
}

function nest(depth: number, leaf: Record<string, unknown>): Record<string, unknown> {
  let obj = leaf;
  for (let i = depth; i > 0; i--) obj = { [`level${i}`]: obj, [`sibling${i}`]: `visible-${i}` };
  return obj;
}

const PEM = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const PEM_BODY = PEM.split('\n')[1]!;
const RSA_PEM = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs1' }).toString();

test('every sensitive key is redacted at depths 0..6, other fields stay', () => {
  const { logger, text, lines } = capture();
  const secrets: string[] = [];
  for (const key of SENSITIVE_KEYS) {
    for (const depth of [0, 1, 2, 3, 4, 6]) {
      const secret = `S3CR3T-${key}-${depth}`;
      secrets.push(secret);
      logger.info(nest(depth, { [key]: secret, harmless: `kept-${key}-${depth}` }), 'depth test');
    }
  }
  assertAbsent(text(), secrets);
  const out = text();
  for (const key of SENSITIVE_KEYS) assert.ok(out.includes(`kept-${key}-4`));
  assert.ok(out.includes('visible-3'));
  assert.equal(lines().length, SENSITIVE_KEYS.length * 6);
  assert.ok(out.includes('"[REDACTED]"'));
});

test('sensitive keys match regardless of case and - or _, and by suffix', () => {
  const { logger, text } = capture();
  const obj = {
    Authorization: 'sec-1', CLIENT_SECRET: 'sec-2', 'client-secret': 'sec-3', ClientSecret: 'sec-4',
    adminPassword: 'sec-5', joinToken: 'sec-6', x: { SET_COOKIE: 'sec-7', 'Proxy-Authorization': 'sec-8' },
    list: [{ refreshToken: 'sec-9' }, { nested: [{ Private_Key: 'sec-10' }] }],
    passwordScryptLogN: 17, tokenEndpoint: 'https://idp/token', secretName: 'db-password-name',
  };
  logger.info(obj);
  assertAbsent(text(), ['sec-1', 'sec-2', 'sec-3', 'sec-4', 'sec-5', 'sec-6', 'sec-7', 'sec-8', 'sec-9', 'sec-10']);
  assert.ok(text().includes('"passwordScryptLogN":17'));
  assert.ok(text().includes('https://idp/token'));
  assert.ok(text().includes('db-password-name'));
  assert.equal(isSensitiveKey('code'), false, 'an error code is not a secret');
  assert.equal(isSensitiveKey('user_password'), true);
});

test('a headers object: Authorization and Cookie go, safe headers stay', () => {
  const { logger, text } = capture();
  logger.info({
    headers: {
      Authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl',
      Cookie: 'kh_session=cookie-secret-123',
      'set-cookie': ['kh_session=set-cookie-secret; HttpOnly'],
      'proxy-authorization': 'Basic cHJveHk6c2VjcmV0',
      'user-agent': 'azure-cli/2.60',
      'content-type': 'application/json',
    },
  }, 'incoming');
  assertAbsent(text(), ['eyJhbGciOiJIUzI1NiJ9', 'cookie-secret-123', 'set-cookie-secret', 'cHJveHk6c2VjcmV0']);
  assert.ok(text().includes('azure-cli/2.60'));
  assert.ok(text().includes('application/json'));
});

test('redactUrl replaces sensitive query and fragment parameters', () => {
  assert.equal(
    redactUrl('https://kh.example/oauth2/token?client_secret=x&password=y&grant_type=client_credentials'),
    'https://kh.example/oauth2/token?client_secret=[REDACTED]&password=[REDACTED]&grant_type=client_credentials',
  );
  assert.equal(redactUrl('/cb?code=abc&state=s1'), '/cb?code=[REDACTED]&state=s1');
  assert.equal(redactUrl('/cb#access_token=tok&token_type=Bearer'), '/cb#access_token=[REDACTED]&token_type=Bearer');
  assert.equal(redactUrl('/x?Client_Secret=a&client%5Fsecret=b'), '/x?Client_Secret=[REDACTED]&client%5Fsecret=[REDACTED]');
  assert.equal(redactUrl('/x?sig=abc&sv=2024'), '/x?sig=[REDACTED]&sv=2024');
  assert.equal(redactUrl('postgres://keyhaven:pg-pass@db:5432/kh'), 'postgres://keyhaven:[REDACTED]@db:5432/kh');
  assert.equal(redactUrl('/secrets/db-password?api-version=7.4'), '/secrets/db-password?api-version=7.4');
  assert.equal(redactUrl('/plain/path'), '/plain/path');
});

test('URLs with secrets are redacted in fields and in the message', () => {
  const { logger, text } = capture();
  const url = '/oauth2/token?client_secret=x-secret-1&password=y-secret-2&grant_type=password';
  logger.info({ url, nested: { location: `https://kh.example${url}` } }, `request to ${url}`);
  logger.info('form body: client_id=app&client_secret=x-secret-3');
  logger.info('upstream said {"access_token":"x-secret-4","token_type":"Bearer"}');
  logger.info('failed with code=ECONNREFUSED');
  assertAbsent(text(), ['x-secret-1', 'y-secret-2', 'x-secret-3', 'x-secret-4']);
  assert.ok(text().includes('grant_type=password'));
  assert.ok(text().includes('client_id=app'));
  assert.ok(text().includes('token_type'));
  assert.ok(text().includes('code=ECONNREFUSED'));
});

test('an Error is logged with its message, type and stack', () => {
  const { logger, lines } = capture();
  const err = new Error('storage unavailable: connection refused');
  logger.error(err);
  logger.warn({ err }, 'retrying');
  const [first, second] = lines();
  for (const line of [first!, second!]) {
    const e = line.err as Record<string, unknown>;
    assert.equal(e.type, 'Error');
    assert.equal(e.message, 'storage unavailable: connection refused');
    assert.match(String(e.stack), /^Error: storage unavailable: connection refused\n\s+at /);
  }
  assert.equal(first!.msg, 'storage unavailable: connection refused');
  assert.equal(second!.msg, 'retrying');
});

test('secrets hanging off an Error, or in its cause, are redacted', () => {
  const { logger, text } = capture();
  const err = Object.assign(new Error('upstream 401', { cause: new Error(`bad key ${PEM}`) }), {
    request: { headers: { authorization: 'Bearer err-secret-1' } },
    code: 'KH_UPSTREAM',
  });
  logger.error(err);
  logger.error({ failure: err, context: { password: 'err-secret-2' } }, 'nested error');
  assertAbsent(text(), ['err-secret-1', 'err-secret-2', PEM_BODY]);
  assert.ok(text().includes('KH_UPSTREAM'));
  assert.ok(text().includes('upstream 401'));
});

test('a PEM private key is redacted in any field and in the message; public material stays', () => {
  const { logger, text } = capture();
  logger.info({ message: `loaded ${PEM}` });
  logger.info({ deep: { a: [{ b: RSA_PEM }] } });
  logger.info(`key was ${PEM}`);
  logger.error(new Error(`cannot parse ${RSA_PEM}`));
  logger.info({ truncated: PEM.slice(0, 120) });
  logger.info({ escaped: JSON.stringify(PEM) });
  const publicPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'pem', type: 'spki' }).toString();
  logger.info({ publicPem });
  const out = text();
  for (const pem of [PEM, RSA_PEM]) {
    for (const line of pem.split('\n').slice(1, -2)) assert.ok(!out.includes(line), `PEM line leaked: ${line}`);
  }
  assert.ok(out.includes('[REDACTED PRIVATE KEY]'));
  assert.ok(out.includes('loaded [REDACTED PRIVATE KEY]'));
  assert.ok(out.includes(publicPem.split('\n')[1]!), 'public keys are not secret');
});

test('JWK private members are redacted, public ones kept', () => {
  const { logger, text } = capture();
  const jwk = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'jwk' });
  logger.info({ bundle: { kid: 'k1', jwk }, oct: { kty: 'oct', k: 'oct-secret-key' } });
  assertAbsent(text(), [jwk.d!, jwk.p!, jwk.q!, jwk.dp!, jwk.dq!, jwk.qi!, 'oct-secret-key']);
  assert.ok(text().includes(jwk.n!));
  assert.ok(text().includes('"kid":"k1"'));
});

test('JWTs and Bearer credentials inside free text are redacted', () => {
  const { logger, text } = capture();
  const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnLXNlY3JldA';
  logger.info(`token was ${jwt}`);
  logger.info({ note: 'sent Authorization: Bearer opaque-token-123' });
  assertAbsent(text(), [jwt, 'c2lnLXNlY3JldA', 'opaque-token-123']);
});

test('SecretValue, child bindings and setBindings never leak', () => {
  const { logger, text } = capture();
  logger.info({ secret: new SecretValue('sv-secret-1'), wrapped: new SecretValue('sv-secret-2') });
  const child = logger.child({ joinToken: 'child-secret-1', tenant: 't1' });
  child.info('from child');
  const grandchild = child.child({ nested: { password: 'child-secret-2' } });
  grandchild.info({ password: 'child-secret-3' }, 'from grandchild');
  grandchild.setBindings({ refresh_token: 'child-secret-4' });
  grandchild.info('after setBindings');
  assertAbsent(text(), ['sv-secret-1', 'sv-secret-2', 'child-secret-1', 'child-secret-2', 'child-secret-3', 'child-secret-4']);
  assert.ok(text().includes('"tenant":"t1"'));
  assert.ok(text().includes('from grandchild'));
});

test('the caller\'s object is not mutated; circular and very deep objects are safe', () => {
  const { logger, text } = capture();
  const obj = { password: 'mut-secret', keep: 1, inner: { token: 'mut-secret-2' } };
  logger.info(obj);
  assert.deepEqual(obj, { password: 'mut-secret', keep: 1, inner: { token: 'mut-secret-2' } });
  const circular: Record<string, unknown> = { name: 'loop' };
  circular.self = circular;
  logger.info({ circular });
  assert.ok(text().includes('[Circular]'));
  logger.info(nest(20, { password: 'deep-secret' }));
  assertAbsent(text(), ['mut-secret', 'deep-secret']);
  assert.ok(text().includes('[Truncated]'));
  // A shared (non-circular) reference is logged in full both times.
  const shared = { id: 'shared-1' };
  logger.info({ a: shared, b: shared });
  assert.equal(text().split('shared-1').length, 3);
});

test('level and name options are honoured', () => {
  const { logger, lines } = capture('warn');
  logger.info('hidden');
  logger.warn('shown');
  const all = lines();
  assert.equal(all.length, 1);
  assert.equal(all[0]!.msg, 'shown');
  assert.equal(all[0]!.name, 'test');
  assert.equal(createLogger({ destination: { write() {} } }).level, 'info');
});

test('a Node Writable stream works as destination', async () => {
  const chunks: string[] = [];
  const stream = new Writable({ write(chunk, _enc, cb) { chunks.push(String(chunk)); cb(); } });
  const logger = createLogger({ destination: stream });
  logger.info({ password: 'stream-secret' }, 'via stream');
  await new Promise((r) => setImmediate(r));
  assert.ok(chunks.join('').includes('via stream'));
  assertAbsent(chunks.join(''), ['stream-secret']);
});

test('requestSerializer keeps only method, redacted url, remote address, id and safe headers', () => {
  const req = {
    id: 'req-1', method: 'POST', url: '/oauth2/token?client_secret=rs-secret-1', ip: '10.0.0.7',
    socket: { remoteAddress: '10.9.9.9' },
    headers: {
      authorization: 'Basic rs-secret-2', cookie: 'a=rs-secret-3', 'user-agent': 'python-requests/2.31',
      'content-type': 'application/x-www-form-urlencoded', 'content-length': '42', 'x-ms-client-request-id': 'c-1',
      'client-request-id': 'c-2', 'x-identity-header': 'rs-secret-4', host: 'kh.example',
    },
    body: { client_secret: 'rs-secret-5' },
  };
  const out = requestSerializer(req);
  assert.deepEqual(out, {
    method: 'POST', url: '/oauth2/token?client_secret=[REDACTED]', remoteAddress: '10.0.0.7', id: 'req-1',
    headers: {
      'user-agent': 'python-requests/2.31', 'content-type': 'application/x-www-form-urlencoded', 'content-length': '42',
      'x-ms-client-request-id': 'c-1', 'client-request-id': 'c-2',
    },
  });
  assert.equal(requestSerializer({ method: 'GET', url: '/', socket: { remoteAddress: '::1' } }).remoteAddress, '::1');
  const { logger, text } = capture();
  logger.info({ req }, 'request');
  assertAbsent(text(), ['rs-secret-1', 'rs-secret-2', 'rs-secret-3', 'rs-secret-4', 'rs-secret-5']);
  assert.ok(text().includes('python-requests/2.31'));
  logger.info({ req: null, res: null }, 'nulls do not crash');
});

test('as Fastify\'s loggerInstance: request logs carry no credentials', async () => {
  const { logger, text } = capture('info');
  const app = Fastify({ loggerInstance: logger });
  app.post('/oauth2/token', async (request) => {
    request.log.info({ body: request.body }, 'token request');
    throw Object.assign(new Error('invalid_client'), { statusCode: 401 });
  });
  await app.ready();
  const res = await app.inject({
    method: 'POST',
    url: '/oauth2/token?client_secret=fy-secret-1',
    headers: { authorization: 'Basic fy-secret-2', cookie: 's=fy-secret-3', 'user-agent': 'msal-python' },
    payload: { grant_type: 'client_credentials', client_id: 'app1', client_secret: 'fy-secret-4' },
  });
  assert.equal(res.statusCode, 401);
  await app.close();
  const out = text();
  assertAbsent(out, ['fy-secret-1', 'fy-secret-2', 'fy-secret-3', 'fy-secret-4']);
  assert.ok(out.includes('incoming request'));
  assert.ok(out.includes('msal-python'));
  assert.ok(out.includes('client_credentials'));
  assert.ok(out.includes('"statusCode":401'));
});
