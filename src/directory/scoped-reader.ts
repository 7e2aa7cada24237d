// Reading the directory as one caller may (issue 8, items 2 and 10): the capability the
// directory hands a face that serves the directory's objects to callers of its own — LDAP's
// anonymous clients, users, service accounts and administrators — so what a caller sees
// follows from what it was given, not from rules each face keeps. It reads the in-process read
// model (read-model/) with the caller's rule applied in memory: no storage round trip per
// object or per search.
//
// One rule for every attribute, whatever its origin (Keyhaven's own, an import's, an extra
// attribute set through the API), as slapd's `access to * by * read` with userPassword kept
// back: every attribute is public except the private ones (the `ldapPrivateAttributes`
// setting: password attributes, `shadow*`, personal fields such as homePhone, mobile and
// employeeNumber), which only the entry itself and administrators see. Who sees which entries:
//  - anonymous: every user and group, public attributes only — when the deployment allows
//    anonymous reading at all (`ldapAnonymousSearch`); else nothing (KH_ANONYMOUS_READ_DISABLED);
//  - a user: themself in full; other users and the groups (public attributes) while
//    `ldapUsersSeeOthers` is on, else only the groups they are in (at any depth);
//  - a service principal: every user and group, public attributes — if its role assignments
//    allow reading the directory (Directory Readers, or more), as the Graph API would;
//  - an administrator (a caller whose roles let it manage users: User or Global
//    Administrator): everything, private attributes included.
// Each capability is made for one operation from the directory's current state: a principal
// disabled or deleted after its bind is refused (KH_CALLER_INACTIVE) at its next one.
import type { DirectoryModel } from './read-model/directory-model.js';
import type { ImportedLdapEntry } from './ldap-entries.js';
import type { PrivateGroupRules } from './private-groups.js';

/** Who a scoped reader reads for. */
export type ReaderKind = 'anonymous' | 'user' | 'servicePrincipal' | 'administrator';

/** The caller a face asks a reader for: nobody (an anonymous LDAP client), or a principal it authenticated. */
export type ReaderCaller = { kind: 'anonymous' } | { kind: 'principal'; id: string; source?: string | undefined };

/**
 * Private by default: passwords in every schema that has one (they are never stored as
 * attributes, but an import or a future attribute must not serve one), shadow(5)'s account
 * state (RFC 2307 shadowAccount), ppolicy's pwd* state, and the personal fields of
 * inetOrgPerson and cosine (RFC 2798, RFC 4524) that a directory's other members have no need
 * of. A trailing `*` matches a prefix; names compare ignoring case.
 */
export const DEFAULT_PRIVATE_ATTRIBUTES: readonly string[] = Object.freeze([
  'userPassword', 'authPassword', 'unicodePwd', 'sambaNTPassword', 'sambaLMPassword', 'krbPrincipalKey', 'pwd*',
  'shadow*', 'homePhone', 'homePostalAddress', 'mobile', 'pager', 'employeeNumber',
]);

export interface VisibilityOptions {
  /** Whether an anonymous caller may read (ldapAnonymousSearch; default off). */
  anonymousRead?: boolean | undefined;
  /** Whether a user sees other users and every group (ldapUsersSeeOthers; default on). */
  usersSeeOthers?: boolean | undefined;
  /** Attributes only the entry itself and administrators see (ldapPrivateAttributes). */
  privateAttributes?: readonly string[] | undefined;
}

/** The private attribute list, matched by lower-cased name (exact names, and prefixes for `x*`). */
export class PrivateAttributes {
  readonly #exact = new Set<string>();
  readonly #prefixes: string[] = [];
  readonly #seen = new Map<string, boolean>();

  constructor(names: readonly string[] = DEFAULT_PRIVATE_ATTRIBUTES) {
    for (const raw of names) {
      const name = raw.trim().toLowerCase();
      if (name.endsWith('*')) this.#prefixes.push(name.slice(0, -1));
      else if (name !== '') this.#exact.add(name);
    }
  }

