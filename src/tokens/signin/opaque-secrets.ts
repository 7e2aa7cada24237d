// The secrets Keyhaven hands to browsers and clients for later — session ids, authorization
// codes, refresh tokens, device codes, user codes — are random and stored only as their SHA-256
// (RFC 6819 §5.1.4.1.3: "store only hashes of tokens"), so a copy of the database, a backup
// or a log of SQL parameters signs nobody in. 32 random bytes: unguessable, and a plain hash
// (no salt, no stretching) is enough for a value with 256 bits of entropy.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export function newOpaqueSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function secretHash(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('base64url');
}

/** Constant-time comparison of two strings (different lengths are simply unequal). */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
