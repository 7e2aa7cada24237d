// Rules for a password a person chooses (creation, admin reset, self-service change), after
// NIST SP 800-63B §5.1.1.2 "Memorized Secret Verifiers":
//   - length is what matters: at least minLength (default 12; NIST's floor is 8) and at most
//     256 ("SHOULD permit at least 64"), each Unicode code point counted as one character;
//   - no composition rules ("one digit, one symbol"): NIST says verifiers SHOULD NOT impose them;
//   - a blocklist: "passwords obtained from previous breach corpuses", "repetitive or sequential
//     characters" and "context-specific words, such as ... the username, and derivatives
//     thereof". Ours is the 10,000 most common passwords (data/common-passwords.txt, see
//     data/README.md), also padded with digits/punctuation or doubled ("password2024!",
//     "qwertyqwerty": with a 12-character minimum only 10 list entries are long enough to
//     matter on their own), plus runs like "aaaa…"/"abcd…", plus the user's own names.
// Failures are InvalidInputError with a code per reason and a message safe to show the user;
// no message ever repeats the password.
import { readFileSync } from 'node:fs';
import { MAX_PASSWORD_BYTES } from '../crypto/password-hash.js';
import { InvalidInputError } from '../errors.js';

export const DEFAULT_MIN_LENGTH = 12;
/** Code points. 256 × 4 UTF-8 bytes = MAX_PASSWORD_BYTES, so an accepted password always hashes. */
export const MAX_LENGTH = 256;
/** NIST SP 800-63B §5.1.1.2: "at least 8 characters in length". */
const NIST_MIN_LENGTH = 8;
/** As Active Directory's complexity rule: shorter names and name parts are not checked. */
const MIN_NAME_TOKEN = 3;
/** "abcabcabcabc" is predictable; a longer repeated unit is judged by the blocklist instead. */
const MAX_REPEATED_UNIT = 4;
const SEQUENCES = ['0123456789', 'abcdefghijklmnopqrstuvwxyz', 'qwertyuiopasdfghjklzxcvbnm'];

export interface PasswordContext {
  username?: string;
  displayName?: string;
  email?: string;
}

export interface PasswordPolicyOptions {
  /** Default 12. */
  minLength?: number;
  /** Compared case-insensitively; loadCommonPasswords() gives the shipped list. */
  commonPasswords: ReadonlySet<string>;
}

// The same preparation as password-hash.ts (RFC 8265 OpaqueString: non-ASCII spaces to U+0020,
// then NFC), so the length we count is the length of what gets hashed: a decomposed "é" typed
// on one keyboard is one character, as the composed one from another.
const prepare = (s: string): string => s.replace(/\p{Zs}/gu, ' ').normalize('NFC');
const fold = (s: string): string => prepare(s).toLowerCase();

let shipped: ReadonlySet<string> | undefined;

/** The shipped blocklist, lower-cased; read from disk on the first call only. */
export function loadCommonPasswords(): ReadonlySet<string> {
  if (!shipped) {
    // src/directory/ (tsx) and dist/directory/ (tsc) are both two levels below the repo root.
    const text = readFileSync(new URL('../../data/common-passwords.txt', import.meta.url), 'utf8');
    shipped = new Set(text.split(/\r?\n/).filter((line) => line.length > 0).map(fold));
  }
  return shipped;
}

export class PasswordPolicy {
  readonly minLength: number;
  readonly #common: ReadonlySet<string>;

  constructor(opts: PasswordPolicyOptions) {
    const minLength = opts.minLength ?? DEFAULT_MIN_LENGTH;
    if (!Number.isInteger(minLength) || minLength < NIST_MIN_LENGTH || minLength > MAX_LENGTH) {
      throw new RangeError(`minLength must be an integer from ${NIST_MIN_LENGTH} to ${MAX_LENGTH}, got ${minLength}`);
    }
    this.minLength = minLength;
    // Folded here so the comparison is case-insensitive whoever built the set.
    this.#common = opts.commonPasswords === shipped ? shipped : new Set([...opts.commonPasswords].map(fold));
  }

