// Search indexes over the entries as served (served-entries.ts), so a search's candidate
// pre-selection narrows only by the values an entry actually serves for that attribute
// (issue 8: an equality on cn must find an imported entry by the cn it serves, not by a
// stored display name). Each indexed attribute maps the equality key of every served value
// (matching-rules.ts equalityKey: equal keys ⇔ matchEquality TRUE) to the entries serving it,
// and every entry's DN key maps to the entry, so a DN in a search base, a member= assertion or
// an IN_CHAIN value resolves to what is served under it. Kept in step with the read model
// through its change events, synchronously: an entry is re-rendered when it changes, when its
// edges change, and when a neighbour's DN (a member's, a group's) changes. Entries are
// rendered unprojected: the index may offer an entry a viewer cannot see or whose value is
// hidden from them; the filter evaluator, run on the entry as that viewer is served it,
// decides. Nothing expires: the index is exactly the model's current state.
import type { DirectoryModel, ModelChange } from '../../directory/read-model/directory-model.js';
import { privateGroupCandidate, type PrivateGroupRules } from '../../directory/private-groups.js';
import { privateGroupEntry } from './private-group-entry.js';
import { parseDn } from './distinguished-name.js';
import { equalityKey } from './matching-rules.js';
import { attributeType } from './schema.js';
import { EVERYTHING, type ServedEntries } from './served-entries.js';
import type { LdapEntry } from '../ldap-directory.js';

/**
 * Attributes searches name to find one entry or a few (JupyterHub, SSSD, nslcd, group checks);
 * others (descriptions, photos, keys) are left to the evaluator.
 */
export const INDEXED_ATTRIBUTES: ReadonlySet<string> = new Set([
  'objectclass', 'cn', 'uid', 'mail', 'ou', 'sn', 'givenname', 'displayname', 'samaccountname', 'userprincipalname',
  'entryuuid', 'uidnumber', 'gidnumber', 'member', 'uniquemember', 'memberuid', 'memberof',
]);

export interface IndexedEntry {
  /**
   * `private`: a user's private group as it would be served (private-groups.ts). Whether it
   * is served also depends on the real groups (a name or gid taken) and on whether a real
   * entry holds its DN; the search checks that when it renders one (search-plan.ts).
   */
  kind: 'user' | 'group' | 'private';
  /** For a private group: its user. */
  userId?: string;
  dn: string;
  dnKey: string | undefined;
  /** The DN's RDNs normalised, leaf first (distinguished-name.ts), for scope checks. */
  rdnKeys: readonly string[];
  /** attribute, key, attribute, key, …: what to take out of the index when the entry changes. */
  keys: string[];
}

type Ids = string | Set<string>;

export class ServedIndex {
  readonly #entries = new Map<string, IndexedEntry>();
  readonly #byDn = new Map<string, Ids>();
  readonly #byValue = new Map<string, Map<string, Ids>>();
  /** User id → the id of their private group, while they have a candidate one. */
  readonly #privateOf = new Map<string, string>();

