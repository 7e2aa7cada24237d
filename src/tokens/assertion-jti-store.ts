// Which client-assertion ids (`jti`, RFC 7523 §3 item 7) have been used, until the assertion
// would have expired anyway. Two policies:
//   `once`         an assertion signs in once, ever (RFC 7523 §3 item 7 at its strictest);
//   `same-source`  (default) a second use is accepted only from the source of the first. MSAL
//                  (msal-node's ClientAssertion, MSAL Python) signs one assertion and reuses it
//                  for every token request in its 10-minute life — one per scope — and Entra
//                  accepts that, so `once` breaks ClientCertificateCredential's second token.
//                  An assertion copied out of a log or a proxy and presented from anywhere else
//                  is still refused as a replay. StoredJtiStore keeps them in the database (0006_assertion_jti), so
// an assertion signs in once across every replica on one PostgreSQL and across restarts;
// MemoryJtiStore is for tools and unit tests that run without storage.
import type { Storage } from '../storage/storage.js';
import type { AssertionJtiStore } from './client-assertion.js';

export type AssertionReusePolicy = 'once' | 'same-source';

/** One in this many uses also sweeps some dead rows, so used ids do not pile up. */
const SWEEP_EVERY = 64;
const SWEEP_LIMIT = 500;

export class StoredJtiStore implements AssertionJtiStore {
  #uses = 0;

  constructor(
    private readonly storage: Storage,
    private readonly policy: AssertionReusePolicy = 'same-source',
    private readonly now: () => number = Date.now,
  ) {}

  async useOnce(clientId: string, jti: string, expiresAtMs: number, source: string): Promise<boolean> {
    const repo = this.storage.read.assertionJti;
    const first = await repo.useOnce(clientId, jti, expiresAtMs, this.now(), source);
    if (++this.#uses % SWEEP_EVERY === 0) await this.sweep();
    if (first || this.policy === 'once') return first;
    return (await repo.firstSource(clientId, jti, this.now())) === source;
  }

  /** Deletes dead rows (up to a bound per call); a failure here never fails a sign-in. */
  async sweep(): Promise<number> {
    return this.storage.read.assertionJti.sweep(this.now(), SWEEP_LIMIT).catch(() => 0);
  }
}

export class MemoryJtiStore implements AssertionJtiStore {
  readonly #used = new Map<string, { until: number; source: string }>();

  constructor(
    private readonly policy: AssertionReusePolicy = 'same-source',
    private readonly now: () => number = Date.now,
  ) {}

  async useOnce(clientId: string, jti: string, expiresAtMs: number, source: string): Promise<boolean> {
    const now = this.now();
    for (const [key, used] of this.#used) if (used.until <= now) this.#used.delete(key);
    const key = `${clientId}\u0000${jti}`;
    const used = this.#used.get(key);
    if (used) return this.policy === 'same-source' && used.source === source;
    this.#used.set(key, { until: expiresAtMs, source });
    return true;
  }
}
