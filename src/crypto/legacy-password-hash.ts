// Password hashes imported from another directory (an LDIF `userPassword`), verified at sign-in
// and then replaced by Keyhaven's own scrypt hash (DESIGN.md, "Security posture": imported
// hashes are kept only until that user's first successful bind). Only verification lives here:
// Keyhaven never makes any of these hashes.
//
// Schemes, as OpenLDAP writes them (RFC 2307 `{SCHEME}` prefix):
//   {SSHA} {SSHA256} {SSHA512}  base64(digest(password ‖ salt) ‖ salt)       (slapd pw-sha2)
//   {CRYPT}$5$… {CRYPT}$6$…     SHA-crypt, Ulrich Drepper's "Unix crypt using SHA-256 and
//                               SHA-512" (glibc crypt(3)); implemented here on node:crypto
//   {CRYPT}$2a$/$2b$/$2y$…      bcrypt, through bcryptjs (pure JavaScript)
//   {PBKDF2-SHA512}N$salt$hash  OpenLDAP contrib pw-pbkdf2: adapted base64 ('.' for '+', no
//                               padding), iterations N, dkLen = the stored hash's length
//   {ARGON2}$argon2id$v=19$…    OpenLDAP pw-argon2: a PHC string, through @node-rs/argon2
//
// Every comparison is constant-time (timingSafeEqual, or the library's own). A malformed or
// unsupported stored value, and parameters beyond the bounds below (so that one stored hash
// cannot make a sign-in burn minutes of CPU or gigabytes of memory), verify false; nothing
// here throws on bad input.
import { createHash, pbkdf2, timingSafeEqual } from 'node:crypto';

/** SHA-crypt rounds beyond this verify false (glibc's default is 5000; its maximum 999,999,999). */
const MAX_SHACRYPT_ROUNDS = 2_000_000;
const MAX_PBKDF2_ITERATIONS = 5_000_000;
/** Argon2 memory in KiB (256 MiB) and passes. */
const MAX_ARGON2_MEMORY_KIB = 256 * 1024;
const MAX_ARGON2_PASSES = 16;
const MAX_STORED_LENGTH = 1024;

export type LegacyScheme = 'SSHA' | 'SSHA256' | 'SSHA512' | 'CRYPT-SHA256' | 'CRYPT-SHA512' | 'CRYPT-BCRYPT' | 'PBKDF2-SHA512' | 'ARGON2';

const SSHA_DIGESTS = { SSHA: ['sha1', 20], SSHA256: ['sha256', 32], SSHA512: ['sha512', 64] } as const;

/** Whether a stored value is in `{SCHEME}` form at all (Keyhaven's own hashes start with '$'). */
export function isLegacyHash(stored: unknown): stored is string {
  return typeof stored === 'string' && stored.startsWith('{');
}

/**
 * The scheme of a stored value, or undefined when it is not one this module can verify (an
 * unknown scheme, a malformed value, parameters out of bounds). The LDIF import uses it to
 * refuse, with a line number, a hash that could never be verified.
 */
export function legacyScheme(stored: unknown): LegacyScheme | undefined {
  return parseLegacy(stored)?.scheme;
}

/** Whether `password` (UTF-8) matches the stored legacy hash. Never throws. */
export async function verifyLegacyPassword(password: string, stored: string): Promise<boolean> {
  try {
    const parsed = parseLegacy(stored);
    if (!parsed || typeof password !== 'string') return false;
    return await parsed.verify(Buffer.from(password, 'utf8'));
  } catch {
    return false;
  }
}

interface Parsed {
  scheme: LegacyScheme;
  verify(password: Buffer): Promise<boolean>;
}

function parseLegacy(stored: unknown): Parsed | undefined {
  if (typeof stored !== 'string' || stored.length > MAX_STORED_LENGTH) return undefined;
  const m = /^\{([A-Za-z0-9-]+)\}(.+)$/s.exec(stored);
  if (!m) return undefined;
  const scheme = m[1]!.toUpperCase();
  const rest = m[2]!;
  switch (scheme) {
    case 'SSHA':
    case 'SSHA256':
    case 'SSHA512':
      return parseSsha(scheme, rest);
    case 'CRYPT':
      if (rest.startsWith('$5$') || rest.startsWith('$6$')) return parseShaCrypt(rest);
      if (/^\$2[aby]\$/.test(rest)) return parseBcrypt(rest);
      return undefined;
    case 'PBKDF2-SHA512':
      return parsePbkdf2(rest);
    case 'ARGON2':
      return parseArgon2(rest);
    default:
      return undefined;
  }
}

