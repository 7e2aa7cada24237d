// What keeps an in-process index exact against storage (DESIGN.md: hot reads from in-process
// indexes kept exact by the core's own writes and other replicas' NOTIFY, never a cache with a
// time-to-live). Shared by the directory's read model and the authorization index:
//
//  - loaded whole on first use, after the change watch is set up, so nothing committed
//    meanwhile is missed;
//  - after each commit of this process, the index's update runs before the writer resumes
//    (Storage.onDirectoryCommit): the writer's next request, and everyone's, sees the write;
//  - on PostgreSQL, other replicas' commits arrive as NOTIFY (Storage.watchDirectory) and are
//    applied the same way; after the listening connection comes back, and on SQLite after
//    another process commits, everything is reloaded, since notifications may have been missed;
//  - updates run one at a time in arrival order, so the index only moves forward. If one fails
//    (the database is down) the index is stale: every read first retries a full load, and
//    fails with the owner's UnavailableError (a 503) rather than answering from a state it
//    cannot vouch for.
import type { DirectoryChanges, DirectoryWatch, Storage } from './storage.js';

export interface IndexLoader {
  /** Reads everything and replaces the index. */
  full(): Promise<void>;
  /**
   * Applies a committed change (not `all`, which is a full load). Not called while the index is
   * stale: then only a full load can be trusted.
   */
  update(changes: DirectoryChanges): Promise<void>;
  /** The error for a reader while the index cannot be loaded (`cause`: why the watch failed). */
  unavailable(cause?: unknown): Error;
}

export class WatchedIndex {
  readonly #storage: Storage;
  readonly #loader: IndexLoader;
  #started: Promise<void> | undefined;
  #watch: DirectoryWatch | undefined;
  #queue: Promise<void> = Promise.resolve();
  #stale = false;
  #fullLoads = 0;

  constructor(storage: Storage, loader: IndexLoader) {
    this.#storage = storage;
    this.#loader = loader;
    storage.onDirectoryCommit((changes) => (this.#started ? this.#changed(changes) : undefined));
  }

  /** Full loads so far: the first, and one per resync or stale retry. */
  get fullLoads(): number {
    return this.#fullLoads;
  }

  /** Resolves once the index holds every commit this process has seen; throws `unavailable()` while it cannot. */
  async ready(): Promise<void> {
    await (this.#started ??= this.#start());
    // SQLite: another process's commit is seen here, on the next read.
    await this.#watch?.check();
    await this.#queue;
    if (this.#stale) {
      await this.#enqueue(() => this.#full());
      if (this.#stale) throw this.#loader.unavailable();
    }
  }

  async close(): Promise<void> {
    await this.#watch?.close();
  }

  async #start(): Promise<void> {
    try {
      this.#watch = await this.#storage.watchDirectory({
        changed: (changes) => void this.#changed(changes),
        resync: () => void this.#enqueue(() => this.#full()),
      });
    } catch (err) {
      this.#started = undefined;
      throw this.#loader.unavailable(err);
    }
    await this.#enqueue(() => this.#full());
  }

  #changed(changes: DirectoryChanges): Promise<void> | undefined {
    // The step is chosen when it runs, not when the change arrives: an update queued behind
    // a failed one must see that the index went stale.
    return this.#enqueue(async () => {
      if (changes.all || this.#stale) return this.#full();
      await this.#loader.update(changes);
    });
  }

  async #full(): Promise<void> {
    await this.#loader.full();
    this.#stale = false;
    this.#fullLoads++;
  }

  #enqueue(step: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(async () => {
      try {
        await step();
      } catch {
        this.#stale = true;
      }
    });
    this.#queue = run;
    return run;
  }
}
