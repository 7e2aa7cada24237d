// The directory as LDAP sees it: the LdapDirectory the protocol face (src/ldap/server/) calls.
//
// Construct once per server and share across connections:
//
//   import { LdapView } from './ldap/view/ldap-view.js';
//   import { ldapViewConfig } from './ldap/view/view-config.js';
//   const view = new LdapView({ directory, config: ldapViewConfig(config) });
//
// `directory` is the DirectoryService; `config` the resolved view settings (base DN, DN
// templates). Entries come back with every attribute the viewer may see (operational ones included: schema.ts isOperational tells which); the
// face applies the requested attribute list, typesOnly, size/time limits and paging. The view
// holds no cache with a lifetime: every search and compare is served from the directory
// core's read model (read-model/), which is exact as of the last commit (this process's at
// once, other replicas' as their NOTIFY arrives), through search indexes over the entries as
// served (served-index.ts) that follow each change of the model in the same turn. It never
// touches storage itself, and decides nothing about access: each operation asks the
// directory for a reader scoped to the bound caller (src/directory/scoped-reader.ts), and the
// entries it serves are the ones that reader sees, with the attributes it sees.
//
// Users and groups an LDIF import brought in are served under the DN they came with
// (dit-layout.ts): bind, compare, a search's base and a filter's DN values (member=…,
// IN_CHAIN) try those DNs first, then the templates. The import's other entries — its base,
// containers and bind-only accounts (ldap-entries.ts) — are served as imported, in place of
// the base and containers the layout would make up at the same DNs; a bind-only account binds
// with its DN and password as a service account. Each imported tree's suffix is a naming
// context of its own (Root DSE namingContexts), searchable with that suffix as base, however
// far from ldapBaseDn. An entry is in a subtree iff its DN is under the base; a DN above
// imported entries that names no entry of its own (`OU=Staff,DC=corp,DC=example` when the
// LDIF lacked it) answers as an organizational unit while anything lies beneath it.
import { SecretValue } from '../../crypto/secret-value.js';
import type { DirectoryService } from '../../directory/directory-service.js';
import type { ImportedLdapEntry } from '../../directory/ldap-entries.js';
import {
  LDAP_RESULT, LdapResultError,
  type BindResult, type LdapChange, type LdapDirectory, type LdapEntry, type LdapViewer, type LdapWriteAttribute, type LdapWriter, type SearchParams,
} from '../ldap-directory.js';
import type { ScopedReader } from '../../directory/scoped-reader.js';
import { ldapError } from '../ldap-errors.js';
import { LdapWrites } from './ldap-writes.js';
import { domainSubAuthorities } from './ad-identifiers.js';
import { visibleEntry } from './visible-entry.js';
import { DitLayout } from './dit-layout.js';
import { isAtOrUnder, parentOf, parseDn, tidyDn, type ParsedDn } from './distinguished-name.js';
import { EntryBuilder } from './entry-builder.js';
import { importedEntry } from './imported-entry.js';
import { filterTree, type FilterNode } from './filter-ast.js';
import { evaluate, filterAttributes, inChainAssertions, type EvalContext } from './filter-eval.js';
import { matchEquality } from './matching-rules.js';
import { attributeType, importedType } from './schema.js';
import { SUBSCHEMA_DN, subschemaValues, type ImportedNames } from '../schema/subschema-entry.js';
import { coversOf, SearchPlan, type NamedObject } from './search-plan.js';
import { EVERYTHING, ServedEntries, type Needs } from './served-entries.js';
import { ServedIndex } from './served-index.js';
import type { DirectoryModel } from '../../directory/read-model/directory-model.js';
import type { PrivateGroupRules } from '../../directory/private-groups.js';
import type { LdapViewConfig } from './view-config.js';

export interface LdapViewDeps {
  directory: DirectoryService;
  config: LdapViewConfig;
}

export { SUBSCHEMA_DN };
export const SUPPORTED_CONTROLS = ['1.2.840.113556.1.4.319'];
export const SUPPORTED_EXTENSIONS = ['1.3.6.1.4.1.1466.20037', '1.3.6.1.4.1.4203.1.11.3', '1.3.6.1.4.1.4203.1.11.1'];

/** What a DN names in the view. */
type Resolved =
  | { kind: 'structural' }
  | { kind: 'named'; named: NamedObject }
  /** A user private group (private-groups.ts), by its entry id. */
  | { kind: 'private'; id: string }
  | { kind: 'service' }
  /** Under the base, naming no entry of its own: imported entries may lie beneath. */
  | { kind: 'virtual' };

