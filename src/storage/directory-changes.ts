// Which directory objects a transaction wrote, so the core's in-process read model
// (src/directory/read-model/) can reload exactly those after the commit, and — on PostgreSQL —
// other replicas can too, through a NOTIFY sent inside the writing transaction (delivered by
// PostgreSQL only if, and when, the transaction commits: "NOTIFY", PostgreSQL 15 manual). The
// user, group and membership repositories record what they write; a change recorded by a
// part that was later rolled back (a savepoint of group commit) only makes a reader reload an
// object that did not change, which is harmless: a reload reads the committed state.

/** What changed, by object id. */
export interface DirectoryChanges {
  /** Users whose row was inserted, updated or deleted. */
  users: string[];
  /** Groups whose row was inserted, updated or deleted. */
  groups: string[];
  /** Groups whose list of direct members changed. */
  members: string[];
  /** Objects (users, groups, service principals) whose list of direct groups changed. */
  memberOf: string[];
  /**
   * Role assignments or custom role definitions changed (0009_resources): the authorization
   * index (src/authz/) reloads them. Carried on the directory's channel because a decision
   * reads both memberships and assignments: one ordered stream keeps them consistent.
   */
  authorization?: boolean;
  /** Everything may have changed (a change too large to list): reload the whole directory. */
  all?: boolean;
}

export class ChangeRecorder {
  readonly users = new Set<string>();
  readonly groups = new Set<string>();
  readonly members = new Set<string>();
  readonly memberOf = new Set<string>();
  authorization = false;

  get empty(): boolean {
    return this.users.size + this.groups.size + this.members.size + this.memberOf.size === 0 && !this.authorization;
  }

  changes(): DirectoryChanges {
    const changes: DirectoryChanges = { users: [...this.users], groups: [...this.groups], members: [...this.members], memberOf: [...this.memberOf] };
    if (this.authorization) changes.authorization = true;
    return changes;
  }
}

/** PostgreSQL's channel for directory changes (LISTEN/NOTIFY). */
export const DIRECTORY_CHANNEL = 'keyhaven_directory';

/** A NOTIFY payload must stay under 8000 bytes (PostgreSQL's default limit); larger changes say "reload all". */
const MAX_PAYLOAD = 7000;

/** The payload that announces `changes`, tagged with the writer's origin so a replica skips its own. */
export function notifyPayload(origin: string, changes: DirectoryChanges): string {
  const full = JSON.stringify({ o: origin, u: changes.users, g: changes.groups, m: changes.members, b: changes.memberOf, ...(changes.authorization ? { a: 1 } : {}) });
  return full.length <= MAX_PAYLOAD ? full : JSON.stringify({ o: origin, all: true });
}

/** A payload read back; anything unreadable counts as "reload all" (never silently dropped). */
export function parsePayload(payload: string | undefined): { origin: string; changes: DirectoryChanges } {
  const all = { origin: '', changes: { users: [], groups: [], members: [], memberOf: [], authorization: true, all: true } };
  if (payload === undefined) return all;
  try {
    const p = JSON.parse(payload) as Record<string, unknown>;
    const ids = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
    const origin = typeof p['o'] === 'string' ? p['o'] : '';
    if (p['all'] === true) return { origin, changes: { ...all.changes } };
    const changes: DirectoryChanges = { users: ids(p['u']), groups: ids(p['g']), members: ids(p['m']), memberOf: ids(p['b']) };
    if (p['a'] !== undefined) changes.authorization = true;
    return { origin, changes };
  } catch {
    return all;
  }
}
