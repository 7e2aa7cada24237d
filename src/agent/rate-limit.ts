// Per-caller limits, as IMDS has them (it allows 20 requests per second and 5 at once per VM and
// answers 429 beyond): a token bucket for the rate and a counter for concurrency, per source
// address. Keyhaven's defaults are far higher (a cached token is a map lookup) and configurable.
// Hand-written: @fastify/rate-limit counts per fixed window and has no concurrency limit, and the
// agent must not need a store.
export interface RateLimitOptions {
  /** Sustained requests per second per caller (0: unlimited). */
  ratePerSecond: number;
  /** Requests a caller may send at once above the rate. */
  burst: number;
  /** Requests of one caller in progress at once (0: unlimited). */
  concurrency: number;
  now?: () => number;
  /** Most callers tracked; idle ones are forgotten first. */
  maxCallers?: number;
}

interface Bucket {
  tokens: number;
  at: number;
  active: number;
}

export class CallerLimits {
  readonly #o: Required<RateLimitOptions>;
  readonly #callers = new Map<string, Bucket>();

  constructor(options: RateLimitOptions) {
    this.#o = { now: Date.now, maxCallers: 10_000, ...options };
  }

  /** Admits a request (returns its release), or the seconds to wait before retrying. */
  admit(caller: string): { release: () => void } | { retryAfterSeconds: number } {
    const now = this.#o.now();
    let b = this.#callers.get(caller);
    if (!b) {
      if (this.#callers.size >= this.#o.maxCallers) this.#forgetIdle();
      b = { tokens: this.#o.burst, at: now, active: 0 };
      this.#callers.set(caller, b);
    }
    if (this.#o.ratePerSecond > 0) {
      b.tokens = Math.min(this.#o.burst, b.tokens + ((now - b.at) / 1000) * this.#o.ratePerSecond);
      b.at = now;
      if (b.tokens < 1) return { retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / this.#o.ratePerSecond)) };
    }
    if (this.#o.concurrency > 0 && b.active >= this.#o.concurrency) return { retryAfterSeconds: 1 };
    if (this.#o.ratePerSecond > 0) b.tokens -= 1;
    b.active++;
    let released = false;
    const bucket = b;
    return {
      release: () => {
        if (released) return;
        released = true;
        bucket.active--;
      },
    };
  }

  #forgetIdle(): void {
    for (const [k, b] of this.#callers) {
      if (b.active === 0) this.#callers.delete(k);
      if (this.#callers.size < this.#o.maxCallers / 2) return;
    }
  }
}