export class LdapView implements LdapDirectory {
  readonly layout: DitLayout;
  readonly #directory: DirectoryService;
  readonly #domainSid: [number, number, number];
  readonly #subschemaKey: string;
  readonly #writes: LdapWrites;
  readonly #served: ServedEntries;
  readonly #bindSecondFactor: 'ignore' | 'append' | 'refuse';
  /** The search indexes over the directory's read model (one model per directory service). */
  readonly #indexes = new WeakMap<DirectoryModel, ServedIndex>();

  constructor(deps: LdapViewDeps) {
    this.#directory = deps.directory;
    this.#bindSecondFactor = deps.config.bindSecondFactor ?? 'ignore';
    this.layout = new DitLayout(deps.config);
    this.#domainSid = domainSubAuthorities(this.layout.base.key);
    this.#subschemaKey = parseDn(SUBSCHEMA_DN)!.key;
    this.#served = new ServedEntries(this.layout, this.#domainSid);
    this.#writes = new LdapWrites(deps.directory, this.layout, (dn, reader) => this.#objectAt(dn, reader), deps.config.upnDomain);
  }

  // Writes (the face calls these only when ldapAdminWrites is on; ldap-writes.ts) ----------

  add(dn: string, attributes: LdapWriteAttribute[], writer: LdapWriter): Promise<void> {
    return this.#writes.add(dn, attributes, writer);
  }

  modify(dn: string, changes: LdapChange[], writer: LdapWriter): Promise<void> {
    return this.#writes.modify(dn, changes, writer);
  }

  delete(dn: string, writer: LdapWriter): Promise<void> {
    return this.#writes.delete(dn, writer);
  }

  /** The Root DSE (RFC 4512 §5.1): ldapBaseDn first, then the suffix of each imported tree. */
  async rootDse(): Promise<LdapEntry> {
    const contexts = [this.layout.baseText];
    for (const c of await this.#directory.ldapNames().namingContexts()) {
      const parsed = parseDn(c);
      if (parsed && parsed.rdns.length > 0 && !contexts.some((k) => parseDn(k)?.key === parsed.key)) contexts.push(tidyDn(c));
    }
    return new EntryBuilder('')
      .set('objectClass', 'top')
      .set('namingContexts', ...contexts)
      .set('defaultNamingContext', this.layout.baseText)
      .set('subschemaSubentry', SUBSCHEMA_DN)
      .set('supportedLDAPVersion', '3')
      .set('supportedControl', ...SUPPORTED_CONTROLS)
      .set('supportedExtension', ...SUPPORTED_EXTENSIONS)
      // RFC 3673: `+` returns all operational attributes.
      .set('supportedFeatures', '1.3.6.1.4.1.4203.1.5.1')
      .set('vendorName', 'Keyhaven')
      .build();
  }

  /**
   * The subschema subentry (RFC 4512 §4.2; src/ldap/schema/): the published definitions and,
   * given what imported entries carry, a definition for each of their names that has none.
   */
  subschema(imported?: ImportedNames): LdapEntry {
    const values = subschemaValues(imported);
    return new EntryBuilder(SUBSCHEMA_DN)
      .set('objectClass', 'top', 'subentry', 'subschema')
      .set('cn', 'Subschema')
      .set('attributeTypes', ...values.attributeTypes)
      .set('objectClasses', ...values.objectClasses)
      .set('ldapSyntaxes', ...values.ldapSyntaxes)
      .set('matchingRules', ...values.matchingRules)
      .set('entryDN', SUBSCHEMA_DN)
      .set('subschemaSubentry', SUBSCHEMA_DN)
      .build();
  }

  async #currentSubschema(): Promise<LdapEntry> {
    return this.subschema(await this.#directory.ldapNames().importedSchemaNames());
  }

  // Bind ---------------------------------------------------------------------------------

