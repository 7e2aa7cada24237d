// Credentials Keyhaven generates itself (client secrets, join tokens): 256 random bits, shown to
// their owner once and stored only as HMAC-SHA-256 under a server key. A slow password hash adds
// nothing against guessing a random 256-bit value and would cap token issuance at the hash
// rate (see DESIGN.md, "Security posture"); the keyed HMAC also means a stolen database alone
// does not let anyone test candidate values offline.
import { createHmac, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';

const CREDENTIAL_BYTES = 32;
const HEX_DIGEST = /^[0-9a-f]{64}$/i;

/** 32 bytes from the CSPRNG as base64url without padding: 43 URL- and header-safe characters. */
export function generateCredential(): string {
  // Never a leading '-': command lines (az's argparse, getopt) would take the secret for an
  // option (`az login -p -Xy…` fails), as Entra's secrets never start with one. Redrawing
  // keeps the value uniform over the remaining strings; it costs 1/64 of a redraw on average.
  for (;;) {
    const value = randomBytes(CREDENTIAL_BYTES).toString('base64url');
    if (!value.startsWith('-')) return value;
  }
}

export class CredentialDigester {
  readonly #key: KeyObject;

  /** hmacKey: at least 32 bytes, the SHA-256 output length (RFC 2104 §3: shorter keys are strongly discouraged). */
  constructor(hmacKey: Uint8Array) {
    if (!(hmacKey instanceof Uint8Array) || hmacKey.length < 32) {
      throw new RangeError('the credential HMAC key must be at least 32 bytes');
    }
    // A KeyObject holds its own copy: later changes to the caller's buffer do not affect it.
    this.#key = createSecretKey(Buffer.from(hmacKey));
  }

  /** Lowercase hex HMAC-SHA-256 of the value's UTF-8 bytes: what is stored. */
  digest(value: string): string {
    if (typeof value !== 'string') throw new TypeError('credential value must be a string');
    return createHmac('sha256', this.#key).update(value, 'utf8').digest('hex');
  }

  /**
   * Whether value is the credential behind digest, compared in constant time so response
   * timing reveals nothing about how much of a guess was right. Anything malformed is false.
   */
  matches(value: string, digest: string): boolean {
    if (typeof value !== 'string' || typeof digest !== 'string' || !HEX_DIGEST.test(digest)) return false;
    const actual = createHmac('sha256', this.#key).update(value, 'utf8').digest();
    return timingSafeEqual(actual, Buffer.from(digest, 'hex'));
  }
}
