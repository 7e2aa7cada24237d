// Writes the test CA that every test server is given (tlsCaCertFile/tlsCaKeyFile) and that
// scripts/run-tests.mjs hands to clients through NODE_EXTRA_CA_CERTS: .test-ca/ca.pem and
// .test-ca/ca-key.pem (0600). Idempotent: an existing, matching pair is kept, so test runs
// do not invalidate a CA a developer already trusts.
//
//   tsx scripts/make-test-ca.ts
import { X509Certificate, createPrivateKey, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateCa } from '../src/crypto/tls-ca.js';

const dir = resolve(import.meta.dirname, '..', '.test-ca');
const certFile = join(dir, 'ca.pem');
const keyFile = join(dir, 'ca-key.pem');

function usable(): boolean {
  try {
    const cert = new X509Certificate(readFileSync(certFile));
    return cert.ca && cert.checkPrivateKey(createPrivateKey(readFileSync(keyFile)));
  } catch {
    return false;
  }
}

/** Temp file + rename, so an interrupted run never leaves half a PEM behind. */
function writeAtomic(file: string, content: string, mode: number): void {
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, content, { mode, flag: 'wx' });
  renameSync(tmp, file);
}

if (!usable()) {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ca = await generateCa(`Keyhaven Test CA ${randomBytes(4).toString('hex')}`);
  writeAtomic(keyFile, ca.keyPem, 0o600);
  writeAtomic(certFile, ca.certPem, 0o644);
  console.log(`wrote ${certFile}`);
}
