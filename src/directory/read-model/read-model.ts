// Keeps the in-process DirectoryModel exact (DESIGN.md: in-process indexes kept exact by the
// core's own writes and other replicas' NOTIFY, never a cache with a time-to-live):
//
//  - loaded whole on first use (the server asks at start), after the change watch is set up,
//    so nothing committed meanwhile is missed;
//  - after each commit of this process that wrote users, groups or memberships, the objects
//    it wrote are read back and applied before the writer resumes (Storage.onDirectoryCommit):
//    the writer's next request, and everyone's, sees the write; a transaction that failed
//    changed nothing and announces nothing;
//  - on PostgreSQL, other replicas' commits arrive as NOTIFY on a dedicated LISTEN connection
//    and are applied the same way; after that connection drops and comes back, and on SQLite
//    after another process (an admin command, an import) commits, everything is reloaded,
//    since notifications may have been missed.
//
// Updates are applied one at a time in arrival order, each read and applied as a unit, so the
// model only ever moves forward. If a reload cannot be read (the database is down), the model
// is marked stale and every read retries a full reload first, failing with UnavailableError
// rather than answering from a state it cannot vouch for. Never call current() from inside a
// transaction's work: on SQLite the reload waits for the connection that transaction holds.
import { UnavailableError } from '../../errors.js';
import type { DirectoryChanges, Storage } from '../../storage/storage.js';
import { WatchedIndex } from '../../storage/watched-index.js';
import type { GroupRow } from '../../storage/repos/group-repo.js';
import type { UserRow } from '../../storage/repos/user-repo.js';
import { DirectoryModel, type MembershipEdge } from './directory-model.js';

/** Ids per `in (…)` query when reloading (well under SQLite's and PostgreSQL's parameter limits). */
const CHUNK = 500;

export class ReadModel {
  readonly #storage: Storage;
  readonly #model = new DirectoryModel();
  readonly #index: WatchedIndex;

  constructor(storage: Storage) {
    this.#storage = storage;
    this.#index = new WatchedIndex(storage, {
      full: () => this.#full(),
      update: (changes) => this.#reload(changes),
      unavailable: (cause) =>
        new UnavailableError('KH_DIRECTORY_UNAVAILABLE', cause === undefined ? 'the directory could not be read from storage' : 'cannot watch the directory for changes', cause === undefined ? undefined : { cause }),
    });
  }

  /** Full (re)loads so far: the first load, and one per resync. */
  get fullLoads(): number {
    return this.#index.fullLoads;
  }

  /** The model as of the last commit this process has seen; loads it on first use. */
  async current(): Promise<DirectoryModel> {
    await this.#index.ready();
    return this.#model;
  }

  async #full(): Promise<void> {
    const read = this.#storage.read;
    const users = await read.users.all();
    const groups = await read.groups.all();
    const edges = await read.groupMembers.all();
    this.#model.replaceAll(users, groups, edges);
  }

  async #reload(changes: DirectoryChanges): Promise<void> {
    // Only role assignments changed (the authorization index's business): nothing to read here.
    if (changes.users.length + changes.groups.length + changes.members.length + changes.memberOf.length === 0) return;
    const read = this.#storage.read;
    const users = new Map<string, UserRow | undefined>(changes.users.map((id) => [id, undefined]));
    for (const ids of chunks(changes.users)) for (const row of await read.users.byIds(ids)) users.set(row.id, row);
    const groups = new Map<string, GroupRow | undefined>(changes.groups.map((id) => [id, undefined]));
    for (const ids of chunks(changes.groups)) for (const row of await read.groups.byIds(ids)) groups.set(row.id, row);
    const edges: MembershipEdge[] = [];
    const seen = new Set<string>();
    for (const ids of chunks(changes.members)) for (const e of await read.groupMembers.edgesOf(ids, [])) keep(e);
    for (const ids of chunks(changes.memberOf)) for (const e of await read.groupMembers.edgesOf([], ids)) keep(e);
    this.#model.apply({ users, groups, edgesOfGroups: changes.members, edgesOfMembers: changes.memberOf, edges });

    function keep(e: MembershipEdge): void {
      const key = `${e.groupId} ${e.id}`;
      if (seen.has(key)) return;
      seen.add(key);
      edges.push(e);
    }
  }
}

function chunks(ids: readonly string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < ids.length; i += CHUNK) out.push(ids.slice(i, i + CHUNK));
  return out;
}