  /** Throws InvalidInputError naming the first rule the password breaks; returns if it is acceptable. */
  check(password: string, context: PasswordContext = {}): void {
    if (typeof password !== 'string') throw invalid('KH_PASSWORD_INVALID', 'The password must be a string.');
    const tooLong = () => invalid('KH_PASSWORD_TOO_LONG', `The password must be at most ${MAX_LENGTH} characters long.`, { maxLength: MAX_LENGTH });
    // Bound the work before normalising: the hasher refuses more UTF-16 units than this anyway.
    if (password.length > MAX_PASSWORD_BYTES) throw tooLong();
    // The hasher refuses these too (outside RFC 8265's FreeformClass); saying so here means a
    // password this policy accepts can always be hashed.
    if (/[\p{Cc}\p{Cs}]/u.test(password)) {
      throw invalid('KH_PASSWORD_INVALID', 'The password contains control characters or invalid Unicode.');
    }
    const prepared = prepare(password);
    const length = [...prepared].length; // code points, not UTF-16 units
    if (length > MAX_LENGTH) throw tooLong();
    if (length < this.minLength) {
      throw invalid('KH_PASSWORD_TOO_SHORT', `The password must be at least ${this.minLength} characters long.`, { minLength: this.minLength });
    }
    const lower = prepared.toLowerCase();
    const { username, email, displayName } = context;
    for (const id of [username, email]) {
      // The part before "@" covers both a UPN/e-mail and the whole of it.
      const local = id === undefined ? '' : fold(id).split('@')[0]!;
      if (local.length >= MIN_NAME_TOKEN && lower.includes(local)) {
        throw invalid('KH_PASSWORD_CONTAINS_USERNAME', 'The password must not contain your user name or e-mail name.');
      }
    }
    // Active Directory's delimiters for display-name tokens: , . - _ # whitespace.
    for (const token of fold(displayName ?? '').split(/[\s,.\-_#]+/u)) {
      if (token.length >= MIN_NAME_TOKEN && lower.includes(token)) {
        throw invalid('KH_PASSWORD_CONTAINS_NAME', 'The password must not contain parts of your name.');
      }
    }
    if (this.#isCommon(lower)) {
      throw invalid('KH_PASSWORD_COMMON', 'This password is one of the most common passwords, or a simple variation of one. Choose another.');
    }
    if (isPredictable(lower)) {
      throw invalid('KH_PASSWORD_PREDICTABLE', 'The password is a repetitive or sequential pattern (like "aaaa…" or "abcd…"). Choose another.');
    }
  }

  #isCommon(lower: string): boolean {
    // Leading/trailing digits and punctuation are the commonest "strengthening" of a weak word.
    const core = lower.replace(/^[^\p{L}]+|[^\p{L}]+$/gu, '');
    return [lower, core, repeatedUnit(lower), repeatedUnit(core)].some((s) => s.length > 0 && this.#common.has(s));
  }
}

/** The shortest u with s = u repeated (s itself when it is no repetition). */
function repeatedUnit(s: string): string {
  const cps = [...s];
  for (let n = 1; n <= cps.length / 2; n++) {
    if (cps.length % n !== 0) continue;
    const unit = cps.slice(0, n).join('');
    if (unit.repeat(cps.length / n) === s) return unit;
  }
  return s;
}

function isPredictable(lower: string): boolean {
  if ([...repeatedUnit(lower)].length <= MAX_REPEATED_UNIT) return true;
  // A run along the digits, the alphabet or a keyboard's letter rows, either way, wrapping round.
  return SEQUENCES.some((seq) => {
    const cyclic = seq.repeat(Math.ceil(lower.length / seq.length) + 1);
    return cyclic.includes(lower) || [...cyclic].reverse().join('').includes(lower);
  });
}

function invalid(code: string, message: string, detail?: Record<string, number>): InvalidInputError {
  return new InvalidInputError(code, message, detail === undefined ? {} : { detail });
}
