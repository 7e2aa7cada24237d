// Which machines are active (joined and not revoked), held in process so that checking a
// machine's token costs a set lookup, not a database round trip (DESIGN.md: hot reads from
// in-process indexes kept exact, never a cache with a time-to-live). Kept exact as the
// authorization index is (src/authz/authorization-index.ts):
//
//  - loaded whole at start, after the change watch is set up;
//  - changed by this process's own joins and revocations once they commit (`joined`, `revoked`);
//  - on PostgreSQL, reloaded whole whenever any replica commits a join or a revocation (NOTIFY on
//    MACHINES_CHANNEL, sent inside the writing transaction, so it arrives only if and once it
//    commits) and after the listening connection comes back (a missed notification must never
//    leave a revoked machine alive);
//  - a machine the set does not hold is looked up in the database (not remembered): a machine
//    that joined through another replica a moment ago is not refused while its NOTIFY travels,
//    and a revoked one costs a read — only until its tokens expire.
// A reload that raced with a local change (the generation moved while it read) is run again.
import type { DirectoryWatch, Storage } from '../storage/storage.js';
import { MACHINES_CHANNEL } from '../storage/repos/machine-repo.js';

export class MachineStatus {
  readonly #storage: Storage;
  #active = new Set<string>();
  #generation = 0;
  #watch: DirectoryWatch | undefined;
  #loading: Promise<void> | undefined;
  #reloadAgain = false;

  constructor(storage: Storage) {
    this.#storage = storage;
  }

  async start(): Promise<void> {
    this.#watch = await this.#storage.watchChannel(MACHINES_CHANNEL, () => void this.reload().catch(() => undefined));
    await this.reload();
  }

  async close(): Promise<void> {
    await this.#watch?.close();
  }

  /** True when the machine exists and is not revoked. */
  async isActive(machineId: string): Promise<boolean> {
    const id = machineId.toLowerCase();
    if (this.#active.has(id)) return true;
    const row = await this.#storage.read.machines.machineById(id);
    return row !== undefined && row.revoked_at === null;
  }

  /** This process committed a join. */
  joined(machineId: string): void {
    this.#generation++;
    this.#active.add(machineId.toLowerCase());
  }

  /** This process revoked these machines (committed, or about to commit: a miss falls back to the database). */
  revoked(machineIds: readonly string[]): void {
    this.#generation++;
    for (const id of machineIds) this.#active.delete(id.toLowerCase());
  }

  /** Reads the whole set again; concurrent calls share one read, and one more after it. */
  reload(): Promise<void> {
    if (this.#loading) {
      this.#reloadAgain = true;
      return this.#loading;
    }
    this.#loading = (async () => {
      try {
        for (let attempt = 0; attempt < 5; attempt++) {
          this.#reloadAgain = false;
          const generation = this.#generation;
          const ids = await this.#storage.read.machines.activeMachineIds();
          if (generation === this.#generation) this.#active = new Set(ids.map((i) => i.toLowerCase()));
          if (generation === this.#generation && !this.#reloadAgain) return;
        }
      } catch (err) {
        // Unreadable: hold nothing, so every check asks the database (never a stale "active").
        this.#active = new Set();
        throw err;
      } finally {
        this.#loading = undefined;
      }
    })();
    return this.#loading;
  }
}
