// Where a search's user private groups come from (private-groups.ts; served as
// private-group-entry.ts has them). They follow from users, so the same shortcuts as for
// groups apply, through the user they belong to: `(gidNumber=N)` — SSSD's and nslcd's
// getgrgid — is the user whose uidNumber is N; `(cn=x)` and `(memberUid=x)` — getgrnam and
// initgroups — the user named x. A required equality on anything a private group does not
// carry (member, uid, a user-only class) rules them all out. Anything else goes through
// every user once, against the real groups' names, gids and DNs read once beforehand.
//
// A private group is served under the group template's DN for its name, and only where that
// DN names nothing else: not when users and groups share one template (the AD DS layout, where
// `CN=alice,OU=AADDC Users,…` is the user), nor at an imported group's DN.
import { privateGroupOf, type GroupNamespace, type PrivateGroup } from '../../directory/private-groups.js';
import { PUBLIC_GROUP_ATTRIBUTES, project, type ViewerAccess } from './access.js';
import type { DirectoryReads } from './directory-reads.js';
import type { DitLayout } from './dit-layout.js';
import { foldValue, parseDn } from './distinguished-name.js';
import type { FilterNode } from './filter-ast.js';
import { requiredEqualities } from './filter-eval.js';
import { PRIVATE_GROUP_ATTRIBUTES, PRIVATE_GROUP_CLASSES, privateGroupEntry } from './private-group-entry.js';
import type { InScope, PlannedEntry } from './search-plan.js';

const CLASSES = new Set(PRIVATE_GROUP_CLASSES.map((c) => c.toLowerCase()));
const MAX_LOOKUPS = 64;

export class PrivateGroupPlan {
  constructor(
    private readonly layout: DitLayout,
    private readonly reads: DirectoryReads,
    private readonly tree: FilterNode | undefined,
  ) {}

  /** Whether this layout can serve private groups at all (users and groups on distinct DNs). */
  get served(): boolean {
    const u = this.layout.users;
    const g = this.layout.groups;
    return this.reads.privateGroupRules().enabled && !(u.parent.key === g.parent.key && u.rdnType === g.rdnType);
  }

  /** The private groups the search may match, as this viewer may see them. */
  async *entries(access: ViewerAccess, inScope?: InScope): AsyncGenerator<PlannedEntry> {
    if (!this.served) return;
    const lookups = this.#lookups();
    if (lookups === 'none') return;
    if (lookups !== 'all') {
      const seen = new Set<string>();
      for (const pending of lookups) {
        const group = await pending;
        if (!group || seen.has(group.id)) continue;
        seen.add(group.id);
        const e = await this.#entry(group, access, inScope, undefined);
        if (e) yield e;
      }
      return;
    }
    const { namespace, dns } = await this.#realGroups();
    const rules = this.reads.privateGroupRules();
    for await (const user of this.reads.users()) {
      const group = privateGroupOf(user, rules, namespace);
      if (!group) continue;
      const e = await this.#entry(group, access, inScope, dns);
      if (e) yield e;
    }
  }

  /** The private group served under the template DN for `name` (a base search on it), as this viewer may see it. */
  async named(name: string, access: ViewerAccess): Promise<PlannedEntry | undefined> {
    if (!this.served) return undefined;
    const group = await this.reads.privateGroupNamed(name);
    return group ? this.#entry(group, access, undefined, undefined) : undefined;
  }

  #lookups(): Promise<PrivateGroup | undefined>[] | 'none' | 'all' {
    const required = this.tree ? requiredEqualities(this.tree) : [];
    for (const { attribute, values } of required) {
      if (!PRIVATE_GROUP_ATTRIBUTES.has(attribute)) return 'none';
      if (attribute === 'objectclass' && !values.some((v) => CLASSES.has(foldValue(v)))) return 'none';
    }
    for (const { attribute, values } of required) {
      if (attribute === 'cn' || attribute === 'memberuid') {
        return values.slice(0, MAX_LOOKUPS).map((v) => this.reads.privateGroupNamed(v.trim()));
      }
      if (attribute === 'gidnumber' && values.every((v) => /^\d{1,10}$/.test(v.trim()))) {
        return values.slice(0, MAX_LOOKUPS).map((v) => this.reads.privateGroupWithGid(Number(v.trim())));
      }
    }
    return 'all';
  }

  async #entry(group: PrivateGroup, access: ViewerAccess, inScope: InScope | undefined, realDns: ReadonlySet<string> | undefined): Promise<PlannedEntry | undefined> {
    // Visible exactly where the user it belongs to is.
    const visibility = access.user(group.userId);
    if (visibility === 'none') return undefined;
    const dn = this.layout.groupDn(group.name);
    const parsed = parseDn(dn);
    if (!parsed || (inScope && !inScope(parsed))) return undefined;
    if (realDns ? realDns.has(parsed.key) : (await this.reads.byDn(dn)) !== undefined) return undefined;
    const entry = project(privateGroupEntry(group, dn), visibility, PUBLIC_GROUP_ATTRIBUTES);
    return { entry, evalEntry: { id: group.id, dn: parsed, attributes: entry.attributes } };
  }

  /** The real groups' names and gids (private-groups.ts's GroupNamespace) and served DNs, in one pass. */
  async #realGroups(): Promise<{ namespace: GroupNamespace; dns: Set<string> }> {
    const names = new Set<string>();
    const gids = new Set<number>();
    const dns = new Set<string>();
    for await (const g of this.reads.groups()) {
      names.add(g.mailNickname.toLowerCase());
      if (g.keyhavenPosix.gidNumber !== null) gids.add(g.keyhavenPosix.gidNumber);
      const key = parseDn(this.layout.groupDnOf(g))?.key;
      if (key !== undefined) dns.add(key);
    }
    for await (const u of this.reads.users()) {
      const key = parseDn(this.layout.userDnOf(u))?.key;
      if (key !== undefined) dns.add(key);
    }
    return { namespace: { hasGroupNamed: (n) => names.has(n.toLowerCase()), hasGroupWithGid: (gid) => gids.has(gid) }, dns };
  }
}
