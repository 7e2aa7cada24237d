// The output masker of `keyhaven run` (issue 13 item 6): every occurrence of a secret value the
// run handed out — and of its base64, base64url, URL-encoded, JSON-escaped and shell-quoted
// forms, and of each line of a multi-line value — becomes `***` in the child's output.
//
// Hand-written because no library fits: string-replace packages work on whole strings, and
// stream-replace packages take one pattern (or a regex over a fixed window) and either hold
// back a whole window or miss matches split across writes. What is needed is a streaming
// multi-pattern, leftmost-longest replace over bytes that holds back only the longest suffix of
// the buffer that may still grow into a pattern, and releases it after a few milliseconds so a
// `\r` progress bar keeps moving. Candidate positions are found by the first byte (a 256-entry
// table of the patterns starting with it, longest first), so ordinary text costs one table
// look-up per byte. Pure: no I/O; the only side effect is the hold-back timer of the stream.
import { Transform, type TransformCallback } from 'node:stream';

/** Values shorter than this are not masked: `***` for every `a` or `42` would mangle output. */
export const MIN_MASKED_LENGTH = 4;
export const MASK = '***';

/** POSIX single-quoting, as `sh` and Python's shlex.quote write it. */
function shellSingleQuoted(v: string): string {
  return `'${v.replace(/'/g, `'\\''`)}'`;
}

/** Backslash-escaping, as bash's `printf %q` writes it for printable text. */
function shellBackslashed(v: string): string {
  return v.replace(/[^A-Za-z0-9_\/.,:@%+=-]/gu, (c) => `\\${c}`);
}

/** Every encoded form of one value (or one line of it). */
function formsOf(v: string): string[] {
  const b64 = Buffer.from(v, 'utf8').toString('base64');
  const b64nl = Buffer.from(`${v}\n`, 'utf8').toString('base64');
  return [
    v,
    b64, b64.replace(/=+$/, ''),
    b64nl, b64nl.replace(/=+$/, ''), // `echo "$S" | base64`
    Buffer.from(v, 'utf8').toString('base64url'),
    encodeURIComponent(v),
    encodeURIComponent(v).replace(/%20/g, '+'), // form encoding
    JSON.stringify(v).slice(1, -1),
    JSON.stringify(v).slice(1, -1).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`), // Python's json.dumps
    shellSingleQuoted(v), shellSingleQuoted(v).slice(1, -1), shellBackslashed(v),
  ];
}

export interface MaskPlan {
  /** The byte patterns to replace. */
  patterns: Buffer[];
  /** Names of the secrets left unmasked because their value is too short. */
  tooShort: string[];
}

/** The patterns for named secret values; names are only reported, never matched. */
export function planMasks(secrets: ReadonlyArray<{ name: string; value: string }>): MaskPlan {
  const seen = new Set<string>();
  const tooShort: string[] = [];
  for (const { name, value } of secrets) {
    if ([...value].length < MIN_MASKED_LENGTH) {
      tooShort.push(name);
      continue;
    }
    const parts = [value, ...value.split(/\r?\n/).filter((l) => [...l].length >= MIN_MASKED_LENGTH)];
    for (const p of parts) for (const f of formsOf(p)) if (f.length >= MIN_MASKED_LENGTH) seen.add(f);
  }
  return { patterns: [...seen].map((s) => Buffer.from(s, 'utf8')), tooShort };
}

/**
 * The streaming replace. `push(chunk)` answers the bytes that are settled; what may still be the
 * start of a pattern stays inside until more data or `flush()`.
 */
export class SecretMasker {
  readonly #byFirst: Array<Buffer[] | undefined> = new Array(256);
  readonly #mask: Buffer = Buffer.from(MASK);
  #pending: Buffer = Buffer.alloc(0);

  constructor(patterns: readonly Buffer[]) {
    for (const p of patterns) {
      if (p.length === 0) continue;
      (this.#byFirst[p[0]!] ??= []).push(p);
    }
    for (const list of this.#byFirst) list?.sort((a, b) => b.length - a.length);
  }

  /** Bytes held back now (at most the longest pattern minus one). */
  get pendingLength(): number {
    return this.#pending.length;
  }

  push(chunk: Buffer): Buffer {
    const buf = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    return this.#scan(buf, false);
  }

  /** Everything held back, with patterns that cannot complete left as they are. */
  flush(): Buffer {
    const buf = this.#pending;
    this.#pending = Buffer.alloc(0);
    return this.#scan(buf, true);
  }

  #scan(buf: Buffer, final: boolean): Buffer {
    const out: Buffer[] = [];
    let from = 0; // start of the not-yet-emitted plain run
    let i = 0;
    while (i < buf.length) {
      const candidates = this.#byFirst[buf[i]!];
      if (candidates === undefined) {
        i++;
        continue;
      }
      let matched = 0;
      let partial = false;
      for (const p of candidates) {
        const avail = buf.length - i;
        if (avail >= p.length) {
          if (buf.compare(p, 0, p.length, i, i + p.length) === 0) {
            matched = p.length; // longest first: the first full match is the longest
            break;
          }
        } else if (!final && buf.compare(p, 0, avail, i, buf.length) === 0) {
          // A longer pattern may still complete here: decide when more bytes come.
          partial = true;
          break;
        }
      }
      if (partial) break;
      if (matched > 0) {
        if (i > from) out.push(buf.subarray(from, i));
        out.push(this.#mask);
        i += matched;
        from = i;
      } else {
        i++;
      }
    }
    if (i < buf.length) {
      // Held back from i: the earliest position whose remainder is a prefix of a pattern, so the
      // longest such suffix.
      if (i > from) out.push(buf.subarray(from, i));
      this.#pending = Buffer.from(buf.subarray(i));
    } else {
      if (buf.length > from) out.push(buf.subarray(from));
      this.#pending = Buffer.alloc(0);
    }
    return out.length === 1 ? Buffer.from(out[0]!) : Buffer.concat(out);
  }
}

/** How long a possible prefix of a secret is held back when no more data comes. */
export const HOLD_BACK_MS = 5;

/** A Transform over a child's output stream that masks with `patterns`. */
export function createMaskingStream(patterns: readonly Buffer[], holdBackMs = HOLD_BACK_MS): Transform {
  const masker = new SecretMasker(patterns);
  let timer: NodeJS.Timeout | undefined;
  const stream: Transform = new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      const out = masker.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      if (out.length > 0) stream.push(out);
      if (masker.pendingLength > 0) {
        timer = setTimeout(() => {
          timer = undefined;
          const rest = masker.flush();
          if (rest.length > 0) stream.push(rest);
        }, holdBackMs);
      }
      done();
    },
    flush(done: TransformCallback) {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      const rest = masker.flush();
      if (rest.length > 0) stream.push(rest);
      done();
    },
  });
  return stream;
}