function equal(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Strict standard base64 (padding optional): undefined unless it re-encodes to the same text. */
function strictBase64(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  const buf = Buffer.from(text, 'base64');
  const again = buf.toString('base64');
  return again === text || again.replace(/=+$/, '') === text ? buf : undefined;
}

// ---- {SSHA}, {SSHA256}, {SSHA512} ----------------------------------------------------------

function parseSsha(scheme: 'SSHA' | 'SSHA256' | 'SSHA512', rest: string): Parsed | undefined {
  const [algorithm, size] = SSHA_DIGESTS[scheme];
  const raw = strictBase64(rest);
  // slapd uses 4- or 8-byte salts; other tools longer ones. A salt is required ("S").
  if (!raw || raw.length <= size || raw.length > size + 64) return undefined;
  const digest = raw.subarray(0, size);
  const salt = raw.subarray(size);
  return {
    scheme,
    verify: async (password) => equal(createHash(algorithm).update(password).update(salt).digest(), digest),
  };
}

// ---- SHA-crypt ($5$ / $6$), Drepper's specification ----------------------------------------

const CRYPT_ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function parseShaCrypt(rest: string): Parsed | undefined {
  const m = /^\$([56])\$(?:rounds=([0-9]{1,10})\$)?([^$:\n]{0,16})\$([./0-9A-Za-z]+)$/.exec(rest);
  if (!m) return undefined;
  const sha512 = m[1] === '6';
  const hashText = m[4]!;
  if (hashText.length !== (sha512 ? 86 : 43)) return undefined;
  let rounds = 5000;
  if (m[2] !== undefined) {
    // glibc clamps to [1000, 999999999]; a stored value outside that was not made by crypt(3).
    rounds = Number(m[2]);
    if (rounds < 1000 || rounds > 999_999_999) return undefined;
  }
  if (rounds > MAX_SHACRYPT_ROUNDS) return undefined;
  const salt = Buffer.from(m[3]!, 'utf8');
  if (salt.length > 16) return undefined;
  return {
    scheme: sha512 ? 'CRYPT-SHA512' : 'CRYPT-SHA256',
    verify: async (password) => equal(Buffer.from(shaCryptHash(sha512, password, salt, rounds), 'latin1'), Buffer.from(hashText, 'latin1')),
  };
}

/** The encoded hash part (after the last '$') of SHA-crypt, per Drepper's steps. Exported for tests. */
export function shaCryptHash(sha512: boolean, key: Buffer, salt: Buffer, rounds: number): string {
  const algorithm = sha512 ? 'sha512' : 'sha256';
  const H = (...parts: Buffer[]) => {
    const h = createHash(algorithm);
    for (const p of parts) h.update(p);
    return h.digest();
  };
  /** `block` repeated to exactly `length` bytes. */
  const repeat = (block: Buffer, length: number) => {
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i += block.length) block.copy(out, i, 0, Math.min(block.length, length - i));
    return out;
  };
  // Steps 4-8: digest B.
  const B = H(key, salt, key);
  // Steps 1-3, 9-12: digest A.
  const a = createHash(algorithm).update(key).update(salt);
  a.update(repeat(B, key.length));
  for (let n = key.length; n > 0; n >>= 1) a.update(n & 1 ? B : key);
  const A = a.digest();
  // Steps 13-16: P from DP.
  const dp = createHash(algorithm);
  for (let i = 0; i < key.length; i++) dp.update(key);
  const P = repeat(dp.digest(), key.length);
  // Steps 17-20: S from DS.
  const ds = createHash(algorithm);
  for (let i = 0; i < 16 + A[0]!; i++) ds.update(salt);
  const S = repeat(ds.digest(), salt.length);
  // Step 21: the rounds.
  let C = A;
  for (let i = 0; i < rounds; i++) {
    const c = createHash(algorithm);
    c.update(i & 1 ? P : C);
    if (i % 3 !== 0) c.update(S);
    if (i % 7 !== 0) c.update(P);
    c.update(i & 1 ? C : P);
    C = c.digest();
  }
  // Step 22: the byte order of the final encoding.
  let out = '';
  const emit = (b2: number, b1: number, b0: number, n: number) => {
    let w = (b2 << 16) | (b1 << 8) | b0;
    for (let i = 0; i < n; i++) {
      out += CRYPT_ALPHABET[w & 0x3f];
      w >>= 6;
    }
  };
  if (sha512) {
    for (let k = 0; k < 21; k++) {
      const i = (k * 22) % 63;
      emit(C[i]!, C[(i + 21) % 63]!, C[(i + 42) % 63]!, 4);
    }
    emit(0, 0, C[63]!, 2);
  } else {
    for (let k = 0; k < 10; k++) {
      const i = (k * 21) % 30;
      emit(C[i]!, C[(i + 10) % 30]!, C[(i + 20) % 30]!, 4);
    }
    emit(0, C[31]!, C[30]!, 3);
  }
  return out;
}

