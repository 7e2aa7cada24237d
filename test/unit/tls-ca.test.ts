import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { ensureTls, generateCa, requiredServerNames, type TlsOptions } from '../../src/crypto/tls-ca.js';
import { StartupError } from '../../src/errors.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const HOSTNAME = 'build-host-01';
const root = mkdtempSync(join(tmpdir(), 'keyhaven-tls-'));
after(() => rmSync(root, { recursive: true, force: true }));

let dirs = 0;
function options(extra: Partial<TlsOptions> = {}): TlsOptions {
  return {
    tlsDir: join(root, `home-${++dirs}`, 'tls'),
    extraNames: [],
    hostname: HOSTNAME,
    vaultDnsSuffix: 'vault.localhost',
    ...extra,
  };
}

const leafOf = (certPem: string) => new X509Certificate(certPem); // parses the first PEM block
const mode = (file: string) => statSync(file).mode & 0o777;

function startupError(code: string, file: string, secret?: string) {
  return (err: unknown) => {
    assert.ok(err instanceof StartupError, `expected a StartupError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.ok(err.message.includes(file), `message names ${file}: ${err.message}`);
    assert.ok(!err.message.includes('\n'), 'one line');
    if (secret) assert.ok(!err.message.includes(secret), 'message leaks file content');
    return true;
  };
}

/** Connects to a TLS server as a strict client would; resolves with the error, if any. */
function connect(port: number, ca: string): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'myvault.vault.localhost' });
    socket.once('secureConnect', () => {
      socket.destroy();
      resolve(socket.authorized ? undefined : new Error(String(socket.authorizationError)));
    });
    socket.once('error', (err) => {
      socket.destroy();
      resolve(err);
    });
  });
}

describe('tls-ca', () => {
  it('lists the required names once each, IPs canonical', () => {
    const names = requiredServerNames({ extraNames: ['A.Example', '10.0.0.1', '0:0:0:0:0:0:0:1', 'localhost'], hostname: 'Box', vaultDnsSuffix: 'vault.localhost' });
    assert.deepEqual(names.dns, ['localhost', 'box', '*.vault.localhost', 'vault.localhost', 'a.example']);
    assert.deepEqual(names.ips, ['127.0.0.1', '::1', '10.0.0.1']);
    assert.throws(() => requiredServerNames({ extraNames: ['not a name'], hostname: 'box', vaultDnsSuffix: 'vault.localhost' }),
      (err: unknown) => err instanceof StartupError && err.code === 'KH_TLS_NAME_INVALID');
  });

  it('generates a CA and a server certificate it signed', async () => {
    const opts = options();
    const m = await ensureTls(opts);
    assert.equal(m.caFile, join(opts.tlsDir, 'ca.pem'));
    assert.equal(readFileSync(m.caFile, 'utf8'), m.caCertPem);
    const ca = new X509Certificate(m.caCertPem);
    assert.equal(ca.ca, true);
    assert.match(ca.subject, /^CN=Keyhaven Local CA [0-9a-f]{8}$/);

    const leaf = leafOf(m.certPem);
    assert.equal(leaf.ca, false);
    assert.equal(leaf.issuer, ca.subject);
    assert.ok(leaf.verify(ca.publicKey), 'signed by the CA');
    assert.ok(leaf.checkPrivateKey(createPrivateKey(m.keyPem)));
    for (const host of ['localhost', 'foo.vault.localhost', 'vault.localhost', HOSTNAME]) {
      assert.ok(leaf.checkHost(host), `SAN covers ${host}`); // returns the matching SAN entry
    }
    assert.equal(leaf.checkIP('127.0.0.1'), '127.0.0.1');
    assert.ok(leaf.checkIP('::1'));
    // server.pem is the chain: leaf, then the CA.
    assert.equal(m.certPem, leaf.toString() + m.caCertPem);
    assert.equal(readFileSync(m.certFile, 'utf8'), m.certPem);

    assert.equal(mode(opts.tlsDir), 0o700);
    assert.equal(mode(join(opts.tlsDir, 'ca-key.pem')), 0o600);
    assert.equal(mode(m.keyFile), 0o600);
    const out = execFileSync('openssl', ['verify', '-CAfile', m.caFile, m.certFile], { encoding: 'utf8' });
    assert.match(out, /: OK$/m);
  });

  it('serves TLS that a client trusting the CA accepts and one trusting another CA refuses', async () => {
    const m = await ensureTls(options());
    const foreign = await generateCa('Foreign CA');
    const server = tls.createServer({ key: m.keyPem, cert: m.certPem }, (s) => s.end());
    const sockets = new Set<Socket>();
    server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
    server.on('tlsClientError', () => { /* the refusing client aborts the handshake */ });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      assert.equal(await connect(port, m.caCertPem), undefined);
      const refused = await connect(port, foreign.certPem);
      assert.ok(refused, 'a foreign CA must not verify');
      assert.match((refused as NodeJS.ErrnoException).code ?? '', /UNABLE_TO_VERIFY|SELF_SIGNED|UNABLE_TO_GET_ISSUER/);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('reuses a valid certificate and re-issues when names change or expiry nears', async () => {
    const opts = options();
    const first = await ensureTls(opts);
    const again = await ensureTls(opts);
    assert.equal(again.certPem, first.certPem);
    assert.equal(again.keyPem, first.keyPem);

    const renamed = await ensureTls({ ...opts, extraNames: ['new.example', '192.0.2.7'] });
    assert.notEqual(renamed.certPem, first.certPem);
    assert.equal(renamed.caCertPem, first.caCertPem, 'same CA');
    const leaf = leafOf(renamed.certPem);
    assert.ok(leaf.verify(new X509Certificate(first.caCertPem).publicKey));
    assert.equal(leaf.checkHost('new.example'), 'new.example');
    assert.equal(leaf.checkIP('192.0.2.7'), '192.0.2.7');

    const later = await ensureTls({ ...opts, extraNames: ['new.example', '192.0.2.7'], now: new Date(Date.now() + 380 * DAY_MS) });
    assert.notEqual(later.certPem, renamed.certPem, 're-issued within 30 days of expiry');
    assert.equal(later.caCertPem, first.caCertPem);
  });

  it('repairs what an interrupted start left behind', async () => {
    const opts = options();
    const first = await ensureTls(opts);
    // A new server key written, the crash before server.pem: the pair no longer matches.
    writeFileSync(first.keyFile, (await generateCa('x')).keyPem, { mode: 0o600 });
    const second = await ensureTls(opts);
    assert.notEqual(second.certPem, first.certPem);
    assert.equal(second.caCertPem, first.caCertPem);
    // ca.pem written, the crash before ca-key.pem: a new CA, and a server cert it signed.
    unlinkSync(join(opts.tlsDir, 'ca-key.pem'));
    const third = await ensureTls(opts);
    assert.notEqual(third.caCertPem, first.caCertPem);
    assert.ok(leafOf(third.certPem).verify(new X509Certificate(third.caCertPem).publicKey));
    execFileSync('openssl', ['verify', '-CAfile', third.caFile, third.certFile]);
  });

  it('issues with a supplied CA (EC or RSA, PKCS#8 or traditional PEM) and publishes it at ca.pem', async () => {
    const dir = mkdtempSync(join(root, 'supplied-'));
    const ec = await generateCa('Supplied EC CA');
    writeFileSync(join(dir, 'ec.pem'), ec.certPem);
    writeFileSync(join(dir, 'ec-key.pem'), ec.keyPem, { mode: 0o600 });
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '400',
      '-subj', '/C=DE/O=Example Org/CN=Supplied RSA CA',
      '-keyout', join(dir, 'rsa-key8.pem'), '-out', join(dir, 'rsa.pem')], { stdio: 'ignore' });
    execFileSync('openssl', ['pkey', '-traditional', '-in', join(dir, 'rsa-key8.pem'), '-out', join(dir, 'rsa-key.pem')]);

    for (const name of ['ec', 'rsa']) {
      const opts = options({ caCertFile: join(dir, `${name}.pem`), caKeyFile: join(dir, `${name}-key.pem`) });
      const m = await ensureTls(opts);
      const supplied = new X509Certificate(readFileSync(join(dir, `${name}.pem`)));
      assert.equal(m.caCertPem, supplied.toString());
      assert.equal(readFileSync(join(opts.tlsDir, 'ca.pem'), 'utf8'), supplied.toString());
      assert.equal(existsSync(join(opts.tlsDir, 'ca-key.pem')), false, 'the CA key is not copied');
      const leaf = leafOf(m.certPem);
      assert.equal(leaf.issuer, supplied.subject);
      assert.ok(leaf.verify(supplied.publicKey));
      execFileSync('openssl', ['verify', '-CAfile', m.caFile, m.certFile]);
    }
  });

  it('moves a generated CA aside for a supplied one and brings it back', async () => {
    const dir = mkdtempSync(join(root, 'switch-'));
    const supplied = await generateCa('Supplied CA');
    writeFileSync(join(dir, 'ca.pem'), supplied.certPem);
    writeFileSync(join(dir, 'ca-key.pem'), supplied.keyPem, { mode: 0o600 });
    const opts = options();
    const generated = await ensureTls(opts);
    const withSupplied = await ensureTls({ ...opts, caCertFile: join(dir, 'ca.pem'), caKeyFile: join(dir, 'ca-key.pem') });
    assert.equal(withSupplied.caCertPem, supplied.certPem);
    assert.ok(leafOf(withSupplied.certPem).verify(new X509Certificate(supplied.certPem).publicKey));
    const back = await ensureTls(opts);
    assert.equal(back.caCertPem, generated.caCertPem, 'the generated CA is restored');
    assert.ok(leafOf(back.certPem).verify(new X509Certificate(generated.caCertPem).publicKey));
  });

  it('refuses unusable CA configuration with one line naming the file, never its content', async () => {
    const dir = mkdtempSync(join(root, 'bad-'));
    const good = await generateCa('Good CA');
    const other = await generateCa('Other CA');
    const secret = 'c2VjcmV0LWtleS1tYXRlcmlhbA';
    const files = {
      garbage: join(dir, 'garbage.pem'),
      badKey: join(dir, 'bad-key.pem'),
      cert: join(dir, 'ca.pem'),
      key: join(dir, 'ca-key.pem'),
      otherKey: join(dir, 'other-key.pem'),
    };
    writeFileSync(files.garbage, `-----BEGIN CERTIFICATE-----\n${secret}\n-----END CERTIFICATE-----\n`);
    writeFileSync(files.badKey, `-----BEGIN PRIVATE KEY-----\n${secret}\n-----END PRIVATE KEY-----\n`);
    writeFileSync(files.cert, good.certPem);
    writeFileSync(files.key, good.keyPem);
    writeFileSync(files.otherKey, other.keyPem);

    const opts = options();
    await assert.rejects(ensureTls({ ...opts, caCertFile: files.garbage, caKeyFile: files.key }),
      startupError('KH_TLS_CA_INVALID', files.garbage, secret));
    await assert.rejects(ensureTls({ ...opts, caCertFile: files.cert, caKeyFile: files.badKey }),
      startupError('KH_TLS_CA_KEY_INVALID', files.badKey, secret));
    await assert.rejects(ensureTls({ ...opts, caCertFile: files.cert, caKeyFile: files.otherKey }),
      startupError('KH_TLS_CA_KEY_MISMATCH', files.otherKey, 'PRIVATE KEY'));
    await assert.rejects(ensureTls({ ...opts, caCertFile: join(dir, 'missing.pem'), caKeyFile: files.key }),
      startupError('KH_TLS_CA_UNREADABLE', join(dir, 'missing.pem')));
    await assert.rejects(ensureTls({ ...opts, caCertFile: files.cert }),
      (err: unknown) => err instanceof StartupError && err.code === 'KH_TLS_CA_INCOMPLETE');
    await assert.rejects(ensureTls({ ...opts, certFile: files.cert }),
      (err: unknown) => err instanceof StartupError && err.code === 'KH_TLS_CERT_INCOMPLETE');

    // The failed starts left nothing behind that a corrected start would trip over.
    const fixed = await ensureTls({ ...opts, caCertFile: files.cert, caKeyFile: files.key });
    assert.equal(fixed.caCertPem, good.certPem);
  });
});