  /**
   * A user's DN (any DN the user template produces, case and spacing as the client likes),
   * their userPrincipalName (AD accepts `alice@domain` as a bind name), or a service account's
   * `cn={appId},ou=services,{base}`. Every failure is 49 with AD's diagnostic (ldap-errors.ts);
   * an empty password is an unauthenticated bind (RFC 4513 §5.1.2), refused with 53.
   */
  async bind(dn: string, password: string, source: string): Promise<BindResult> {
    if (typeof password !== 'string' || password === '') {
      throw new LdapResultError(LDAP_RESULT.unwillingToPerform, 'unauthenticated bind (DN with no password) disallowed');
    }
    const parsed = parseDn(dn);
    const target = parsed && parsed.rdns.length > 0 ? this.layout.resolve(parsed) : undefined;
    try {
      // Names only, before anyone is authenticated (DirectoryService.ldapNames).
      const names = this.#directory.ldapNames();
      // An imported user's original DN, wherever it lies.
      const named = parsed && parsed.rdns.length > 0 && target?.kind !== 'service' ? await names.bySourceDn(dn) : undefined;
      // An imported bind-only account (`cn=reader,dc=…`): a service account by DN and password.
      const account = parsed && parsed.rdns.length > 0 && target?.kind !== 'service' && named === undefined
        ? (await names.importedEntries()).find((e) => e.servicePrincipalId !== null && parseDn(e.dn)?.key === parsed.key)
        : undefined;
      if (account) {
        const sp = await this.#directory.authenticateLdapAccount(dn, password, source);
        return { viewer: { kind: 'serviceAccount', id: sp.objectId, dn: tidyDn(account.dn) } };
      }
      if (target?.kind === 'service') {
        const sp = await this.#directory.authenticateClientSecret(target.appId, new SecretValue(password), source);
        return { viewer: { kind: 'serviceAccount', id: sp.objectId, dn: this.layout.serviceDn(sp.appId) } };
      }
      // Unknown DNs still go through the directory (throttle, dummy hash work, audit), so they
      // cost and answer exactly as a wrong password does.
      const name = named?.kind === 'user' ? named.user.mailNickname
        : target?.kind === 'userOrGroup' && target.asUser ? target.name
          : !parsed && typeof dn === 'string' && dn.includes('@') ? dn.trim() : undefined;
      // A name no account can have (no user name holds a control character or `ldap-dn:`).
      const signIn = name !== undefined && !/\p{Cc}/u.test(name) ? name : `ldap-dn:${String(dn).replace(/\p{Cc}/gu, '?').slice(0, 200)}`;
      // A user who must use a second factor: ldapBindSecondFactor decides (FreeIPA's password+code, or refusal).
      const user = await this.#directory.authenticateUser(signIn, new SecretValue(password), source, undefined, { secondFactor: this.#bindSecondFactor });
      const self = named?.kind === 'user' && named.user.id === user.objectId ? named.user : await names.user(user.objectId);
      return { viewer: { kind: 'user', id: user.objectId, dn: self ? this.layout.userDnOf(self) : this.layout.userDn(user.username) } };
    } catch (err) {
      throw ldapError(err, 'bind');
    }
  }

  // Search -------------------------------------------------------------------------------