// ---- bcrypt ---------------------------------------------------------------------------------

function parseBcrypt(rest: string): Parsed | undefined {
  const m = /^\$2([aby])\$(\d\d)\$[./A-Za-z0-9]{53}$/.exec(rest);
  if (!m) return undefined;
  const cost = Number(m[2]);
  if (cost < 4 || cost > 16) return undefined;
  // $2y$ (PHP's name) and $2b$ are the same algorithm; bcryptjs knows $2a$ and $2b$.
  const normalised = m[1] === 'y' ? `$2b$${rest.slice(4)}` : rest;
  return {
    scheme: 'CRYPT-BCRYPT',
    verify: async (password) => {
      const { default: bcrypt } = await import('bcryptjs');
      // bcrypt reads at most 72 bytes; bcryptjs takes a string and encodes it as UTF-8 itself.
      return bcrypt.compare(password.toString('utf8'), normalised);
    },
  };
}

// ---- {PBKDF2-SHA512} (OpenLDAP contrib pw-pbkdf2) -------------------------------------------

/** Adapted base64 (passlib's ab64): '.' instead of '+', no padding. */
function fromAdaptedBase64(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9./]+$/.test(text) || text.length % 4 === 1) return undefined;
  return Buffer.from(text.replace(/\./g, '+'), 'base64');
}

function parsePbkdf2(rest: string): Parsed | undefined {
  const m = /^([1-9][0-9]{0,9})\$([A-Za-z0-9./]+)\$([A-Za-z0-9./]+)$/.exec(rest);
  if (!m) return undefined;
  const iterations = Number(m[1]);
  if (iterations > MAX_PBKDF2_ITERATIONS) return undefined;
  const salt = fromAdaptedBase64(m[2]!);
  const hash = fromAdaptedBase64(m[3]!);
  if (!salt || !hash || salt.length < 4 || salt.length > 256 || hash.length < 16 || hash.length > 64) return undefined;
  return {
    scheme: 'PBKDF2-SHA512',
    verify: (password) =>
      new Promise((resolve) => {
        pbkdf2(password, salt, iterations, hash.length, 'sha512', (err, derived) => resolve(!err && equal(derived, hash)));
      }),
  };
}

// ---- {ARGON2} (OpenLDAP pw-argon2: a PHC string) ---------------------------------------------

function parseArgon2(rest: string): Parsed | undefined {
  const m = /^\$argon2(id|i|d)\$(?:v=(16|19)\$)?m=(\d{1,8}),t=(\d{1,3}),p=(\d{1,3})\$([A-Za-z0-9+/]{8,}={0,2})\$([A-Za-z0-9+/]{16,}={0,2})$/.exec(rest);
  if (!m) return undefined;
  const memory = Number(m[3]);
  const passes = Number(m[4]);
  const lanes = Number(m[5]);
  if (memory < 8 * lanes || memory > MAX_ARGON2_MEMORY_KIB || passes < 1 || passes > MAX_ARGON2_PASSES || lanes < 1 || lanes > 16) return undefined;
  return {
    scheme: 'ARGON2',
    verify: async (password) => {
      const { verify } = await import('@node-rs/argon2');
      return verify(rest, password);
    },
  };
}
