// The login throttle's state in the database, for replicas sharing one PostgreSQL: a lock
// earned on one replica holds on all of them, and failures counted anywhere add up. Each
// update is one short transaction that locks the key's row (login-throttle-repo.ts), so
// concurrent failures are never counted once. The single-process SQLite server keeps the
// in-memory store, which is faster and sees every attempt anyway.
import type { Storage } from '../storage/storage.js';
import type { ThrottleEntry, ThrottleStore, ThrottleUpdate } from './login-throttle.js';

/** One in this many updates also sweeps some expired rows, so dead keys do not pile up. */
const SWEEP_EVERY = 64;
const SWEEP_LIMIT = 500;

export class SharedThrottleStore implements ThrottleStore {
  #updates = 0;

  constructor(
    private readonly storage: Storage,
    private readonly clock: () => number = Date.now,
  ) {}

  async get(key: string): Promise<ThrottleEntry | undefined> {
    const json = await this.storage.read.loginThrottle.get(key, this.clock());
    return json === undefined ? undefined : (JSON.parse(json) as ThrottleEntry);
  }

  async update(key: string, fn: (current: ThrottleEntry | undefined) => ThrottleUpdate): Promise<void> {
    await this.storage.transaction(async (tx) => {
      const now = this.clock();
      const json = await tx.loginThrottle.lock(key, now);
      const next = fn(json === undefined ? undefined : (JSON.parse(json) as ThrottleEntry));
      if (next === undefined) return;
      if (next === null || next.expiresAt <= now) await tx.loginThrottle.delete(key);
      else await tx.loginThrottle.put(key, JSON.stringify(next.entry), next.expiresAt);
    });
    if (++this.#updates % SWEEP_EVERY === 0) await this.storage.read.loginThrottle.sweep(this.clock(), SWEEP_LIMIT).catch(() => undefined);
  }
}
