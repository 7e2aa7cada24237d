// The one password hashing module. New hashes are argon2id (RFC 9106) by default, in the PHC
// string format the reference implementation writes
//   $argon2id$v=19$m=19456,t=2,p=1$<salt, base64 without padding>$<key, base64 without padding>
// at the OWASP Password Storage Cheat Sheet's first argon2id row (m = 19 MiB, t = 2, p = 1):
// about 20 ms on a server core against scrypt's ~0.4 s at OWASP's scrypt row, for the same
// defence by OWASP's reckoning, so a class logging in at once is not a minute-long queue.
// scrypt (RFC 7914), `$scrypt$ln=17,r=8,p=1$<salt>$<key>`, is still made when
// `passwordHashAlgorithm` is scrypt, and always verified. Parameters come from config
// (passwordArgon2*, passwordScrypt*), so tests can use cheap ones. A hash made by the other
// algorithm or under other parameters still verifies and is reported as needsRehash, so the
// caller re-hashes it on that user's next successful login (a transparent upgrade when the
// config changes, scrypt → argon2id included).
// A hash imported from another directory (`{SSHA}`, `{CRYPT}$6$…`, …; see
// legacy-password-hash.ts) verifies here too and is always reported as needsRehash, so it is
// replaced by Keyhaven's own at that user's first successful sign-in (DESIGN.md, Security posture).
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { hash as argon2Hash, parseOptions as argon2Parse, verify as argon2Verify } from '@node-rs/argon2';

// @node-rs/argon2's `Algorithm` and `Version` are ambient const enums, which isolated modules
// cannot read: their values (index.d.ts) are spelled here.
const ARGON2ID = 2; // Algorithm.Argon2id
const V0X13 = 1; // Version.V0x13: argon2 version 19
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

export interface Argon2idParams {
  /** Memory in KiB (`m=`). */
  memoryKib: number;
  /** Passes (`t=`). */
  timeCost: number;
  /** Lanes (`p=`). */
  parallelism: number;
}

/** OWASP Password Storage Cheat Sheet: argon2id with m = 19 MiB, t = 2, p = 1. */
export const OWASP_ARGON2ID: Argon2idParams = Object.freeze({ memoryKib: 19456, timeCost: 2, parallelism: 1 });

export type PasswordHashAlgorithm = 'argon2id' | 'scrypt';

export interface PasswordHashOptions {
  /** What new and upgraded hashes are made with (default argon2id). */
  algorithm?: PasswordHashAlgorithm;
  argon2id?: Argon2idParams;
  scrypt?: ScryptParams;
}

/** UTF-8 bytes. Bounds the work one request can cause (scrypt hashes the whole password). */
export const MAX_PASSWORD_BYTES = 1024;

const SALT_BYTES = 16; // OWASP / PHC: at least 16 random bytes
const KEY_BYTES = 32;
// Bounds for parameters, in config and in stored strings alike (config/schema.ts uses the same).
const BOUNDS = { logN: [10, 22], r: [1, 32], p: [1, 16] } as const;
// A stored hash may not make us allocate more than this (or than our own parameters need): the
// per-parameter bounds alone still allow 128 * 2^22 * 32 bytes = 16 GiB.
const MAX_STORED_MEMORY = 2 ** 30;

// Argon2 bounds, in config and in stored strings alike: RFC 9106 §3.1 needs m ≥ 8p.
const ARGON2_BOUNDS = { memoryKib: [64, 1048576], timeCost: [1, 16], parallelism: [1, 16] } as const;
/** A stored argon2 hash may not make us allocate more than this (or than our own parameters need). */
const MAX_STORED_ARGON2_KIB = 256 * 1024;
const ARGON2_PHC = /^\$argon2id\$v=19\$m=\d{1,8},t=\d{1,2},p=\d{1,2}\$[A-Za-z0-9+/]{11,86}\$[A-Za-z0-9+/]{22,86}$/;

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

function argon2Valid(p: Argon2idParams): boolean {
  const inRange = (v: number, [lo, hi]: readonly [number, number]) => Number.isInteger(v) && v >= lo && v <= hi;
  return inRange(p.memoryKib, ARGON2_BOUNDS.memoryKib) && inRange(p.timeCost, ARGON2_BOUNDS.timeCost)
    && inRange(p.parallelism, ARGON2_BOUNDS.parallelism) && p.memoryKib >= 8 * p.parallelism;
}

function argon2Options(p: Argon2idParams, salt?: Buffer) {
  return {
    algorithm: ARGON2ID, version: V0X13, memoryCost: p.memoryKib, timeCost: p.timeCost,
    parallelism: p.parallelism, outputLen: KEY_BYTES, ...(salt ? { salt } : {}),
  };
}

