// Client certificates for private_key_jwt tests, made by openssl (the other system, not
// Keyhaven's own CA code): a self-signed RSA certificate and its key, as a service principal's
// owner would make one (`openssl req -x509 -newkey rsa:2048 …`).
import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ClientCertificate {
  certPem: string;
  keyPem: string;
  /** Key and certificate in one PEM, as ClientCertificateCredential and az take it. */
  combinedPem: string;
  privateKey: KeyObject;
  /** base64url SHA-256 / SHA-1 of the DER: the x5t#S256 / x5t header values. */
  x5tS256: string;
  x5t: string;
}

export function makeClientCertificate(cn: string, days = 2): ClientCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'kh-cert-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', String(days), '-subj', `/CN=${cn}`,
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'pipe' });
    const certPem = readFileSync(join(dir, 'cert.pem'), 'utf8');
    const keyPem = readFileSync(join(dir, 'key.pem'), 'utf8');
    const der = new X509Certificate(certPem).raw;
    return {
      certPem, keyPem, combinedPem: `${keyPem}${certPem}`, privateKey: createPrivateKey(keyPem),
      x5tS256: createHash('sha256').update(der).digest('base64url'),
      x5t: createHash('sha1').update(der).digest('base64url'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
