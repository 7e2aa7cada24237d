// Throttling of password guesses: the one module every password-checking path (the token
// endpoint's password grant, LDAP simple bind) goes through. NIST SP 800-63B §5.2.2 requires
// rate limiting failed attempts per account; it names a waiting period that grows with each
// failure and allow-listed source addresses among the ways to do it. Two guards:
//
//  - Per account: after `threshold` consecutive failures the account is locked for `baseDelay`,
//    doubling with each further failure up to `maxDelay`. While locked even the right password
//    is refused (otherwise the lock would only slow the attacker's *confirmation*). A success
//    resets the count. Failures are forgotten `failureMemory` after the last one. The lock is
//    temporary by design: a permanent one would let anyone lock anyone out.
//  - Per source address, against password spraying (one or two guesses at many accounts, each
//    staying under the account threshold): once `sourceThreshold` distinct accounts have failed
//    from one source within `sourceWindow`, that source is refused until the window ends. It
//    counts distinct accounts, so one user mistyping their own password from a shared host
//    (JupyterHub, SSSD) never slows that host for anyone else, and it never locks the accounts
//    themselves. Configured trusted sources skip this guard (never the account guard).
//
// Accounts are keyed by the name as typed (NFKC, lower-cased), never by whether it exists, so
// an unknown user is throttled exactly like a known one and a lock reveals nothing. Callers
// pass the typed name, not a looked-up id: keying known users by id would let "bob" vs
// "bob@domain" show which names are real. IPv6 sources are keyed by their /64, the block one
// host usually holds; IPv4-mapped IPv6 addresses count as the IPv4 address.
//
// begin() counts the attempt as a failure at once (pessimistically) and succeeded() undoes it:
// so a burst of parallel guesses cannot all pass the check before any failure is recorded, and
// an attempt whose outcome is never reported (a crash, a forgotten call) errs on the safe side.
import { createHash } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import { StartupError, ThrottledError } from '../errors.js';

/** What the throttle keeps per key. Plain JSON, so a shared (SQL) store can hold it. */
export interface ThrottleEntry {
  /** Account: consecutive failures (attempts in flight included). Unused for a source. */
  failures: number;
  /** Epoch ms before which attempts are refused; 0 when not locked. */
  lockedUntil: number;
  /** Source: hashed keys of the distinct accounts that failed from it in this window. */
  accounts?: string[];
  /** Source: epoch ms at which the current window ends. */
  windowEnds?: number;
}

/** A new entry and when the store may forget it; null deletes the key; undefined leaves it. */
export type ThrottleUpdate = { entry: ThrottleEntry; expiresAt: number } | null | undefined;

export interface ThrottleStore {
  /** The live entry, or undefined when absent or expired. */
  get(key: string): Promise<ThrottleEntry | undefined>;
  /**
   * Atomically: read the live entry, apply `fn`, write its answer. `fn` is synchronous and pure
   * (a store that retries a transaction may call it again); atomicity is what stops concurrent
   * failures from being counted once.
   */
  update(key: string, fn: (current: ThrottleEntry | undefined) => ThrottleUpdate): Promise<void>;
}

/**
 * One process's store, bounded: past `maxEntries` the least recently written entries are
 * evicted, so a flood of random usernames costs memory up to that bound and no more. The price
 * is that such a flood (over the per-source guard, so from many addresses) can evict a lock
 * early; a store shared by all replicas (SQL) has room for every key it is given.
 */
export class MemoryThrottleStore implements ThrottleStore {
  readonly #entries = new Map<string, { entry: ThrottleEntry; expiresAt: number }>();
  readonly #maxEntries: number;
  readonly #clock: () => number;

