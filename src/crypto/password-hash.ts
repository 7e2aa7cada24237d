// The one password hashing module: scrypt (RFC 7914) in PHC string format
//   $scrypt$ln=17,r=8,p=1$<salt, base64 without padding>$<key, base64 without padding>
// Parameters default to the OWASP Password Storage Cheat Sheet's scrypt row (N=2^17, r=8, p=1)
// and come from config (passwordScryptLogN/R/P), so tests can use cheap ones. A hash made under
// other parameters still verifies and is reported as needsRehash, so the caller re-hashes it on
// that user's next successful login (a transparent upgrade when the config changes).
// A hash imported from another directory (`{SSHA}`, `{CRYPT}$6$…`, …; see
// legacy-password-hash.ts) verifies here too and is always reported as needsRehash, so it is
// replaced by scrypt at that user's first successful sign-in (DESIGN.md, Security posture).
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { InvalidInputError } from '../errors.js';
import { isLegacyHash, verifyLegacyPassword } from './legacy-password-hash.js';

export interface ScryptParams {
  /** log2 of the CPU/memory cost N. */
  logN: number;
  /** Block size. */
  r: number;
  /** Parallelism. */
  p: number;
}

/** OWASP Password Storage Cheat Sheet: scrypt with N=2^17 (128 MiB), r=8, p=1. */
export const OWASP_SCRYPT: ScryptParams = Object.freeze({ logN: 17, r: 8, p: 1 });

/** UTF-8 bytes. Bounds the work one request can cause (scrypt hashes the whole password). */
export const MAX_PASSWORD_BYTES = 1024;

const SALT_BYTES = 16; // OWASP / PHC: at least 16 random bytes
const KEY_BYTES = 32;
// Bounds for parameters, in config and in stored strings alike (config/schema.ts uses the same).
const BOUNDS = { logN: [10, 22], r: [1, 32], p: [1, 16] } as const;
// A stored hash may not make us allocate more than this (or than our own parameters need): the
// per-parameter bounds alone still allow 128 * 2^22 * 32 bytes = 16 GiB.
const MAX_STORED_MEMORY = 2 ** 30;

const PHC = /^\$scrypt\$ln=([1-9]\d?),r=([1-9]\d?),p=([1-9]\d?)\$([A-Za-z0-9+/]{11,86})\$([A-Za-z0-9+/]{22,86})$/;

