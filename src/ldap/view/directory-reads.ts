// Paged reads through a caller's Graph-style DirectoryReader, for LDAP writes (a group's
// current members, as the writer may read them). Searches and compares are served from the
// core's read model through the caller's scoped reader instead (search-plan.ts, served-index.ts).
import type { DirectoryReader } from '../../directory/directory-reader.js';
import type { DirectoryObject, GraphGroup, GraphUser } from '../../directory/graph-objects.js';
import type { ImportedLdapEntry } from '../../directory/ldap-entries.js';
import type { ListOptions, ListResult } from '../../directory/odata-query.js';
import type { PrivateGroup, PrivateGroupRules } from '../../directory/private-groups.js';
import { KeyhavenError } from '../../errors.js';

export const PAGE = 500;

export async function* allPages<T>(list: (options: ListOptions) => Promise<ListResult<T>>): AsyncGenerator<T> {
  let skipToken: string | undefined;
  do {
    const page = await list({ top: PAGE, skipToken });
    yield* page.value;
    skipToken = page.nextSkipToken;
  } while (skipToken !== undefined);
}

/** undefined for a missing object (the core says NotFound); other errors propagate. */
export async function orMissing<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (err) {
    if (err instanceof KeyhavenError && (err.kind === 'NotFound' || err.kind === 'InvalidInput')) return undefined;
    throw err;
  }
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const i of items) out.push(i);
  return out;
}

/** An OData string literal: quotes doubled (OData URL conventions §5.1.1.6.1). */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Whether a value can be looked up through the core's case-insensitive SQL comparison exactly as LDAP's caseIgnoreMatch would match it. */
export function lookupSafe(value: string): boolean {
  // ASCII only (SQLite's lower() folds ASCII alone), no control characters, no insignificant spaces.
  return value.length > 0 && value.length <= 256 && /^[\x21-\x7e]+( [\x21-\x7e]+)*$/.test(value);
}

export class DirectoryReads {
  constructor(private readonly reader: DirectoryReader) {}

  users(filter?: string): AsyncGenerator<GraphUser> {
    return allPages((o) => this.reader.listUsers({ ...o, filter }) as Promise<ListResult<GraphUser>>);
  }

  groups(filter?: string): AsyncGenerator<GraphGroup> {
    return allPages((o) => this.reader.listGroups({ ...o, filter }) as Promise<ListResult<GraphGroup>>);
  }

  user(key: string): Promise<GraphUser | undefined> {
    return orMissing(this.reader.getUser(key));
  }

  group(key: string): Promise<GraphGroup | undefined> {
    return orMissing(this.reader.getGroup(key));
  }

  privateGroupRules(): PrivateGroupRules {
    return this.reader.privateGroupRules();
  }

  /** A user private group by its name (the user's), or by its gidNumber (the user's uidNumber). */
  privateGroupNamed(name: string): Promise<PrivateGroup | undefined> {
    return this.reader.privateGroupNamed(name);
  }

  privateGroupWithGid(gidNumber: number): Promise<PrivateGroup | undefined> {
    return this.reader.privateGroupWithGid(gidNumber);
  }

  /** The imported user or group whose original DN this is (case and spacing ignored). */
  byDn(dn: string): Promise<{ kind: 'user'; user: GraphUser } | { kind: 'group'; group: GraphGroup } | undefined> {
    return this.reader.findBySourceDn(dn);
  }

  /** Imported bases, containers and bind-only accounts (few: read whole). */
  importedEntries(): Promise<ImportedLdapEntry[]> {
    return this.reader.importedLdapEntries();
  }

  /** The suffixes of imported trees. */
  namingContexts(): Promise<string[]> {
    return this.reader.importedNamingContexts();
  }

  memberOf(id: string): AsyncGenerator<DirectoryObject> {
    return allPages((o) => this.reader.memberOf(id, o));
  }

  members(groupId: string): AsyncGenerator<DirectoryObject> {
    return allPages((o) => this.reader.members(groupId, o));
  }

  async transitiveMemberIds(groupId: string): Promise<Set<string>> {
    const ids = new Set<string>();
    for await (const o of allPages((opts) => this.reader.transitiveMembers(groupId, opts))) ids.add(o.id);
    return ids;
  }

  async transitiveGroupIds(id: string): Promise<Set<string>> {
    const ids = new Set<string>();
    for await (const o of allPages((opts) => this.reader.transitiveMemberOf(id, opts))) ids.add(o.id);
    return ids;
  }
}