  async *search(params: SearchParams, viewer: LdapViewer): AsyncIterable<LdapEntry> {
    const tree = filterTree(params.filter);
    const base = parseDn(params.baseDn);
    if (!base) throw new LdapResultError(LDAP_RESULT.invalidDnSyntax, 'the search base is not a DN');
    if (base.rdns.length === 0) {
      // The Root DSE is a base-scope search of the empty DN (RFC 4512 §5.1); nothing lies beneath it.
      const dse = await this.rootDse();
      if (params.scope === 'base' && this.#matches(tree, dse)) yield dse;
      return;
    }
    if (base.key === this.#subschemaKey) {
      const subschema = params.scope !== 'one' ? await this.#currentSubschema() : undefined;
      if (subschema && this.#matches(tree, subschema)) yield subschema;
      return;
    }
    const reader = await this.#reader(viewer, 'search');
    const imported = await this.#imported(reader);
    const plan = this.#plan(needs(params.attributes, tree), reader.model);
    const target = this.#resolve(base, plan, imported);
    if (!target || target.kind === 'service') throw this.#noSuchObject(base);
    const ctx = this.#evalContext(tree, plan);

    if (target.kind === 'named' || target.kind === 'private') {
      // A user or group as the base: itself for base and subtree scope, nothing below it.
      const found = target.kind === 'named' ? plan.entryOf(target.named, reader, true) : plan.privateEntry(target.id, reader);
      if (!found) throw this.#noSuchObject(base);
      if (params.scope !== 'one' && evaluate(tree, found.evalEntry, ctx) === true) yield found.entry;
      return;
    }
    if (target.kind === 'virtual') {
      if (!imported.entries.some((e) => isBelow(e.dn, base)) && !plan.anyBelow(base)) throw this.#noSuchObject(base);
      const entry = intermediateEntry(base, params.baseDn);
      if (params.scope !== 'one' && this.#matches(tree, entry)) yield entry;
    }
    for (const s of this.#structuralEntries(imported, reader)) {
      if (inScope(s.dn, base, params.scope) && this.#matches(tree, s.entry)) yield s.entry;
    }
    if (params.scope === 'base') return;
    // Template-named entries sit in their containers, imported ones wherever their DN says:
    // each entry is checked against the scope by its own DN.
    yield* plan.matches(tree, ctx, reader, coversOf(base, params.scope));
  }

  /**
   * The directory as the bound caller may read it, for one operation; a caller that may not
   * read at all is refused in LDAP's terms (ldap-errors.ts: insufficientAccessRights).
   */
  async #reader(viewer: LdapViewer, operation: 'search' | 'compare'): Promise<ScopedReader> {
    try {
      return await this.#directory.scopedReader(viewer.kind === 'anonymous' ? { kind: 'anonymous' } : { kind: 'principal', id: viewer.id });
    } catch (err) {
      throw ldapError(err, operation);
    }
  }

  /** The read model the caller's reader reads, its search indexes, and a plan over them. */
  #plan(need: Needs, model: DirectoryModel): SearchPlan {
    let index = this.#indexes.get(model);
    const privateGroups = this.#privateGroupRules();
    if (!index) {
      index = new ServedIndex(model, this.#served, privateGroups);
      this.#indexes.set(model, index);
    }
    return new SearchPlan(model, index, this.#served, need, privateGroups);
  }

  /**
   * The user private group rules (private-groups.ts), or undefined where none are served:
   * when off, or when users and groups share one template (the AD DS layout, where
   * `CN=alice,OU=AADDC Users,…` is the user).
   */
  #privateGroupRules(): PrivateGroupRules | undefined {
    const rules = this.#directory.ldapNames().privateGroupRules();
    const u = this.layout.users;
    const g = this.layout.groups;
    return rules.enabled && !(u.parent.key === g.parent.key && u.rdnType === g.rdnType) ? rules : undefined;
  }

  /**
   * What a (non-empty, non-subschema) DN names: the base or a container (or an entry an
   * import brought at that DN); else the user, group or user private group served under that
   * DN (imported ones under their original DN); else a service account's DN; else a
   * template's DN that names nothing (undefined); else, in a naming context, possibly a node
   * above imported entries.
   */
  #resolve(dn: ParsedDn, plan: SearchPlan, imported: ImportedView): Resolved | undefined {
    const t = this.layout.resolve(dn);
    if (t?.kind === 'root') return undefined;
    if (t?.kind === 'base' || t?.kind === 'container') return { kind: 'structural' };
    if (imported.entries.some((e) => e.dn.key === dn.key)) return { kind: 'structural' };
    if (t?.kind === 'service') return { kind: 'service' };
    const named = plan.objectAt(dn);
    if (named) return { kind: 'named', named };
    const own = plan.privateAt(dn);
    if (own !== undefined) return { kind: 'private', id: own };
    if (t?.kind === 'userOrGroup') return undefined;
    const inContext = isAtOrUnder(dn, this.layout.base) || imported.contexts.some((c) => isAtOrUnder(dn, c));
    return inContext ? { kind: 'virtual' } : undefined;
  }

  /** The imported entries (parsed DNs) and naming contexts, read once per operation. */
  async #imported(reader: ScopedReader): Promise<ImportedView> {
    const entries: ImportedView['entries'] = [];
    for (const e of await reader.importedEntries()) {
      const dn = parseDn(e.dn);
      if (dn && dn.rdns.length > 0) entries.push({ dn, entry: e });
    }
    const contexts = (await reader.namingContexts()).map((c) => parseDn(c)).filter((c): c is ParsedDn => c !== undefined && c.rdns.length > 0);
    return { entries, contexts };
  }

  /** The user or group served under a DN, as the writer's reader sees it (LDAP writes' member values and targets). */
  #objectAt(dn: ParsedDn, reader: ScopedReader): NamedObject | undefined {
    const named = this.#plan(NOTHING, reader.model).objectAt(dn);
    if (!named) return undefined;
    return (named.kind === 'user' ? reader.seesUser(named.user.id) : reader.seesGroup(named.group.id)) ? named : undefined;
  }

