// Per-process identity endpoints for jobs and containers (issue 11 item 5). Not the metadata
// endpoint: a job's endpoint checks its own header secret instead of `Metadata: true`, with the
// wire shapes the Azure SDKs send to App Service (IDENTITY_ENDPOINT + IDENTITY_HEADER, header
// `X-IDENTITY-HEADER`, api-version 2019-08-01) and to Azure ML (MSI_ENDPOINT + MSI_SECRET, header
// `secret`, api-version 2017-09-01, parameter `clientid`). A job may be pinned to one identity
// (narrower than the machine's), and its endpoint dies with it: deleted when the job ends, or at
// its expiry. Secrets are 256-bit random, held only as SHA-256 and compared in constant time.
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IdentitySelector } from './identity-selector.js';

export interface JobEndpoint {
  id: string;
  /** The identity the job is limited to; undefined: any of the machine's, as the metadata endpoint. */
  identity?: IdentitySelector;
  /** Epoch ms. */
  expiresAt: number;
}

export interface MintedJobEndpoint extends JobEndpoint {
  /** Shown once, to be put in the job's environment. */
  secret: string;
}

interface Held extends JobEndpoint {
  hash: Buffer;
}

export class JobEndpoints {
  readonly #jobs = new Map<string, Held>();
  readonly #now: () => number;
  readonly #max: number;

  constructor(options: { now?: () => number; maxJobs?: number } = {}) {
    this.#now = options.now ?? Date.now;
    this.#max = options.maxJobs ?? 10_000;
  }

  get size(): number {
    this.#sweep();
    return this.#jobs.size;
  }

  mint(options: { identity?: IdentitySelector; ttlSeconds: number }): MintedJobEndpoint {
    this.#sweep();
    if (this.#jobs.size >= this.#max) throw new Error(`at most ${this.#max} job endpoints at once`);
    const id = randomUUID();
    const secret = randomBytes(32).toString('base64url');
    const job: Held = { id, expiresAt: this.#now() + options.ttlSeconds * 1000, hash: digest(secret), ...(options.identity ? { identity: options.identity } : {}) };
    this.#jobs.set(id, job);
    const { hash: _h, ...shown } = job;
    return { ...shown, secret };
  }

  /** The job, when `secret` is its secret and it has not expired. */
  check(id: string, secret: string | undefined): JobEndpoint | undefined {
    const job = this.#jobs.get(id);
    // The comparison runs whether or not the job exists, on fixed-length digests.
    const ok = timingSafeEqual(digest(secret ?? ''), job?.hash ?? digest(`\u0000${secret ?? ''}`)) && job !== undefined;
    if (!ok || !job) return undefined;
    if (job.expiresAt <= this.#now()) {
      this.#jobs.delete(id);
      return undefined;
    }
    const { hash: _h, ...shown } = job;
    return shown;
  }

  /** Ends a job's endpoint (when the job ends). */
  revoke(id: string): boolean {
    return this.#jobs.delete(id);
  }

  #sweep(): void {
    const now = this.#now();
    for (const [id, job] of this.#jobs) if (job.expiresAt <= now) this.#jobs.delete(id);
  }
}

function digest(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}
