// A machine's public key as it sends it to join or to rotate (RFC 7517 JWK). The machine makes
// its key pair itself and sends only the public half; anything else is refused before a byte is
// stored:
//   - a JSON object of at most MAX_JWK_BYTES, with string members only where RFC 7518 has them;
//   - kty RSA (n of 2048–8192 bits, e odd) or EC (P-256, P-384, P-521, a point on the curve);
//     `oct` keys, OKP and anything else are refused — the assertion verifier accepts RS*, PS*
//     and ES* signatures only (src/tokens/client-assertion.ts);
//   - no private member (`d`, `p`, `q`, `dp`, `dq`, `qi`, `oth`, `k`): a JWK carrying one is
//     refused as a private key sent by mistake, and its material is never echoed or logged.
// The key's id is its RFC 7638 thumbprint (SHA-256, base64url): what the machine puts in its
// assertions' `kid` header, and what the token service finds the key by.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { InvalidInputError } from '../errors.js';

export const MAX_JWK_BYTES = 4096;
const MIN_RSA_BITS = 2048;
const MAX_RSA_BITS = 8192;
const CURVES = new Set(['P-256', 'P-384', 'P-521']);
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const B64URL = /^[A-Za-z0-9_-]+$/;

export interface MachinePublicKey {
  /** Only the public members, as stored: {kty, n, e} or {kty, crv, x, y}. */
  jwk: JWK;
  /** RFC 7638 thumbprint. */
  kid: string;
  key: KeyObject;
}

function bad(code: string, message: string): InvalidInputError {
  return new InvalidInputError(code, message);
}

function member(jwk: Record<string, unknown>, name: string): string {
  const value = jwk[name];
  if (typeof value !== 'string' || value === '' || !B64URL.test(value)) throw bad('KH_MACHINE_KEY_INVALID', `The public key's '${name}' must be a base64url string.`);
  return value;
}

/** Checks a public JWK from a join or rotation request and returns it with its kid. */
export async function parseMachinePublicKey(input: unknown): Promise<MachinePublicKey> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw bad('KH_MACHINE_KEY_INVALID', 'publicKey must be a JSON Web Key object (RFC 7517).');
  const raw = input as Record<string, unknown>;
  if (JSON.stringify(raw).length > MAX_JWK_BYTES) throw bad('KH_MACHINE_KEY_TOO_LARGE', `publicKey is larger than ${MAX_JWK_BYTES} bytes.`);
  if (PRIVATE_MEMBERS.some((m) => raw[m] !== undefined)) {
    throw bad('KH_MACHINE_KEY_PRIVATE', 'publicKey holds private key material: send only the public key; the private key must never leave the machine. Nothing was stored.');
  }
  let jwk: JWK;
  if (raw['kty'] === 'RSA') {
    const n = member(raw, 'n');
    const e = member(raw, 'e');
    const modulus = Buffer.from(n, 'base64url');
    const bits = modulus.length * 8 - Math.clz32(modulus[0] ?? 0) + 24;
    if (modulus[0] === 0 || bits < MIN_RSA_BITS) throw bad('KH_MACHINE_KEY_TOO_SMALL', `An RSA public key must have at least ${MIN_RSA_BITS} bits.`);
    if (bits > MAX_RSA_BITS) throw bad('KH_MACHINE_KEY_TOO_LARGE', `An RSA public key may have at most ${MAX_RSA_BITS} bits.`);
    const exponent = Buffer.from(e, 'base64url');
    if (exponent.length === 0 || exponent.length > 4 || (exponent[exponent.length - 1]! & 1) === 0 || exponent.readUIntBE(0, exponent.length) < 3) {
      throw bad('KH_MACHINE_KEY_INVALID', "The RSA public key's exponent 'e' is not valid.");
    }
    jwk = { kty: 'RSA', n, e };
  } else if (raw['kty'] === 'EC') {
    const crv = raw['crv'];
    if (typeof crv !== 'string' || !CURVES.has(crv)) throw bad('KH_MACHINE_KEY_UNSUPPORTED', "An EC public key must be on curve P-256, P-384 or P-521.");
    jwk = { kty: 'EC', crv, x: member(raw, 'x'), y: member(raw, 'y') };
  } else {
    throw bad('KH_MACHINE_KEY_UNSUPPORTED', "publicKey's kty must be 'RSA' or 'EC'.");
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
  } catch {
    throw bad('KH_MACHINE_KEY_INVALID', 'publicKey is not a valid public key.');
  }
  if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) {
    throw bad('KH_MACHINE_KEY_TOO_SMALL', `An RSA public key must have at least ${MIN_RSA_BITS} bits.`);
  }
  return { jwk, kid: await calculateJwkThumbprint(jwk, 'sha256'), key };
}

/** A stored public JWK (already checked at join or rotation) as a key. */
export function storedPublicKey(publicJwk: string): KeyObject {
  return createPublicKey({ key: JSON.parse(publicJwk) as import('node:crypto').JsonWebKey, format: 'jwk' });
}
