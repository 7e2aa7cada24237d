// Proof Key for Code Exchange (RFC 7636). Only S256 is accepted: `plain` protects nothing once
// the authorization request is seen (RFC 9700 §2.1.1 recommends S256, and every client here
// sends it).
import { createHash } from 'node:crypto';
import { sameSecret } from './opaque-secrets.js';

/** RFC 7636 §4.1: 43–128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~". */
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
/** §4.2: BASE64URL(SHA256(verifier)) is 43 characters. */
const CHALLENGE = /^[A-Za-z0-9\-_]{43}$/;

export function isS256Challenge(challenge: string): boolean {
  return CHALLENGE.test(challenge);
}

export function verifierMatches(verifier: string, challenge: string): boolean {
  if (!VERIFIER.test(verifier)) return false;
  return sameSecret(createHash('sha256').update(verifier, 'ascii').digest('base64url'), challenge);
}
