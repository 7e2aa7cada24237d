// TOTP (RFC 6238) as every authenticator app computes it: HOTP (RFC 4226) over the number of
// 30-second steps since the Unix epoch, HMAC-SHA-1, 6 digits — the defaults of RFC 6238 §4 and
// the only parameters Google Authenticator and its kin honour (they ignore `algorithm=` and
// `digits=` in the URI). The HOTP arithmetic is the `otpauth` library's; what is decided here
// is the secret's size, the window and how codes are compared.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { HOTP, Secret, TOTP } from 'otpauth';

export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
const ALGORITHM = 'SHA1';
/** RFC 4226 §4 R6: the shared secret "MUST be at least 128 bits … RECOMMENDED 160 bits". */
export const TOTP_SECRET_BYTES = 20;
/** RFC 6238 §5.2 recommends accepting at most one step of drift either way. */
export const TOTP_WINDOW_STEPS = 1;

export function newTotpSecret(): Buffer {
  return randomBytes(TOTP_SECRET_BYTES);
}

const secretOf = (key: Buffer) => new Secret({ buffer: Uint8Array.from(key).buffer });

/** RFC 4648 base32, unpadded: what `otpauth://` URIs and `oathtool -b` take. */
export function base32Secret(key: Buffer): string {
  return secretOf(key).base32;
}

/** RFC 6238 §4.2: T = floor((now − T0) / X), T0 = 0, X = 30 s. */
export function timeStep(nowMs: number): number {
  return Math.floor(nowMs / 1000 / TOTP_PERIOD_SECONDS);
}

/** The code for one step (tests and the verifier; never logged). */
export function codeAt(key: Buffer, step: number): string {
  return HOTP.generate({ secret: secretOf(key), counter: step, algorithm: ALGORITHM, digits: TOTP_DIGITS });
}

/** A code as typed: six digits, with spaces or a dash between groups allowed ("123 456"). */
export function normalizeCode(code: unknown): string | undefined {
  if (typeof code !== 'string' || code.length > 16) return undefined;
  const digits = code.replace(/[\s-]/g, '');
  return /^\d{6}$/.test(digits) ? digits : undefined;
}

/**
 * The time step whose code `code` is, within ±TOTP_WINDOW_STEPS of `nowMs`, or undefined.
 * Every step of the window is computed and compared in constant time, with no early exit, so
 * the timing says nothing about which step (if any) matched. With two matches (a 1-in-10^6
 * coincidence) the later step wins, so replay protection errs towards refusing.
 */
export function matchStep(key: Buffer, code: string, nowMs: number, window = TOTP_WINDOW_STEPS): number | undefined {
  const given = Buffer.from(normalizeCode(code) ?? '000000x', 'utf8');
  const current = timeStep(nowMs);
  let matched: number | undefined;
  for (let delta = -window; delta <= window; delta++) {
    const expected = Buffer.from(codeAt(key, current + delta), 'utf8');
    const same = expected.length === given.length && timingSafeEqual(expected, given);
    if (same) matched = current + delta;
  }
  return matched;
}

/**
 * The Key URI authenticator apps scan (Google's "Key Uri Format"):
 * `otpauth://totp/{issuer}:{account}?issuer=…&secret=…&algorithm=SHA1&digits=6&period=30`.
 */
export function otpauthUri(key: Buffer, issuer: string, account: string): string {
  return new TOTP({ issuer, label: account, secret: secretOf(key), algorithm: ALGORITHM, digits: TOTP_DIGITS, period: TOTP_PERIOD_SECONDS }).toString();
}
