// Where a search's candidate entries come from. Most searches that LDAP clients send name
// the entry they want — JupyterHub's `(sAMAccountName=alice)` or `(uid=alice)`, SSSD's
// `(&(uid=alice)(objectClass=posixAccount))`, a group check `(member=uid=alice,…)` — so an
// equality every match must satisfy is looked up directly (one indexed read) instead of
// reading every entry; the whole filter is then still evaluated on what comes back. Anything
// else pages through users, then groups, in creation order, never holding more than a page.
// Attributes that cost a query per entry (memberOf; member/memberUid) are read only when the
// search asks for them or its filter names them. Imported users and groups are served under
// the DN they came with (DitLayout.userDnOf/groupDnOf), in member and memberOf values too; a
// search's scope is checked on each entry's DN before anything costly is read for it.
import type { GraphGroup, GraphUser } from '../../directory/graph-objects.js';
import { isObjectId } from '../../directory/odata-query.js';
import type { LdapEntry } from '../ldap-directory.js';
import { PUBLIC_GROUP_ATTRIBUTES, PUBLIC_USER_ATTRIBUTES, project, type ViewerAccess } from './access.js';
import type { DitLayout } from './dit-layout.js';
import { foldValue, parseDn, type ParsedDn } from './distinguished-name.js';
import type { FilterNode } from './filter-ast.js';
import { requiredEqualities, type EvalEntry } from './filter-eval.js';
import { groupEntry } from './group-entry.js';
import { lookupSafe, odataString, type DirectoryReads } from './directory-reads.js';
import { PrivateGroupPlan } from './private-group-plan.js';
import { userEntry } from './user-entry.js';

export interface PlannedEntry {
  entry: LdapEntry;
  evalEntry: EvalEntry;
}

/**
 * Object classes only groups carry, and only users: an objectClass equality naming nothing but
 * one kind's classes rules the other kind out. Any other class (imported ones such as
 * `account` or `shadowAccount`) may be on either.
 */
const GROUP_ONLY_CLASSES = new Set(['groupofnames', 'groupofuniquenames', 'posixgroup', 'group']);
const USER_ONLY_CLASSES = new Set(['person', 'organizationalperson', 'inetorgperson', 'posixaccount', 'user', 'ldappublickey', 'shadowaccount', 'account']);
/** Attributes only users carry: a required equality on one rules groups out, and the reverse. */
const USER_ONLY = new Set(['uid', 'userprincipalname', 'mail', 'uidnumber', 'homedirectory', 'loginshell', 'sn', 'givenname', 'gecos', 'useraccountcontrol', 'sshpublickey']);
const GROUP_ONLY = new Set(['member', 'memberuid', 'grouptype']);

type Source<T> = AsyncIterable<T> | 'none';

/** Which DNs a search covers; every entry when absent. */
export type InScope = (dn: ParsedDn) => boolean;

/** A user or group a DN named: the imported object with that original DN. */
export type NamedObject = { kind: 'user'; user: GraphUser } | { kind: 'group'; group: GraphGroup };

export class SearchPlan {
  constructor(
    private readonly layout: DitLayout,
    private readonly reads: DirectoryReads,
    private readonly domainSid: readonly [number, number, number],
    private readonly tree: FilterNode | undefined,
    private readonly need: { memberOf: boolean; members: boolean },
  ) {}

  /**
   * The user or group a template DN names, as this viewer may see it; undefined if none (or
   * hidden). With `dn`, only an entry served under exactly that DN: an imported object keeps
   * its original DN, so the template's DN for its name names nothing.
   */
  async entryNamed(target: { name: string; asUser: boolean; asGroup: boolean }, access: ViewerAccess, dn?: ParsedDn): Promise<PlannedEntry | undefined> {
    const same: InScope | undefined = dn ? (d) => d.key === dn.key : undefined;
    if (target.asUser && !target.name.includes('@') && !isObjectId(target.name.toLowerCase())) {
      const user = await this.reads.user(target.name);
      if (user) {
        const e = await this.#user(user, access, same);
        if (e) return e;
      }
    }
    if (target.asGroup && !isObjectId(target.name.toLowerCase())) {
      const group = await this.reads.group(target.name);
      if (group) return this.#group(group, access, same);
      // No real group by that name: perhaps a user's private group.
      const own = await this.privateGroups.named(target.name, access);
      if (own && (!dn || own.evalEntry.dn?.key === dn.key)) return own;
    }
    return undefined;
  }