  constructor(opts: { maxEntries?: number } = {}, clock: () => number = Date.now) {
    this.#maxEntries = opts.maxEntries ?? 100_000;
    if (!Number.isInteger(this.#maxEntries) || this.#maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
    this.#clock = clock;
  }

  get size(): number {
    return this.#entries.size;
  }

  async get(key: string): Promise<ThrottleEntry | undefined> {
    return this.#live(key);
  }

  async update(key: string, fn: (current: ThrottleEntry | undefined) => ThrottleUpdate): Promise<void> {
    const next = fn(this.#live(key)); // no await between read and write: atomic in one process
    if (next === undefined) return;
    this.#entries.delete(key); // re-inserting moves the key to the newest end of the Map's order
    if (next === null || next.expiresAt <= this.#clock()) return;
    this.#entries.set(key, { entry: structuredClone(next.entry), expiresAt: next.expiresAt });
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.#maxEntries) break;
      this.#entries.delete(oldest);
    }
  }

  #live(key: string): ThrottleEntry | undefined {
    const found = this.#entries.get(key);
    if (found && found.expiresAt <= this.#clock()) this.#entries.delete(key);
    return found && found.expiresAt > this.#clock() ? structuredClone(found.entry) : undefined;
  }
}

export interface LoginThrottleOptions {
  /** Consecutive failures before the first lock. Default 5. */
  threshold?: number;
  /** The first lock's length. Default 30 s. */
  baseDelaySeconds?: number;
  /** Locks double up to this. Default 15 min. */
  maxDelaySeconds?: number;
  /** An account's failures are forgotten this long after its last one. Default 24 h. */
  failureMemorySeconds?: number;
  /** Distinct failing accounts per window that get a source refused. Default 20. */
  sourceThreshold?: number;
  /** Default 10 min. */
  sourceWindowSeconds?: number;
  /** IP addresses or CIDR blocks (IPv4 or IPv6) exempt from the per-source guard. */
  trustedSources?: readonly string[];
}

/** The outcome of one password check, to be reported exactly once. */
export interface LoginAttempt {
  /** The password was right: clears the account's failures. */
  succeeded(): Promise<void>;
  /** The password was wrong (or the user unknown). begin() already counted it against the account; this counts it against the source too. */
  failed(): Promise<void>;
}

export class LoginThrottle {
  readonly #store: ThrottleStore;
  readonly #clock: () => number;
  readonly #o: Required<Omit<LoginThrottleOptions, 'trustedSources'>>;
  readonly #trusted = new BlockList();

  constructor(store: ThrottleStore, opts: LoginThrottleOptions = {}, clock: () => number = Date.now) {
    this.#store = store;
    this.#clock = clock;
    this.#o = {
      threshold: opts.threshold ?? 5,
      baseDelaySeconds: opts.baseDelaySeconds ?? 30,
      maxDelaySeconds: opts.maxDelaySeconds ?? 900,
      failureMemorySeconds: opts.failureMemorySeconds ?? 86_400,
      sourceThreshold: opts.sourceThreshold ?? 20,
      sourceWindowSeconds: opts.sourceWindowSeconds ?? 600,
    };
    for (const [name, value] of Object.entries(this.#o)) {
      if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
    }
    if (this.#o.maxDelaySeconds < this.#o.baseDelaySeconds) throw new RangeError('maxDelaySeconds must be at least baseDelaySeconds');
    for (const spec of opts.trustedSources ?? []) addTrusted(this.#trusted, spec);
  }

  /** Whether `source` is exempt from the per-source guard. */
  isTrusted(source: string): boolean {
    const address = source.replace(/%.*$/, ''); // an IPv6 zone id ("fe80::1%eth0") is no part of the address
    const family = isIP(address);
    return family !== 0 && this.#trusted.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }

  /**
   * Call before checking a password, for known and unknown users alike. Throws ThrottledError
   * (retryAfterSeconds set) when the source or the account is refused for now; otherwise the
   * attempt is counted as an account failure until its succeeded() is called (so parallel wrong
   * guesses cannot outrun the lock); failed() also counts it against the source.
   */
  async begin(account: string, source: string): Promise<LoginAttempt> {
    const accountKey = `acct:${digest(account.normalize('NFKC').toLowerCase())}`;
    const member = accountKey.slice(5, 21); // enough to tell accounts apart within one window
    const sourceKey = this.isTrusted(source) ? undefined : `src:${sourceId(source)}`;
    if (sourceKey) {
      const refusedUntil = await this.#sourceRefusedUntil(sourceKey);
      if (refusedUntil > 0) throw this.#refusal('KH_SOURCE_THROTTLED', 'from this address', refusedUntil);
    }
    const lockedUntil = await this.#reserveAccount(accountKey);
    if (lockedUntil > 0) throw this.#refusal('KH_ACCOUNT_LOCKED', 'for this account', lockedUntil);
    let settled = false;
    return {
      succeeded: async () => {
        if (settled) return;
        settled = true;
        await this.#store.update(accountKey, () => null);
        // A user who mistyped and then got it right is no sign of spraying.
        if (sourceKey) await this.#releaseSource(sourceKey, member);
      },
      // The source guard counts only confirmed failures: a host signing in many users at
      // once (JupyterHub, SSSD) with right passwords must never trip it.
      failed: async () => {
        if (settled) return;
        settled = true;
        if (sourceKey) await this.#addSourceFailure(sourceKey, member);
      },
    };
  }

  /** Returns the lock's end if the account is locked (nothing counted), else 0 after counting a failure. */
  async #reserveAccount(key: string): Promise<number> {
    let refusedUntil = 0;
    await this.#store.update(key, (current) => {
      const now = this.#clock();
      refusedUntil = 0;
      if (current && current.lockedUntil > now) {
        refusedUntil = current.lockedUntil;
        return undefined;
      }
      const failures = (current?.failures ?? 0) + 1;
      const { threshold, baseDelaySeconds, maxDelaySeconds, failureMemorySeconds } = this.#o;
      const over = failures - threshold;
      // 2 ** over overflows to Infinity after ~1000 failures; Math.min still gives maxDelay.
      const lockedUntil = over < 0 ? 0 : now + 1000 * Math.min(maxDelaySeconds, baseDelaySeconds * 2 ** over);
      return { entry: { failures, lockedUntil }, expiresAt: Math.max(now, lockedUntil) + 1000 * failureMemorySeconds };
    });
    return refusedUntil;
  }

  /** The window's end if this source has failed for too many distinct accounts, else 0. */
  async #sourceRefusedUntil(key: string): Promise<number> {
    const current = await this.#store.get(key);
    const now = this.#clock();
    if (!current || (current.windowEnds ?? 0) <= now) return 0;
    return (current.accounts?.length ?? 0) >= this.#o.sourceThreshold ? current.windowEnds! : 0;
  }

  /** Counts a confirmed failure of `member` (a distinct account) against the source's window. */
  async #addSourceFailure(key: string, member: string): Promise<void> {
    await this.#store.update(key, (current) => {
      const now = this.#clock();
      const fresh = !current || (current.windowEnds ?? 0) <= now;
      const accounts = fresh ? [] : (current.accounts ?? []);
      // Another failure of an account already counted here is the account guard's business.
      if (accounts.includes(member)) return undefined;
      const windowEnds = fresh ? now + 1000 * this.#o.sourceWindowSeconds : current.windowEnds!;
      const entry: ThrottleEntry = { failures: 0, lockedUntil: 0, accounts: [...accounts, member], windowEnds };
      return { entry, expiresAt: windowEnds };
    });
  }

  async #releaseSource(key: string, member: string): Promise<void> {
    await this.#store.update(key, (current) => {
      if (!current?.accounts?.includes(member)) return undefined;
      const entry = { ...current, accounts: current.accounts.filter((m) => m !== member) };
      return { entry, expiresAt: current.windowEnds ?? this.#clock() };
    });
  }

  #refusal(code: string, what: string, until: number): ThrottledError {
    const retryAfterSeconds = Math.max(1, Math.ceil((until - this.#clock()) / 1000));
    return new ThrottledError(code, `Too many failed sign-in attempts ${what}. Try again in ${retryAfterSeconds} seconds.`, { retryAfterSeconds });
  }
}

function addTrusted(list: BlockList, spec: string): void {
  const [address = '', prefix, extra] = spec.trim().split('/');
  const family = isIP(address);
  const bits = Number(prefix);
  const max = family === 4 ? 32 : 128;
  if (family === 0 || extra !== undefined || (prefix !== undefined && !(/^\d{1,3}$/.test(prefix) && bits <= max))) {
    throw new StartupError('KH_CONFIG_INVALID', `invalid trusted source "${spec}": expected an IP address or CIDR block such as 10.0.0.5, 10.0.0.0/24 or fd00::/64`);
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (prefix === undefined) list.addAddress(address, type);
  else list.addSubnet(address, bits, type);
}

/** The key a source is counted under: an IPv4 address, an IPv6 /64, or the raw text (not an IP). */
function sourceId(source: string): string {
  const address = source.replace(/%.*$/, '');
  const family = isIP(address);
  if (family === 4) return address;
  if (family === 0) return `raw:${digest(source)}`;
  const h = ipv6Hextets(address);
  if (h.slice(0, 5).every((x) => x === 0) && h[5] === 0xffff) {
    return [h[6]! >> 8, h[6]! & 255, h[7]! >> 8, h[7]! & 255].join('.');
  }
  return `${h.slice(0, 4).map((x) => x.toString(16)).join(':')}::/64`;
}

/** The eight 16-bit groups of an address isIP() accepted as IPv6 (so well-formed). */
function ipv6Hextets(address: string): number[] {
  let text = address.toLowerCase();
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text); // trailing dotted quad, as in ::ffff:10.0.0.5
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((x) => parseInt(x, 16));
}

const digest = (s: string): string => createHash('sha256').update(s).digest('base64url');
