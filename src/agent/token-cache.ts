// The agent's tokens, per identity and resource (issue 11 item 4):
//
//  - a hit is served with no round trip until `refreshMarginSeconds` (5 minutes, as MSAL
//    refreshes) before its expiry;
//  - concurrent misses for the same identity and resource share one upstream request;
//  - when the server cannot be reached, an upstream request is retried with exponential
//    backoff and full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"), and a
//    cached token that has not expired yet is served meanwhile — a machine keeps working through
//    a server restart;
//  - a refusal by the server (identity not assigned, machine revoked) is passed on as it is;
//    a cached token is still served until it expires (it was valid when issued and the server
//    checks revocation itself), never after.
// Time is the injected clock's (seconds are the wire's unit: expires_on).
import { ImdsError, IMDS_ERRORS } from './imds-errors.js';
import { selectorKey, type IdentitySelector } from './identity-selector.js';

export interface IssuedToken {
  accessToken: string;
  /** Epoch seconds. */
  expiresOn: number;
  /** Epoch seconds. */
  notBefore: number;
  /** The identity's client id (appId), as IMDS answers it. */
  clientId: string;
  resource: string;
}

/** The server side of the agent: a token for one of this machine's identities. */
export interface TokenUpstream {
  /**
   * Throws ImdsError for a definite answer the caller should see (identity not found: 400,
   * refused: 403); anything else (a connection error, a 5xx) counts as "unreachable" and is retried.
   */
  token(identity: IdentitySelector, resource: string): Promise<IssuedToken>;
}

export interface TokenCacheOptions {
  upstream: TokenUpstream;
  now?: () => number;
  refreshMarginSeconds?: number;
  /** Upstream attempts per miss while the server is unreachable (default 3). */
  attempts?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Most cached tokens (identities × resources); the soonest to expire go first beyond it. */
  maxEntries?: number;
}

export class TokenCache {
  readonly #o: Required<Omit<TokenCacheOptions, 'upstream'>> & { upstream: TokenUpstream };
  readonly #tokens = new Map<string, IssuedToken>();
  readonly #inflight = new Map<string, Promise<IssuedToken>>();
  #upstreamRequests = 0;

  constructor(options: TokenCacheOptions) {
    this.#o = {
      now: Date.now, refreshMarginSeconds: 300, attempts: 3, retryBaseMs: 200, retryMaxMs: 5000, random: Math.random,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)), maxEntries: 10_000, ...options,
    };
  }

  /** Tokens held (for `keyhaven agent status`). */
  get size(): number {
    return this.#tokens.size;
  }

  /** Requests sent to the server so far. */
  get upstreamRequests(): number {
    return this.#upstreamRequests;
  }

  /** The identities (selector keys) with a cached token. */
  identities(): string[] {
    return [...new Set([...this.#tokens.keys()].map((k) => k.slice(0, k.indexOf('\n'))))];
  }

  async get(identity: IdentitySelector, resource: string): Promise<IssuedToken> {
    const key = `${selectorKey(identity)}\n${resource}`;
    const nowS = this.#o.now() / 1000;
    const cached = this.#tokens.get(key);
    if (cached && nowS < cached.expiresOn - this.#o.refreshMarginSeconds) return cached;
    let pending = this.#inflight.get(key);
    if (!pending) {
      pending = this.#fetch(key, identity, resource).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, pending);
    }
    try {
      return await pending;
    } catch (err) {
      // Still valid (within its margin): better than no token while the server is away or
      // refuses. Checked again now, after the wait.
      const still = this.#tokens.get(key);
      if (still && this.#o.now() / 1000 < still.expiresOn - 10) return still;
      if (still) this.#tokens.delete(key);
      throw err;
    }
  }

  async #fetch(key: string, identity: IdentitySelector, resource: string): Promise<IssuedToken> {
    for (let attempt = 1; ; attempt++) {
      try {
        this.#upstreamRequests++;
        const token = await this.#o.upstream.token(identity, resource);
        this.#store(key, token);
        return token;
      } catch (err) {
        if (err instanceof ImdsError) throw err;
        // Unreachable: serve a cached token at once rather than keep the caller waiting.
        const cached = this.#tokens.get(key);
        if ((cached && this.#o.now() / 1000 < cached.expiresOn - 10) || attempt >= this.#o.attempts) {
          throw IMDS_ERRORS.unavailable();
        }
        const cap = Math.min(this.#o.retryMaxMs, this.#o.retryBaseMs * 2 ** (attempt - 1));
        await this.#o.sleep(Math.floor(this.#o.random() * cap));
      }
    }
  }

  #store(key: string, token: IssuedToken): void {
    this.#tokens.delete(key);
    this.#tokens.set(key, token);
    if (this.#tokens.size <= this.#o.maxEntries) return;
    const nowS = this.#o.now() / 1000;
    for (const [k, t] of this.#tokens) if (t.expiresOn <= nowS) this.#tokens.delete(k);
    // Still too many: the oldest stored go first (Map keeps insertion order).
    for (const k of this.#tokens.keys()) {
      if (this.#tokens.size <= this.#o.maxEntries) break;
      this.#tokens.delete(k);
    }
  }
}
