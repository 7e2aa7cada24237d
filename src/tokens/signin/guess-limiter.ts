// Rate limiting of wrong user-code guesses on the device page (RFC 8628 §5.1: "the
// authorization server SHOULD implement rate limiting"). Wrong guesses are counted per source
// address in a fixed window; past `maxGuesses` the source is refused until the window ends.
// A right guess does not reset the count — anyone can make valid user codes of their own, so
// a reset would let a guesser interleave them. Kept in the login throttle's store (shared by
// replicas on PostgreSQL).
import { ThrottledError } from '../../errors.js';

/** The slice of the login throttle's store (src/directory/login-throttle.ts) this needs. */
export interface GuessStore {
  update(key: string, fn: (current: { failures: number; lockedUntil: number; windowEnds?: number } | undefined) => { entry: { failures: number; lockedUntil: number; windowEnds?: number }; expiresAt: number } | null | undefined): Promise<void>;
  get(key: string): Promise<{ failures: number; lockedUntil: number; windowEnds?: number } | undefined>;
}

export interface GuessLimiterOptions {
  store: GuessStore;
  maxGuesses: number;
  windowSeconds: number;
  now?: () => number;
}

export class GuessLimiter {
  readonly #o: GuessLimiterOptions;
  readonly #now: () => number;

  constructor(options: GuessLimiterOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /** Throws ThrottledError while `source` has used up its wrong guesses. */
  async check(source: string): Promise<void> {
    const entry = await this.#o.store.get(key(source));
    const now = this.#now();
    if (entry && (entry.windowEnds ?? 0) > now && entry.failures >= this.#o.maxGuesses) {
      const retryAfterSeconds = Math.max(1, Math.ceil((entry.windowEnds! - now) / 1000));
      throw new ThrottledError('KH_USER_CODE_THROTTLED', `Too many wrong codes from this address; try again in ${retryAfterSeconds} seconds.`, { retryAfterSeconds });
    }
  }

  async wrong(source: string): Promise<void> {
    await this.#o.store.update(key(source), (current) => {
      const now = this.#now();
      const fresh = !current || (current.windowEnds ?? 0) <= now;
      const windowEnds = fresh ? now + this.#o.windowSeconds * 1000 : current.windowEnds!;
      return { entry: { failures: (fresh ? 0 : current.failures) + 1, lockedUntil: 0, windowEnds }, expiresAt: windowEnds };
    });
  }
}

function key(source: string): string {
  return `devguess:${source}`;
}