  /** Whether the attribute (any case; options such as `;binary` ignored) is private. */
  has(name: string): boolean {
    const key = name.toLowerCase();
    let hit = this.#seen.get(key);
    if (hit === undefined) {
      const base = key.split(';')[0]!;
      hit = this.#exact.has(base) || this.#prefixes.some((p) => base.startsWith(p));
      // Attribute names come from the schema and the imports: a bounded set, cached.
      if (this.#seen.size < 10_000) this.#seen.set(key, hit);
    }
    return hit;
  }
}

/**
 * A Graph-shaped user or group without its private attributes (keyhavenExtraAttributes and
 * the imported values of keyhavenLdap), for a Graph caller that is neither the object nor an
 * administrator: the same rule as over LDAP, so the API is no way round it.
 */
export function withoutPrivateAttributes<T>(object: T, privateAttributes: PrivateAttributes): T {
  if (typeof object !== 'object' || object === null) return object;
  const o = object as { keyhavenExtraAttributes?: Record<string, unknown>; keyhavenLdap?: { attributes?: Record<string, unknown> } };
  const strip = (map: Record<string, unknown> | undefined) => {
    if (!map || !Object.keys(map).some((k) => privateAttributes.has(k))) return map;
    return Object.fromEntries(Object.entries(map).filter(([k]) => !privateAttributes.has(k)));
  };
  const extra = strip(o.keyhavenExtraAttributes);
  const source = o.keyhavenLdap ? strip(o.keyhavenLdap.attributes) : undefined;
  if (extra === o.keyhavenExtraAttributes && source === o.keyhavenLdap?.attributes) return object;
  return {
    ...object,
    ...(extra === undefined ? {} : { keyhavenExtraAttributes: extra }),
    ...(o.keyhavenLdap ? { keyhavenLdap: { ...o.keyhavenLdap, attributes: source } } : {}),
  };
}

export interface VisibilityRules {
  anonymousRead: boolean;
  usersSeeOthers: boolean;
  privateAttributes: PrivateAttributes;
}

export function visibilityRules(options: VisibilityOptions = {}): VisibilityRules {
  return {
    anonymousRead: options.anonymousRead ?? false,
    usersSeeOthers: options.usersSeeOthers ?? true,
    privateAttributes: new PrivateAttributes(options.privateAttributes ?? DEFAULT_PRIVATE_ATTRIBUTES),
  };
}

/** The reads behind a scoped reader that are not in the read model (few entries, read whole). */
export interface ScopedReaderSources {
  importedEntries(): Promise<ImportedLdapEntry[]>;
  namingContexts(): Promise<string[]>;
  privateGroupRules(): PrivateGroupRules;
}

export class ScopedReader {
  readonly kind: ReaderKind;
  /** The caller's object id; undefined for anonymous. */
  readonly callerId: string | undefined;
  /**
   * The read model as of this operation, whole, for planning: indexes and candidate
   * selection run over every object so that a search costs the same whoever asks. Nothing
   * read from it is served without passing seesUser/seesGroup and attributeRule (the LDAP
   * view renders every entry through them, search-plan.ts). Read-only: writes go through
   * access().
   */
  readonly model: DirectoryModel;
  readonly #rules: VisibilityRules;
  readonly #sources: ScopedReaderSources;
  /** For a user who may not see others: the groups they are in, at any depth. */
  readonly #ownGroups: ReadonlySet<string> | undefined;

  constructor(model: DirectoryModel, rules: VisibilityRules, sources: ScopedReaderSources, kind: ReaderKind, callerId?: string) {
    this.model = model;
    this.#rules = rules;
    this.#sources = sources;
    this.kind = kind;
    this.callerId = callerId;
    this.#ownGroups = kind === 'user' && !rules.usersSeeOthers && callerId !== undefined ? model.transitiveGroupsOf(callerId) : undefined;
  }

  /** Whether the caller sees the user's entry (and that user's private group). */
  seesUser(id: string): boolean {
    if (this.kind === 'user' && !this.#rules.usersSeeOthers) return id === this.callerId;
    return true;
  }

  seesGroup(id: string): boolean {
    return this.#ownGroups === undefined || this.#ownGroups.has(id);
  }

  /**
   * Which attributes of an entry the caller sees: undefined for every one (the entry itself,
   * an administrator), else a test by lower-cased name. `ownerId`: the object the entry is
   * (a user, group or service principal), or the user whose private group it is; undefined
   * for entries that are no one's (a base, a container).
   */
  attributeRule(ownerId: string | undefined): ((name: string) => boolean) | undefined {
    if (this.kind === 'administrator') return undefined;
    if (ownerId !== undefined && ownerId === this.callerId) return undefined;
    return this.#publicOnly;
  }

  readonly #publicOnly = (name: string): boolean => !this.#rules.privateAttributes.has(name);

  /** Imported bases, containers and bind-only accounts (their attributes pass attributeRule like any entry's). */
  importedEntries(): Promise<ImportedLdapEntry[]> {
    return this.#sources.importedEntries();
  }

  /** The suffixes of imported trees. */
  namingContexts(): Promise<string[]> {
    return this.#sources.namingContexts();
  }

  privateGroupRules(): PrivateGroupRules {
    return this.#sources.privateGroupRules();
  }
}
