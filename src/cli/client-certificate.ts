// `keyhaven login --service-principal --certificate PEM`: a client assertion (RFC 7523 §2.2,
// OAuth `private_key_jwt`) signed with the service principal's certificate key, shaped as MSAL
// sends it: header `{ alg: RS256, typ: JWT, x5t#S256 }` (the certificate's SHA-256 thumbprint,
// what current MSAL names the key by), claims `aud` = the token endpoint, `iss` = `sub` = the
// client id, a fresh `jti`, `nbf` = `iat` = now and a 10-minute `exp`. A new assertion is made
// for every token request, so no assertion is ever stored. The PEM holds the private key and the
// certificate, as az's and ClientCertificateCredential's --certificate file does.
import { createHash, createPrivateKey, randomUUID, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { SignJWT } from 'jose';
import { UsageError } from './usage-error.js';

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** MSAL's assertion lifetime. */
const LIFETIME_S = 600;

export interface ClientCertificate {
  privateKey: KeyObject;
  /** base64url SHA-256 of the certificate's DER. */
  x5tS256: string;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?-----END \1-----/g;

/** Reads a PEM with the private key and its certificate; errors name the file, never its content. */
export async function readClientCertificate(file: string): Promise<ClientCertificate> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`usage error: cannot read the certificate file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const blocks = [...text.matchAll(PEM_BLOCK)].map((m) => ({ label: m[1]!, pem: m[0] }));
  const keyBlock = blocks.find((b) => /PRIVATE KEY$/.test(b.label));
  const certBlock = blocks.find((b) => b.label === 'CERTIFICATE');
  if (!keyBlock || !certBlock) {
    throw new UsageError(`usage error: ${file} must hold the private key and the certificate in PEM (as for az login --certificate)`);
  }
  let privateKey: KeyObject;
  let cert: X509Certificate;
  try {
    privateKey = createPrivateKey(keyBlock.pem);
    cert = new X509Certificate(certBlock.pem);
  } catch {
    throw new UsageError(`usage error: ${file} holds no readable private key and certificate (an encrypted key is not supported)`);
  }
  if (!cert.checkPrivateKey(privateKey)) throw new UsageError(`usage error: the private key in ${file} does not belong to its certificate`);
  return { privateKey, x5tS256: createHash('sha256').update(cert.raw).digest('base64url') };
}

/** A signed client assertion for `clientId` at `tokenEndpoint`. */
export async function clientAssertion(cert: ClientCertificate, clientId: string, tokenEndpoint: string, nowMs = Date.now()): Promise<string> {
  const iat = Math.floor(nowMs / 1000);
  const alg = cert.privateKey.asymmetricKeyType === 'ec' ? 'ES256' : 'RS256';
  return new SignJWT({ aud: tokenEndpoint, iss: clientId, sub: clientId, jti: randomUUID(), nbf: iat, iat, exp: iat + LIFETIME_S })
    .setProtectedHeader({ alg, typ: 'JWT', 'x5t#S256': cert.x5tS256 })
    .sign(cert.privateKey);
}