function scryptAsync(password: string, salt: Buffer, keylen: number, params: ScryptParams): Promise<Buffer> {
  const N = 2 ** params.logN;
  // OpenSSL needs 128*r*(N+p+2) bytes (its V and B arrays); node's default maxmem is 32 MiB,
  // below OWASP's 128 MiB. The limit is only a ceiling, so a small margin costs nothing.
  const options: ScryptOptions = { N, r: params.r, p: params.p, maxmem: 128 * params.r * (N + params.p + 2) + 2 ** 20 };
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function paramsValid(p: ScryptParams): boolean {
  const inRange = (v: number, [lo, hi]: readonly [number, number]) => Number.isInteger(v) && v >= lo && v <= hi;
  // RFC 7914 §2 also requires N < 2^(128*r/8), i.e. logN < 16*r (only bites when r = 1).
  return inRange(p.logN, BOUNDS.logN) && inRange(p.r, BOUNDS.r) && inRange(p.p, BOUNDS.p) && p.logN < 16 * p.r;
}

const memoryOf = (p: ScryptParams): number => 128 * 2 ** p.logN * p.r;

const b64 = (buf: Buffer): string => buf.toString('base64').replace(/=+$/, '');

/** Strict unpadded base64: rejects anything that does not re-encode to the same text. */
function fromB64(text: string): Buffer | undefined {
  const buf = Buffer.from(text, 'base64');
  return b64(buf) === text ? buf : undefined;
}

interface Parsed { params: ScryptParams; salt: Buffer; key: Buffer }

function parse(stored: unknown, maxMemory: number): Parsed | undefined {
  if (typeof stored !== 'string' || stored.length > 256) return undefined;
  const m = PHC.exec(stored);
  if (!m) return undefined;
  const params = { logN: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  if (!paramsValid(params) || memoryOf(params) > maxMemory) return undefined;
  const salt = fromB64(m[4]!);
  const key = fromB64(m[5]!);
  if (!salt || !key || salt.length < 8 || salt.length > 64 || key.length < 16 || key.length > 64) return undefined;
  return { params, salt, key };
}

/**
 * RFC 8265 OpaqueString: non-ASCII spaces map to U+0020, then NFC, so the same password typed
 * on another keyboard or OS (composed vs decomposed "é") still matches. Control characters and
 * lone surrogates are outside its FreeformClass (a lone surrogate would also be UTF-8 encoded
 * as U+FFFD, making different passwords collide). Checked before any hashing, identically in
 * hash, verify and verifyDummy, so the answer never depends on whether the user exists.
 */
function prepare(password: string): string {
  if (typeof password !== 'string') throw new InvalidInputError('KH_PASSWORD_INVALID', 'The password must be a string.');
  if (password.length === 0) throw new InvalidInputError('KH_PASSWORD_EMPTY', 'The password must not be empty.');
  const tooLong = () => new InvalidInputError('KH_PASSWORD_TOO_LONG', `The password must be at most ${MAX_PASSWORD_BYTES} bytes (UTF-8).`);
  // Every UTF-16 unit is at least one UTF-8 byte: refuse huge input before normalising it.
  if (password.length > MAX_PASSWORD_BYTES) throw tooLong();
  if (/[\p{Cc}\p{Cs}]/u.test(password)) {
    throw new InvalidInputError('KH_PASSWORD_INVALID', 'The password contains control characters or invalid Unicode.');
  }
  const prepared = password.replace(/\p{Zs}/gu, ' ').normalize('NFC');
  if (Buffer.byteLength(prepared, 'utf8') > MAX_PASSWORD_BYTES) throw tooLong();
  return prepared;
}

export class PasswordHasher {
  readonly params: Readonly<ScryptParams>;
  readonly #maxStoredMemory: number;
  readonly #dummySalt = randomBytes(SALT_BYTES);
  readonly #dummyKey = randomBytes(KEY_BYTES);

  constructor(params: ScryptParams = OWASP_SCRYPT) {
    if (!paramsValid(params)) {
      throw new RangeError(`scrypt parameters out of bounds: ${JSON.stringify(params)} (logN 10..22 and < 16*r, r 1..32, p 1..16)`);
    }
    this.params = Object.freeze({ logN: params.logN, r: params.r, p: params.p });
    this.#maxStoredMemory = Math.max(MAX_STORED_MEMORY, memoryOf(this.params));
  }

  /** A PHC string with a fresh 16-byte salt under the current parameters. */
  async hash(password: string): Promise<string> {
    const prepared = prepare(password);
    const salt = randomBytes(SALT_BYTES);
    const key = await scryptAsync(prepared, salt, KEY_BYTES, this.params);
    const { logN, r, p } = this.params;
    return `$scrypt$ln=${logN},r=${r},p=${p}$${b64(salt)}$${b64(key)}`;
  }

  /**
   * ok: the password matches. needsRehash (only when ok): the stored string differs from what
   * hash() makes now (parameters, salt or key length), so the caller should store hash(password).
   * A malformed or out-of-bounds stored string is a mismatch, after the same work as a real
   * verify; it never throws. Only an unacceptable password throws (InvalidInputError).
   */
  async verify(password: string, stored: string): Promise<{ ok: boolean; needsRehash: boolean }> {
    const prepared = prepare(password);
    if (isLegacyHash(stored)) return this.#verifyLegacy(password, prepared, stored);
    const parsed = parse(stored, this.#maxStoredMemory);
    if (!parsed) {
      await this.#burn(prepared);
      return { ok: false, needsRehash: false };
    }
    let derived: Buffer;
    try {
      derived = await scryptAsync(prepared, parsed.salt, parsed.key.length, parsed.params);
    } catch {
      return { ok: false, needsRehash: false };
    }
    const ok = timingSafeEqual(derived, parsed.key);
    const { logN, r, p } = this.params;
    const current = parsed.params.logN === logN && parsed.params.r === r && parsed.params.p === p
      && parsed.salt.length === SALT_BYTES && parsed.key.length === KEY_BYTES;
    return { ok, needsRehash: ok && !current };
  }

  /**
   * For an unknown user: the same validation and the same scrypt work as verify() under the
   * current parameters, then false, so neither the answer nor its timing shows whether the
   * account exists (OWASP Authentication Cheat Sheet).
   */
  async verifyDummy(password: string): Promise<false> {
    await this.#burn(prepare(password));
    return false;
  }

  /**
   * An imported hash: made by another system from the password's UTF-8 bytes as typed, so the
   * prepared (NFC) form is tried first and the raw one if it differs. The scrypt work of a
   * dummy verify is done as well, so a fast legacy scheme (one SHA-1 for {SSHA}) does not
   * make this account's answer quicker than an unknown user's.
   */
  async #verifyLegacy(raw: string, prepared: string, stored: string): Promise<{ ok: boolean; needsRehash: boolean }> {
    const burn = this.#burn(prepared);
    let ok = await verifyLegacyPassword(prepared, stored);
    if (!ok && raw !== prepared) ok = await verifyLegacyPassword(raw, stored);
    await burn;
    return { ok, needsRehash: ok };
  }

  async #burn(prepared: string): Promise<void> {
    const derived = await scryptAsync(prepared, this.#dummySalt, KEY_BYTES, this.params);
    timingSafeEqual(derived, this.#dummyKey);
  }
}