/** Whether a stored string is one of Keyhaven's own argon2id hashes (not an imported `{ARGON2}` one). */
export function isArgon2idHash(stored: unknown): stored is string {
  return typeof stored === 'string' && stored.startsWith('$argon2id$');
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
  readonly algorithm: PasswordHashAlgorithm;
  /** The scrypt parameters (made when the algorithm is scrypt; scrypt hashes verify under their own). */
  readonly params: Readonly<ScryptParams>;
  readonly argon2id: Readonly<Argon2idParams>;
  readonly #maxStoredMemory: number;
  readonly #maxStoredArgon2Kib: number;
  readonly #dummySalt = randomBytes(SALT_BYTES);
  readonly #dummyKey = randomBytes(KEY_BYTES);

  /**
   * `options` as PasswordHashOptions; plain ScryptParams (the older form) mean scrypt with
   * those parameters, so callers that chose scrypt keep it.
   */
  constructor(options: PasswordHashOptions | ScryptParams = {}) {
    const opts: PasswordHashOptions = 'logN' in options ? { algorithm: 'scrypt', scrypt: options } : options;
    const params = opts.scrypt ?? OWASP_SCRYPT;
    const argon2id = opts.argon2id ?? OWASP_ARGON2ID;
    if (!paramsValid(params)) {
      throw new RangeError(`scrypt parameters out of bounds: ${JSON.stringify(params)} (logN 10..22 and < 16*r, r 1..32, p 1..16)`);
    }
    if (!argon2Valid(argon2id)) {
      throw new RangeError(`argon2id parameters out of bounds: ${JSON.stringify(argon2id)} (memoryKib 64..1048576 and >= 8*parallelism, timeCost 1..16, parallelism 1..16)`);
    }
    this.algorithm = opts.algorithm ?? 'argon2id';
    this.params = Object.freeze({ logN: params.logN, r: params.r, p: params.p });
    this.argon2id = Object.freeze({ memoryKib: argon2id.memoryKib, timeCost: argon2id.timeCost, parallelism: argon2id.parallelism });
    this.#maxStoredMemory = Math.max(MAX_STORED_MEMORY, memoryOf(this.params));
    this.#maxStoredArgon2Kib = Math.max(MAX_STORED_ARGON2_KIB, this.argon2id.memoryKib);
  }

  /** A PHC string with a fresh 16-byte salt under the current algorithm and parameters. */
  async hash(password: string): Promise<string> {
    const prepared = prepare(password);
    const salt = randomBytes(SALT_BYTES);
    if (this.algorithm === 'argon2id') return argon2Hash(prepared, argon2Options(this.argon2id, salt));
    const key = await scryptAsync(prepared, salt, KEY_BYTES, this.params);
    const { logN, r, p } = this.params;
    return `$scrypt$ln=${logN},r=${r},p=${p}$${b64(salt)}$${b64(key)}`;
  }

  /**
   * ok: the password matches. needsRehash (only when ok): the stored string differs from what
   * hash() makes now (algorithm, parameters, salt or key length), so the caller should store
   * hash(password). A malformed or out-of-bounds stored string is a mismatch, after the same
   * work as a real verify; it never throws. Only an unacceptable password throws (InvalidInputError).
   */
  async verify(password: string, stored: string): Promise<{ ok: boolean; needsRehash: boolean }> {
    const prepared = prepare(password);
    if (isLegacyHash(stored)) return this.#verifyLegacy(password, prepared, stored);
    if (isArgon2idHash(stored)) return this.#verifyArgon2id(prepared, stored);
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
    const current = this.algorithm === 'scrypt' && parsed.params.logN === logN && parsed.params.r === r && parsed.params.p === p
      && parsed.salt.length === SALT_BYTES && parsed.key.length === KEY_BYTES;
    return { ok, needsRehash: ok && !current };
  }

  /**
   * For an unknown user: the same validation and the same hashing work as verify() under the
   * current algorithm and parameters, then false, so neither the answer nor its timing shows
   * whether the account exists (OWASP Authentication Cheat Sheet).
   */
  async verifyDummy(password: string): Promise<false> {
    await this.#burn(prepare(password));
    return false;
  }

  async #verifyArgon2id(prepared: string, stored: string): Promise<{ ok: boolean; needsRehash: boolean }> {
    let parsed: ReturnType<typeof argon2Parse> | undefined;
    try {
      if (stored.length <= 256 && ARGON2_PHC.test(stored)) parsed = argon2Parse(stored);
    } catch {
      parsed = undefined;
    }
    const inBounds = parsed !== undefined && (parsed.algorithm as number) === ARGON2ID && (parsed.version as number) === V0X13
      && parsed.memoryCost <= this.#maxStoredArgon2Kib
      && argon2Valid({ memoryKib: parsed.memoryCost, timeCost: parsed.timeCost, parallelism: parsed.parallelism })
      && parsed.saltLen >= 8 && parsed.outputLen >= 16;
    if (!parsed || !inBounds) {
      await this.#burn(prepared);
      return { ok: false, needsRehash: false };
    }
    let ok: boolean;
    try {
      ok = await argon2Verify(stored, prepared);
    } catch {
      return { ok: false, needsRehash: false };
    }
    const a = this.argon2id;
    const current = this.algorithm === 'argon2id' && parsed.memoryCost === a.memoryKib && parsed.timeCost === a.timeCost
      && parsed.parallelism === a.parallelism && parsed.saltLen === SALT_BYTES && parsed.outputLen === KEY_BYTES;
    return { ok, needsRehash: ok && !current };
  }

  /**
   * An imported hash: made by another system from the password's UTF-8 bytes as typed, so the
   * prepared (NFC) form is tried first and the raw one if it differs. The hashing work of a
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
    if (this.algorithm === 'argon2id') {
      // Same work as a real verify: derive under the current parameters and compare.
      await argon2Hash(prepared, argon2Options(this.argon2id, this.#dummySalt));
      return;
    }
    const derived = await scryptAsync(prepared, this.#dummySalt, KEY_BYTES, this.params);
    timingSafeEqual(derived, this.#dummyKey);
  }
}