  #matches(tree: FilterNode, entry: LdapEntry): boolean {
    return evaluate(tree, { attributes: entry.attributes, dn: parseDn(entry.dn) }, NO_CHAIN) === true;
  }

  #noSuchObject(dn: ParsedDn): LdapResultError {
    return new LdapResultError(LDAP_RESULT.noSuchObject, 'no such object', this.layout.matchedDn(dn));
  }

  /**
   * The base entry and the containers — the imported ones where an import brought them, as the
   * layout makes them up otherwise — and every other imported entry, with the attributes the
   * caller's reader sees (a bind-only account's are its own).
   */
  #structuralEntries(imported: ImportedView, reader: ScopedReader): { dn: ParsedDn; entry: LdapEntry }[] {
    const own = this.#layoutEntries().filter((s) => !imported.entries.some((e) => e.dn.key === s.dn.key));
    return [...own, ...imported.entries.map((e) => ({
      dn: e.dn,
      entry: visibleEntry(importedEntry(e.entry), reader.attributeRule(e.entry.servicePrincipalId ?? undefined)),
    }))];
  }

  /** The base entry and the containers as the layout makes them up. */
  #layoutEntries(): { dn: ParsedDn; entry: LdapEntry }[] {
    const base = this.layout.base;
    const [type, value] = base.rdns[0]!.pairs[0]!;
    const baseEntry = new EntryBuilder(this.layout.baseText)
      .set('objectClass', ...(type === 'dc' ? ['top', 'domain', 'dcObject'] : type === 'ou' ? ['top', 'organizationalUnit'] : ['top']))
      .set(type, value)
      .set('entryDN', this.layout.baseText)
      .set('hasSubordinates', 'TRUE')
      .build();
    const out = [{ dn: base, entry: baseEntry }];
    for (const c of this.layout.containers()) {
      const [ctype, cvalue] = c.dn.rdns[0]!.pairs[0]!;
      out.push({
        dn: c.dn,
        entry: new EntryBuilder(c.text)
          .set('objectClass', ...(ctype === 'ou' ? ['top', 'organizationalUnit'] : ['top', 'container']))
          .set(ctype, cvalue)
          .set('entryDN', c.text)
          .set('hasSubordinates', 'TRUE')
          .build(),
      });
    }
    return out;
  }

  /** Resolves each IN_CHAIN assertion of the filter once, from the read model's current state. */
  #evalContext(tree: FilterNode, plan: SearchPlan): EvalContext {
    const chains = new Map<string, ReadonlySet<string> | undefined>();
    const model = plan.model;
    for (const a of inChainAssertions(tree)) {
      const dn = parseDn(a.value);
      const key = `${a.attribute}|${dn?.key ?? ''}`;
      if (chains.has(key)) continue;
      const object = dn ? plan.objectAt(dn) : undefined;
      let set: ReadonlySet<string> | undefined;
      if (object) {
        // memberOf:IN_CHAIN:=G — the members of G at any depth; member:IN_CHAIN:=X — X's groups at any depth.
        if (a.attribute === 'memberof') set = object.kind === 'group' ? model.transitiveMembers(object.group.id) : undefined;
        else set = model.transitiveGroupsOf(object.kind === 'user' ? object.user.id : object.group.id);
      }
      chains.set(key, set);
    }
    return {
      inChain: (attribute, value) => chains.get(`${attribute}|${parseDn(value)?.key ?? ''}`),
    };
  }

  // Compare ------------------------------------------------------------------------------

  async compare(dn: string, attribute: string, value: string, viewer: LdapViewer): Promise<boolean> {
    const parsed = parseDn(dn);
    if (!parsed) throw new LdapResultError(LDAP_RESULT.invalidDnSyntax, 'the entry name is not a DN');
    let entry: LdapEntry | undefined;
    if (parsed.rdns.length === 0) entry = await this.rootDse();
    else if (parsed.key === this.#subschemaKey) entry = await this.#currentSubschema();
    else {
      const reader = await this.#reader(viewer, 'compare');
      const imported = await this.#imported(reader);
      const plan = this.#plan(EVERYTHING, reader.model);
      const target = this.#resolve(parsed, plan, imported);
      if (target?.kind === 'named') entry = plan.entryOf(target.named, reader)?.entry;
      else if (target?.kind === 'private') entry = plan.privateEntry(target.id, reader)?.entry;
      else if (target?.kind === 'structural') entry = this.#structuralEntries(imported, reader).find((s) => s.dn.key === parsed.key)?.entry;
      else if (target?.kind === 'virtual' && (imported.entries.some((e) => isBelow(e.dn, parsed)) || plan.anyBelow(parsed))) {
        entry = intermediateEntry(parsed, dn);
      }
    }
    if (!entry) throw this.#noSuchObject(parsed);
    const attr = entry.attributes.get((attributeType(attribute)?.name ?? attribute).toLowerCase());
    const type = attributeType(attribute) ?? (attr ? importedType(attr.name, attr.values.some((v) => Buffer.isBuffer(v))) : undefined);
    if (!type) throw new LdapResultError(LDAP_RESULT.undefinedAttributeType, `${attribute.slice(0, 64)}: attribute type undefined`);
    if (!attr) throw new LdapResultError(LDAP_RESULT.noSuchAttribute, `the entry has no ${type.name}`);
    return matchEquality(type.equality, attr.values, type.binary ? Buffer.from(value, 'utf8') : value) === true;
  }

  // Password Modify (RFC 3062) -----------------------------------------------------------

  /**
   * A user changes their own password: `userDn` absent or their own DN; the old password is
   * required (Keyhaven proves it under the login throttle, as POST /me/changePassword does)
   * and the new one goes through the password policy. A server-generated password (no new
   * password given) is not offered.
   */
  async changePassword(viewer: LdapViewer, userDn: string | undefined, oldPassword: string | undefined, newPassword: string | undefined, source: string): Promise<string | undefined> {
    if (viewer.kind !== 'user') throw new LdapResultError(LDAP_RESULT.insufficientAccessRights, 'bind as the user whose password is to change');
    if (userDn !== undefined && userDn !== '') {
      const parsed = parseDn(userDn);
      if (!parsed || parsed.key !== parseDn(viewer.dn)?.key) {
        throw new LdapResultError(LDAP_RESULT.insufficientAccessRights, 'users change only their own password over LDAP');
      }
    }
    if (!oldPassword) throw new LdapResultError(LDAP_RESULT.unwillingToPerform, 'the old password is required');
    if (!newPassword) throw new LdapResultError(LDAP_RESULT.unwillingToPerform, 'generating a password is not supported: give the new password');
    try {
      const access = await this.#directory.access({ id: viewer.id, source });
      await access.self().changePassword(oldPassword, newPassword);
      return undefined;
    } catch (err) {
      throw ldapError(err, 'extended');
    }
  }
}