  /** User private groups (private-group-plan.ts), planned by the same filter. */
  get privateGroups(): PrivateGroupPlan {
    return (this.#privateGroups ??= new PrivateGroupPlan(this.layout, this.reads, this.tree));
  }

  #privateGroups: PrivateGroupPlan | undefined;

  /** An object found by its DN (DirectoryReads.byDn), as this viewer may see it. */
  entryOf(named: NamedObject, access: ViewerAccess): Promise<PlannedEntry | undefined> {
    return named.kind === 'user' ? this.#user(named.user, access) : this.#group(named.group, access);
  }

  /** Whether any user or group is served at or under `dn` (the search's plan and filter aside). */
  async anyUnder(dn: ParsedDn, under: (entry: ParsedDn, base: ParsedDn) => boolean): Promise<boolean> {
    for await (const u of this.reads.users()) if (under(parseDn(this.layout.userDnOf(u))!, dn)) return true;
    for await (const g of this.reads.groups()) if (under(parseDn(this.layout.groupDnOf(g))!, dn)) return true;
    return false;
  }

  async *users(access: ViewerAccess, inScope?: InScope): AsyncGenerator<PlannedEntry> {
    const source = await this.#userSource();
    if (source === 'none') return;
    const seen = new Set<string>();
    for await (const user of source) {
      if (seen.has(user.id)) continue;
      seen.add(user.id);
      const e = await this.#user(user, access, inScope);
      if (e) yield e;
    }
  }

  async *groups(access: ViewerAccess, inScope?: InScope): AsyncGenerator<PlannedEntry> {
    const source = await this.#groupSource();
    if (source === 'none') return;
    const seen = new Set<string>();
    for await (const group of source) {
      if (seen.has(group.id)) continue;
      seen.add(group.id);
      const e = await this.#group(group, access, inScope);
      if (e) yield e;
    }
  }

  async #user(user: GraphUser, access: ViewerAccess, inScope?: InScope): Promise<PlannedEntry | undefined> {
    const visibility = access.user(user.id);
    if (visibility === 'none') return undefined;
    const dn = this.layout.userDnOf(user);
    const parsed = parseDn(dn);
    if (inScope && (!parsed || !inScope(parsed))) return undefined;
    let memberOf: string[] | undefined;
    if (this.need.memberOf) {
      memberOf = [];
      for await (const g of this.reads.memberOf(user.id)) {
        if (g['@odata.type'] === '#microsoft.graph.group') memberOf.push(this.layout.groupDnOf(g));
      }
    }
    const entry = project(userEntry(user, { dn, domainSid: this.domainSid, memberOf }), visibility, PUBLIC_USER_ATTRIBUTES);
    return { entry, evalEntry: { id: user.id, dn: parsed, attributes: entry.attributes } };
  }

