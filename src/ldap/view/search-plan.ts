// Where a search's candidate entries come from, and the rule that keeps searches exact
// (issue 8): candidates are only ever pre-selected by the values entries serve — the search
// indexes over served entries (served-index.ts) for equalities, the read model's transitive
// closure for IN_CHAIN — and every candidate is then checked by the filter evaluator
// (filter-eval.ts) against the entry exactly as this viewer is served it. Pre-selection may
// offer too many, never too few:
//
//  - (attr=v) on an indexed attribute: the entries serving a value equal to v under attr's
//    equality rule; otherwise any entry;
//  - (a:1.2.840.113556.1.4.1941:=dn): the objects in the chain the evaluator will test;
//  - AND: the smallest of its parts' candidate sets (every part must hold);
//  - OR: the union of its parts' sets, any entry if one part could be any;
//  - NOT, presence, substrings, ordering, approx and other extensible items: any entry.
//
// Most searches clients send name one entry (JupyterHub's `(sAMAccountName=alice)`, SSSD's
// `(&(uid=alice)(objectClass=posixAccount))`, a group check `(member=uid=alice,…)`), so they
// cost one index lookup and one rendering. Users come before groups, each in the read
// model's order. A search's scope is checked on each candidate's DN before it is rendered.
// Who sees which entry and attribute is the directory's to say: every entry is rendered
// through the caller's ScopedReader (src/directory/scoped-reader.ts), an in-memory rule.
import type { DirectoryModel } from '../../directory/read-model/directory-model.js';
import { privateGroupOf, type PrivateGroupRules } from '../../directory/private-groups.js';
import { privateGroupEntry } from './private-group-entry.js';
import type { GraphGroup, GraphUser } from '../../directory/graph-objects.js';
import type { LdapEntry } from '../ldap-directory.js';
import type { ScopedReader } from '../../directory/scoped-reader.js';
import { visibleEntry } from './visible-entry.js';
import { parseDn, type ParsedDn } from './distinguished-name.js';
import type { FilterNode } from './filter-ast.js';
import { evaluate, IN_CHAIN, type EvalContext, type EvalEntry } from './filter-eval.js';
import type { Needs, ServedEntries } from './served-entries.js';
import type { IndexedEntry, ServedIndex } from './served-index.js';

export interface PlannedEntry {
  entry: LdapEntry;
  evalEntry: EvalEntry;
}

/** A user or group a DN named. */
export type NamedObject = { kind: 'user'; user: GraphUser } | { kind: 'group'; group: GraphGroup };

/** Which DNs a search covers, by the candidate's normalised RDNs (leaf first). */
export type Covers = (rdnKeys: readonly string[]) => boolean;

type Candidates = ReadonlySet<string> | 'all';

export class SearchPlan {
  constructor(
    readonly model: DirectoryModel,
    private readonly index: ServedIndex,
    private readonly served: ServedEntries,
    private readonly need: Needs,
    private readonly privateGroups: PrivateGroupRules | undefined,
  ) {}

  /** The id of the user private group served under exactly this DN, if any. */
  privateAt(dn: ParsedDn): string | undefined {
    for (const id of this.index.atDn(dn.key)) if (this.index.entry(id)?.kind === 'private' && this.#privateServed(id)) return id;
    return undefined;
  }

  /** A private group entry as this viewer is served it; undefined when not served or hidden. */
  privateEntry(id: string, reader: ScopedReader): PlannedEntry | undefined {
    const indexed = this.index.entry(id);
    return indexed?.kind === 'private' ? this.#render(id, indexed, reader, true) : undefined;
  }

  /** The user or group served under exactly this DN (a user first, as templates resolve), if any. */
  objectAt(dn: ParsedDn): NamedObject | undefined {
    if (dn.rdns.length === 0) return undefined;
    let group: GraphGroup | undefined;
    for (const id of this.index.atDn(dn.key)) {
      const user = this.model.user(id);
      if (user) return { kind: 'user', user };
      group ??= this.model.group(id);
    }
    return group ? { kind: 'group', group } : undefined;
  }

  /** Whether any user or group is served strictly beneath `dn`. */
  anyBelow(dn: ParsedDn): boolean {
    const covers = coversOf(dn, 'sub');
    for (const u of this.model.users()) {
      const e = this.index.entry(u.id);
      if (e && e.rdnKeys.length > dn.rdnKeys.length && covers(e.rdnKeys)) return true;
    }
    for (const g of this.model.groups()) {
      const e = this.index.entry(g.id);
      if (e && e.rdnKeys.length > dn.rdnKeys.length && covers(e.rdnKeys)) return true;
    }
    return false;
  }

  /** An object as this viewer is served it; undefined when hidden from them. */
  entryOf(named: NamedObject, reader: ScopedReader, withDn = false): PlannedEntry | undefined {
    const id = named.kind === 'user' ? named.user.id : named.group.id;
    const indexed = this.index.entry(id);
    return indexed ? this.#render(id, indexed, reader, withDn) : undefined;
  }

  /**
   * The entries in scope that the filter is TRUE for, as this viewer is served them: users,
   * then groups. `ctx` resolves IN_CHAIN for the evaluator and for pre-selection alike.
   */
  *matches(tree: FilterNode, ctx: EvalContext, reader: ScopedReader, covers: Covers): Generator<LdapEntry> {
    const candidates = candidatesOf(tree, this.index, ctx);
    const withDn = usesDnAttributes(tree);
    const check = (id: string, kind: IndexedEntry['kind']): LdapEntry | undefined => {
      const indexed = this.index.entry(id);
      if (!indexed || indexed.kind !== kind || !covers(indexed.rdnKeys)) return undefined;
      const planned = this.#render(id, indexed, reader, withDn);
      return planned && evaluate(tree, planned.evalEntry, ctx) === true ? planned.entry : undefined;
    };
    if (candidates === 'all') {
      // A snapshot of the ids: a paged search's iterator may outlive changes to the model.
      for (const id of [...this.model.users()].map((u) => u.id)) {
        const e = check(id, 'user');
        if (e) yield e;
      }
      for (const id of [...this.model.groups()].map((g) => g.id)) {
        const e = check(id, 'group');
        if (e) yield e;
      }
      if (!this.privateGroups) return;
      for (const userId of [...this.model.users()].map((u) => u.id)) {
        const id = this.index.privateOf(userId);
        const e = id === undefined ? undefined : check(id, 'private');
        if (e) yield e;
      }
      return;
    }
    const ids = [...candidates];
    for (const kind of ['user', 'group', 'private'] as const) {
      for (const id of ids) {
        const e = check(id, kind);
        if (e) yield e;
      }
    }
  }

  /**
   * Whether a private group candidate is served now (private-groups.ts): no real group has
   * its name or gid, and no real entry is served under its DN.
   */
  #privateServed(id: string): boolean {
    const indexed = this.index.entry(id);
    const user = indexed?.userId === undefined ? undefined : this.model.user(indexed.userId);
    if (!indexed || !user || !this.privateGroups) return false;
    if (!privateGroupOf(user, this.privateGroups, this.model)) return false;
    return [...this.index.atDn(indexed.dnKey ?? '')].every((other) => this.index.entry(other)?.kind === 'private');
  }