  /** `privateGroups`: the rules, or undefined when this layout serves none (users and groups on one template). */
  constructor(
    private readonly model: DirectoryModel,
    private readonly served: ServedEntries,
    private readonly privateGroups: PrivateGroupRules | undefined,
  ) {
    for (const a of INDEXED_ATTRIBUTES) this.#byValue.set(a, new Map());
    model.subscribe((change) => this.#changed(change));
    this.#rebuild();
  }

  entry(id: string): IndexedEntry | undefined {
    return this.#entries.get(id);
  }

  /** The id of the user's private group entry, if they have a candidate one. */
  privateOf(userId: string): string | undefined {
    return this.#privateOf.get(userId);
  }

  /** The ids of the entries served under a DN (by its distinguishedNameMatch key). */
  atDn(key: string): readonly string[] {
    return ids(this.#byDn.get(key));
  }

  /**
   * Every entry an equality assertion `(attribute=value)` may be TRUE for (a superset of the
   * answer, never missing one); undefined when the attribute is not indexed (any entry may).
   */
  lookup(attribute: string, value: string): readonly string[] | undefined {
    const type = attributeType(attribute);
    if (!type || type.binary) return undefined;
    const byKey = this.#byValue.get(type.name.toLowerCase());
    if (!byKey) return undefined;
    const key = equalityKey(type.equality, value);
    // An assertion the syntax cannot hold is Undefined for every entry: never TRUE.
    if (key === undefined) return [];
    return ids(byKey.get(key));
  }

  #rebuild(): void {
    this.#entries.clear();
    this.#byDn.clear();
    this.#privateOf.clear();
    for (const m of this.#byValue.values()) m.clear();
    for (const u of this.model.users()) this.#index(u.id);
    for (const g of this.model.groups()) this.#index(g.id);
  }

  #changed(change: ModelChange): void {
    if (change.all) {
      this.#rebuild();
      return;
    }
    const todo = new Set<string>([...change.users, ...change.groups, ...change.edges]);
    const neighbours = new Set<string>();
    for (const id of todo) {
      const before = this.#entries.get(id)?.dnKey;
      this.#index(id);
      const dnChanged = this.#entries.get(id)?.dnKey !== before;
      // A user's row serves its groups' member and memberUid values; any served DN that
      // changed (a rename, a new or removed object) serves member and memberOf values elsewhere.
      if (dnChanged || change.users.has(id)) for (const g of this.model.directGroupsOf(id)) neighbours.add(g);
      if (dnChanged) for (const m of this.model.directMembers(id).keys()) neighbours.add(m);
    }
    for (const id of neighbours) if (!todo.has(id)) this.#index(id);
  }

  #drop(id: string): void {
    const old = this.#entries.get(id);
    if (!old) return;
    for (let i = 0; i < old.keys.length; i += 2) remove(this.#byValue.get(old.keys[i]!)!, old.keys[i + 1]!, id);
    if (old.dnKey !== undefined) remove(this.#byDn, old.dnKey, id);
    this.#entries.delete(id);
  }

  /** (Re)indexes one object as the model now holds it (a user with their private group); removes it when gone. */
  #index(id: string): void {
    this.#drop(id);
    const user = this.model.user(id);
    const group = user ? undefined : this.model.group(id);
    const privateId = this.#privateOf.get(id);
    if (privateId !== undefined) {
      this.#drop(privateId);
      this.#privateOf.delete(id);
    }
    if (!user && !group) return;
    const dn = user ? this.served.userDn(user) : this.served.groupDn(group!);
    const entry = user ? this.served.user(this.model, user, EVERYTHING, dn) : this.served.group(this.model, group!, EVERYTHING, dn);
    this.#put(id, user ? 'user' : 'group', dn, entry);
    const candidate = user && this.privateGroups ? privateGroupCandidate(user, this.privateGroups) : undefined;
    if (candidate) {
      const pdn = this.served.layout.groupDn(candidate.name);
      this.#put(candidate.id, 'private', pdn, privateGroupEntry(candidate, pdn), user!.id);
      this.#privateOf.set(user!.id, candidate.id);
    }
  }

  #put(id: string, kind: IndexedEntry['kind'], dn: string, entry: LdapEntry, userId?: string): void {
    const keys: string[] = [];
    for (const [name, attr] of entry.attributes) {
      const byKey = this.#byValue.get(name);
      if (!byKey) continue;
      const type = attributeType(name);
      if (!type || type.binary) continue;
      const seen = new Set<string>();
      for (const v of attr.values) {
        const key = equalityKey(type.equality, v);
        if (key === undefined || seen.has(key)) continue;
        seen.add(key);
        add(byKey, key, id);
        keys.push(name, key);
      }
    }
    const parsed = parseDn(dn);
    if (parsed !== undefined) add(this.#byDn, parsed.key, id);
    this.#entries.set(id, { kind, ...(userId ? { userId } : {}), dn, dnKey: parsed?.key, rdnKeys: parsed?.rdnKeys ?? [], keys });
  }
}

function ids(v: Ids | undefined): readonly string[] {
  if (v === undefined) return [];
  return typeof v === 'string' ? [v] : [...v];
}

function add(map: Map<string, Ids>, key: string, id: string): void {
  const v = map.get(key);
  if (v === undefined) map.set(key, id);
  else if (typeof v === 'string') {
    if (v !== id) map.set(key, new Set([v, id]));
  } else v.add(id);
}

function remove(map: Map<string, Ids>, key: string, id: string): void {
  const v = map.get(key);
  if (v === undefined) return;
  if (typeof v === 'string') {
    if (v === id) map.delete(key);
    return;
  }
  v.delete(id);
  if (v.size === 1) map.set(key, v.values().next().value!);
  else if (v.size === 0) map.delete(key);
}