  async #group(group: GraphGroup, access: ViewerAccess, inScope?: InScope): Promise<PlannedEntry | undefined> {
    const visibility = access.group(group.id);
    if (visibility === 'none') return undefined;
    const dn = this.layout.groupDnOf(group);
    const parsed = parseDn(dn);
    if (inScope && (!parsed || !inScope(parsed))) return undefined;
    let members: { dns: string[]; userNames: string[] } | undefined;
    if (this.need.members) {
      members = { dns: [], userNames: [] };
      for await (const m of this.reads.members(group.id)) {
        if (m['@odata.type'] === '#microsoft.graph.user') {
          members.dns.push(this.layout.userDnOf(m));
          members.userNames.push(m.mailNickname);
        } else if (m['@odata.type'] === '#microsoft.graph.group') {
          members.dns.push(this.layout.groupDnOf(m));
        }
      }
    }
    let memberOf: string[] | undefined;
    if (this.need.memberOf) {
      memberOf = [];
      for await (const g of this.reads.memberOf(group.id)) {
        if (g['@odata.type'] === '#microsoft.graph.group') memberOf.push(this.layout.groupDnOf(g));
      }
    }
    const entry = project(groupEntry(group, { dn, domainSid: this.domainSid, members, memberOf }), visibility, PUBLIC_GROUP_ATTRIBUTES);
    return { entry, evalEntry: { id: group.id, dn: parsed, attributes: entry.attributes } };
  }

  async #userSource(): Promise<Source<GraphUser>> {
    const required = this.tree ? requiredEqualities(this.tree) : [];
    for (const { attribute, values } of required) {
      if (attribute === 'objectclass' && values.every((v) => GROUP_ONLY_CLASSES.has(foldValue(v)))) return 'none';
      if (GROUP_ONLY.has(attribute)) return 'none';
    }
    for (const { attribute, values } of required) {
      switch (attribute) {
        case 'uid':
        case 'samaccountname':
          return this.#lookups(values.filter((v) => !v.includes('@') && !isObjectId(v.toLowerCase())), (v) => this.reads.user(v));
        case 'userprincipalname':
          return this.#lookups(values.filter((v) => v.includes('@')), (v) => this.reads.user(v));
        case 'entryuuid':
          return this.#lookups(values.filter((v) => isObjectId(v.toLowerCase())), (v) => this.reads.user(v.toLowerCase()));
        case 'mail':
          if (values.every(lookupSafe)) return this.reads.users(values.map((v) => `mail eq ${odataString(v)}`).join(' or '));
          break;
        case 'cn':
          if (values.every(lookupSafe)) return this.reads.users(values.map((v) => `mailNickname eq ${odataString(v)} or displayName eq ${odataString(v)}`).join(' or '));
          break;
        case 'uidnumber':
        case 'gidnumber':
          if (values.every((v) => /^\d{1,9}$/.test(v.trim()))) {
            return this.reads.users(values.map((v) => `keyhavenPosix/${attribute === 'uidnumber' ? 'uidNumber' : 'gidNumber'} eq ${Number(v.trim())}`).join(' or '));
          }
          break;
      }
    }
    return this.reads.users();
  }

  async #groupSource(): Promise<Source<GraphGroup>> {
    const required = this.tree ? requiredEqualities(this.tree) : [];
    for (const { attribute, values } of required) {
      if (attribute === 'objectclass' && values.every((v) => USER_ONLY_CLASSES.has(foldValue(v)))) return 'none';
      if (USER_ONLY.has(attribute)) return 'none';
    }
    for (const { attribute, values } of required) {
      switch (attribute) {
        case 'cn':
        case 'samaccountname':
          return this.#lookups(values.filter((v) => !isObjectId(v.toLowerCase())), (v) => this.reads.group(v));
        case 'entryuuid':
          return this.#lookups(values.filter((v) => isObjectId(v.toLowerCase())), (v) => this.reads.group(v.toLowerCase()));
        case 'gidnumber':
          if (values.every((v) => /^\d{1,9}$/.test(v.trim()))) return this.reads.groups(values.map((v) => `keyhavenPosix/gidNumber eq ${Number(v.trim())}`).join(' or '));
          break;
        case 'member':
          return this.#groupsContaining(values.map((v) => this.#memberByDn(v)));
        case 'memberuid':
          return this.#groupsContaining(values.map((v) => this.reads.user(v)));
      }
    }
    return this.reads.groups();
  }

  /** A member DN's user or group: the one served under that DN (imported DNs first; then the templates, user first). */
  async #memberByDn(value: string): Promise<{ id: string } | undefined> {
    const dn = parseDn(value);
    if (!dn || dn.rdns.length === 0) return undefined;
    const named = await this.reads.byDn(value);
    if (named) {
      const object = named.kind === 'user' ? named.user : named.group;
      const served = named.kind === 'user' ? this.layout.userDnOf(named.user) : this.layout.groupDnOf(named.group);
      if (parseDn(served)?.key === dn.key) return object;
    }
    const t = this.layout.resolve(dn);
    if (t?.kind !== 'userOrGroup' || isObjectId(t.name.toLowerCase())) return undefined;
    const user = t.asUser && !t.name.includes('@') ? await this.reads.user(t.name) : undefined;
    if (user && parseDn(this.layout.userDnOf(user))?.key === dn.key) return user;
    const group = t.asGroup ? await this.reads.group(t.name) : undefined;
    return group && parseDn(this.layout.groupDnOf(group))?.key === dn.key ? group : undefined;
  }

  async *#groupsContaining(members: Promise<{ id: string } | undefined>[]): AsyncGenerator<GraphGroup> {
    for (const pending of members) {
      const m = await pending;
      if (!m) continue;
      for await (const g of this.reads.memberOf(m.id)) {
        if (g['@odata.type'] === '#microsoft.graph.group') yield g;
      }
    }
  }

  async *#lookups<T extends { id: string }>(values: string[], read: (v: string) => Promise<T | undefined>): AsyncGenerator<T> {
    for (const v of values.slice(0, 64)) {
      const found = await read(v);
      if (found) yield found;
    }
  }
}
