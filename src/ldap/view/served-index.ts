// Search indexes over the entries as served (served-entries.ts), so a search's candidate
// pre-selection narrows only by the values an entry actually serves for that attribute
// (issue 8: an equality on cn must find an imported entry by the cn it serves, not by a
// stored display name). Two kinds:
//
//  - by value: each indexed attribute maps the equality key of every value an entry serves
//    (matching-rules.ts equalityKey: equal keys ⇔ matchEquality TRUE) to the entries serving
//    it; entries are rendered for this exactly as a search renders them, less the membership
//    attributes;
//  - by membership: member, memberOf and memberUid values are, by construction
//    (served-entries.ts), the served DNs and login names of an entry's direct edges in the
//    read model, so `(member=X)` is looked up as "the groups whose direct members include what
//    is served under X" — through the DN index below and the model's edges — instead of
//    holding every edge's DN as a key (a million strings for 100k users).
//
// And every entry's DN key maps to the entry, so a DN in a search base, a member= assertion or
// an IN_CHAIN value resolves to what is served under it. Kept in step with the read model
// through its change events, synchronously: an entry is re-indexed when its row changes (its
// edges are read from the model at lookup). Entries are indexed unprojected: the index may
// offer an entry a viewer cannot see or whose value is hidden from them; the filter
// evaluator, run on the entry as that viewer is served it, decides. Nothing expires: the
// index is exactly the model's current state.
import type { DirectoryModel, ModelChange } from '../../directory/read-model/directory-model.js';
import { privateGroupCandidate, type PrivateGroupRules } from '../../directory/private-groups.js';
import type { LdapEntry } from '../ldap-directory.js';
import { foldValue, parseDn } from './distinguished-name.js';
import { equalityKey } from './matching-rules.js';
import { privateGroupEntry } from './private-group-entry.js';
import { attributeType } from './schema.js';
import type { Needs, ServedEntries } from './served-entries.js';

/**
 * Attributes indexed by value: those searches name to find one entry or a few (JupyterHub,
 * SSSD, nslcd); others (descriptions, photos, keys) are left to the evaluator.
 */
export const INDEXED_ATTRIBUTES: ReadonlySet<string> = new Set([
  'objectclass', 'cn', 'uid', 'mail', 'ou', 'samaccountname', 'userprincipalname', 'uidnumber', 'gidnumber', 'uniquemember',
]);

/**
 * Attributes looked up through the model's membership edges (served-entries.ts renders them
 * from those alone; an import keeps no values of its own for them). uniqueMember is served
 * from the edges on imported groupOfUniqueNames (group-entry.ts), and may also come from a
 * group's extra attributes: it is looked up both ways.
 */
const MEMBERSHIP_ATTRIBUTES: ReadonlySet<string> = new Set(['member', 'memberof', 'memberuid', 'uniquemember']);

/** The membership attributes are not needed to index by value. */
const NO_MEMBERSHIP: Needs = { memberOf: false, members: false };

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
  /** The value buckets the entry is in: what to leave when it changes. */
  buckets: Bucket[];
}

/** The entries serving one value of one attribute; shared, so an entry holds only a reference. */
interface Bucket {
  attribute: string;
  key: string;
  ids: string | Set<string>;
}