  #render(id: string, indexed: IndexedEntry, reader: ScopedReader, withDn: boolean): PlannedEntry | undefined {
    let entry: LdapEntry;
    if (indexed.kind === 'private') {
      if (!this.#privateServed(id)) return undefined;
      const user = this.model.user(indexed.userId!)!;
      // Visible exactly where the user it belongs to is, as the user's own.
      if (!reader.seesUser(user.id)) return undefined;
      const group = privateGroupOf(user, this.privateGroups!, this.model)!;
      entry = visibleEntry(privateGroupEntry(group, indexed.dn), reader.attributeRule(user.id));
    } else if (indexed.kind === 'user') {
      const user = this.model.user(id);
      if (!user || !reader.seesUser(id)) return undefined;
      entry = visibleEntry(this.served.user(this.model, user, this.need, indexed.dn), reader.attributeRule(id));
    } else {
      const group = this.model.group(id);
      if (!group || !reader.seesGroup(id)) return undefined;
      entry = visibleEntry(this.served.group(this.model, group, this.need, indexed.dn), reader.attributeRule(id));
    }
    return { entry, evalEntry: { id, dn: withDn ? parseDn(indexed.dn) : undefined, attributes: entry.attributes } };
  }
}

/** The scope test of RFC 4511 §4.5.1.2 on normalised RDNs: base, one level below, or the subtree. */
export function coversOf(base: ParsedDn, scope: 'base' | 'one' | 'sub'): Covers {
  const n = base.rdnKeys.length;
  const under = (rdnKeys: readonly string[]) => {
    const offset = rdnKeys.length - n;
    if (offset < 0) return false;
    for (let i = 0; i < n; i++) if (rdnKeys[offset + i] !== base.rdnKeys[i]) return false;
    return true;
  };
  if (scope === 'base') return (k) => k.length === n && under(k);
  if (scope === 'one') return (k) => k.length === n + 1 && under(k);
  return under;
}

/** The entries a filter can be TRUE for, as pre-selection may know them (a superset), or 'all'. */
export function candidatesOf(node: FilterNode, index: ServedIndex, ctx: EvalContext): Candidates {
  switch (node.op) {
    case 'eq': {
      const found = index.lookup(node.attr, node.value.toString('utf8'));
      return found === undefined ? 'all' : found instanceof Set ? found : new Set(found);
    }
    case 'ext': {
      // As filter-eval.ts evaluates it: TRUE only for the ids in the chain.
      const attr = node.attr?.toLowerCase();
      if (node.rule?.toLowerCase() === IN_CHAIN && (attr === 'memberof' || attr === 'member')) return ctx.inChain(attr, node.value) ?? EMPTY;
      return 'all';
    }
    case 'and': {
      let best: ReadonlySet<string> | undefined;
      for (const item of node.items) {
        const c = candidatesOf(item, index, ctx);
        if (c !== 'all' && (best === undefined || c.size < best.size)) best = c;
        if (best?.size === 0) break;
      }
      return best ?? 'all';
    }
    case 'or': {
      const union = new Set<string>();
      for (const item of node.items) {
        const c = candidatesOf(item, index, ctx);
        if (c === 'all') return 'all';
        for (const id of c) union.add(id);
      }
      return union;
    }
    default:
      return 'all';
  }
}

/** Whether an extensible item with `:dn:` needs the entry's RDN values. */
function usesDnAttributes(node: FilterNode): boolean {
  if (node.op === 'and' || node.op === 'or') return node.items.some(usesDnAttributes);
  if (node.op === 'not') return usesDnAttributes(node.item);
  return node.op === 'ext' && node.dnAttributes;
}

const EMPTY: ReadonlySet<string> = new Set();