const NO_CHAIN: EvalContext = { inChain: () => undefined };
const NOTHING: Needs = { memberOf: false, members: false };

/** What LDIF imports brought beyond users and groups, for one operation. */
interface ImportedView {
  entries: { dn: ParsedDn; entry: ImportedLdapEntry }[];
  contexts: ParsedDn[];
}

/** Which costly attributes a search needs: those asked for, and those its filter names. */
function needs(requested: readonly string[], tree: FilterNode): Needs {
  const names = new Set(requested.map((r) => (attributeType(r)?.name ?? r).toLowerCase()));
  const all = requested.length === 0 || names.has('*');
  const inFilter = filterAttributes(tree);
  const wanted = (n: string) => all || names.has(n) || inFilter.has(n) || inFilter.has('*');
  return { memberOf: wanted('memberof'), members: wanted('member') || wanted('memberuid') || wanted('uniquemember') };
}

function inScope(dn: ParsedDn, base: ParsedDn, scope: SearchParams['scope']): boolean {
  if (scope === 'base') return dn.key === base.key;
  if (scope === 'one') return dn.rdnKeys.length === base.rdnKeys.length + 1 && parentOf(dn).key === base.key;
  return isAtOrUnder(dn, base);
}

/** Whether `dn` lies strictly beneath `base`. */
function isBelow(dn: ParsedDn, base: ParsedDn): boolean {
  return dn.rdnKeys.length > base.rdnKeys.length && isAtOrUnder(dn, base);
}

/** A node above imported entries that the import brought no entry for (its OUs are skipped): an organizationalUnit, domain or container by its RDN. */
function intermediateEntry(dn: ParsedDn, text: string): LdapEntry {
  const served = tidyDn(text);
  const [type, value] = dn.rdns[0]!.pairs[0]!;
  const classes = type === 'ou' ? ['top', 'organizationalUnit'] : type === 'dc' ? ['top', 'domain', 'dcObject'] : type === 'o' ? ['top', 'organization'] : ['top', 'container'];
  return new EntryBuilder(served)
    .set('objectClass', ...classes)
    .set(type, value)
    .set('entryDN', served)
    .set('hasSubordinates', 'TRUE')
    .build();
}