export class ServedIndex {
  readonly #entries = new Map<string, IndexedEntry>();
  readonly #byDn = new Map<string, string | Set<string>>();
  readonly #byValue = new Map<string, Map<string, Bucket>>();
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
  atDn(key: string): Iterable<string> {
    return ids(this.#byDn.get(key));
  }

  /**
   * Every entry an equality assertion `(attribute=value)` may be TRUE for (a superset of the
   * answer, never missing one); undefined when the attribute is not indexed (any entry may).
   */
  lookup(attribute: string, value: string): Iterable<string> | undefined {
    const type = attributeType(attribute);
    if (!type || type.binary) return undefined;
    const name = type.name.toLowerCase();
    if (MEMBERSHIP_ATTRIBUTES.has(name)) return this.#byMembership(name, type.equality, value);
    if (name === 'entryuuid') {
      // Served as the object id itself (user-entry.ts, group-entry.ts, private groups' derived id).
      const key = equalityKey(type.equality, value);
      const id = key === undefined ? undefined : foldValue(value);
      return id !== undefined && this.#entries.has(id) ? [id] : [];
    }
    const byKey = this.#byValue.get(name);
    if (!byKey) return undefined;
    const key = equalityKey(type.equality, value);
    // An assertion the syntax cannot hold is Undefined for every entry: never TRUE.
    if (key === undefined) return [];
    return ids(byKey.get(key)?.ids);
  }

  #byMembership(name: string, rule: Parameters<typeof equalityKey>[0], value: string): Iterable<string> {
    const out = new Set<string>();
    if (name === 'memberuid') {
      // memberUid values are login names (caseExact, RFC 2307): any value caseExact-equal to
      // the assertion folds to the same lower-case login name.
      const user = this.model.userByName(foldValue(value));
      if (!user) return out;
      for (const g of this.model.directGroupsOf(user.id)) out.add(g);
      const own = this.#privateOf.get(user.id);
      if (own !== undefined) out.add(own);
      return out;
    }
    const key = equalityKey(rule, value);
    if (key === undefined) return out;
    if (name === 'uniquemember') for (const id of ids(this.#byValue.get(name)!.get(key)?.ids)) out.add(id);
    const dnKey = parseDn(value)?.key;
    if (dnKey === undefined) return out;
    for (const id of this.atDn(dnKey)) {
      if (name === 'memberof') for (const m of this.model.directMembers(id).keys()) out.add(m);
      else for (const g of this.model.directGroupsOf(id)) out.add(g);
    }
    return out;
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
    // Edges alone change no indexed value (membership is read from the model at lookup).
    for (const id of change.users) this.#index(id);
    for (const id of change.groups) this.#index(id);
  }

  #drop(id: string): void {
    const old = this.#entries.get(id);
    if (!old) return;
    for (const b of old.buckets) {
      if (typeof b.ids === 'string') {
        if (b.ids === id) this.#byValue.get(b.attribute)!.delete(b.key);
      } else {
        b.ids.delete(id);
        if (b.ids.size === 1) b.ids = b.ids.values().next().value!;
        else if (b.ids.size === 0) this.#byValue.get(b.attribute)!.delete(b.key);
      }
    }
    if (old.dnKey !== undefined) remove(this.#byDn, old.dnKey, id);
    this.#entries.delete(id);
  }

  /** (Re)indexes one object as the model now holds it (a user with their private group); removes it when gone. */
  #index(id: string): void {
    this.#drop(id);
    const privateId = this.#privateOf.get(id);
    if (privateId !== undefined) {
      this.#drop(privateId);
      this.#privateOf.delete(id);
    }
    const user = this.model.user(id);
    const group = user ? undefined : this.model.group(id);
    if (user) {
      const dn = this.served.userDn(user);
      this.#put(id, 'user', dn, this.served.user(this.model, user, NO_MEMBERSHIP, dn));
      const candidate = this.privateGroups ? privateGroupCandidate(user, this.privateGroups) : undefined;
      if (candidate) {
        const pdn = this.served.layout.groupDn(candidate.name);
        this.#put(candidate.id, 'private', pdn, privateGroupEntry(candidate, pdn), user.id);
        this.#privateOf.set(user.id, candidate.id);
      }
    } else if (group) {
      const dn = this.served.groupDn(group);
      this.#put(id, 'group', dn, this.served.group(this.model, group, NO_MEMBERSHIP, dn));
    }
  }

  #put(id: string, kind: IndexedEntry['kind'], dn: string, entry: LdapEntry, userId?: string): void {
    const buckets: Bucket[] = [];
    for (const [name, attr] of entry.attributes) {
      const byKey = this.#byValue.get(name);
      if (!byKey) continue;
      const type = attributeType(name);
      if (!type || type.binary) continue;
      for (const v of attr.values) {
        const key = equalityKey(type.equality, v);
        if (key === undefined) continue;
        let b = byKey.get(key);
        if (!b) {
          b = { attribute: name, key, ids: id };
          byKey.set(key, b);
        } else if (typeof b.ids === 'string') {
          if (b.ids === id) continue;
          b.ids = new Set([b.ids, id]);
        } else {
          if (b.ids.has(id)) continue;
          b.ids.add(id);
        }
        buckets.push(b);
      }
    }
    const parsed = parseDn(dn);
    if (parsed !== undefined) add(this.#byDn, parsed.key, id);
    this.#entries.set(id, { kind, ...(userId ? { userId } : {}), dn, dnKey: parsed?.key, rdnKeys: parsed?.rdnKeys ?? [], buckets });
  }
}

function ids(v: string | Set<string> | undefined): Iterable<string> {
  if (v === undefined) return [];
  return typeof v === 'string' ? [v] : v;
}

function add(map: Map<string, string | Set<string>>, key: string, id: string): void {
  const v = map.get(key);
  if (v === undefined) map.set(key, id);
  else if (typeof v === 'string') {
    if (v !== id) map.set(key, new Set([v, id]));
  } else v.add(id);
}

function remove(map: Map<string, string | Set<string>>, key: string, id: string): void {
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
