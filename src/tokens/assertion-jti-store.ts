// One process's memory of used client-assertion ids (RFC 7523 §3 item 7), for tests and tools
// that run without storage. The server uses the storage-backed store, shared by replicas.
import type { AssertionJtiStore } from './client-assertion.js';

export class MemoryJtiStore implements AssertionJtiStore {
  readonly #used = new Map<string, number>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  async useOnce(clientId: string, jti: string, expiresAtMs: number): Promise<boolean> {
    const now = this.#now();
    for (const [key, until] of this.#used) if (until <= now) this.#used.delete(key);
    const key = `${clientId}\u0000${jti}`;
    if (this.#used.has(key)) return false;
    this.#used.set(key, expiresAtMs);
    return true;
  }
}
