// Paged reads through a caller's Graph-style DirectoryReader, for LDAP writes (a group's
// current members, as the writer may read them). Searches and compares are served from the
// core's read model through the caller's scoped reader instead (search-plan.ts, served-index.ts).
import type { DirectoryReader } from '../../directory/directory-reader.js';
import type { DirectoryObject } from '../../directory/graph-objects.js';
import type { ListOptions, ListResult } from '../../directory/odata-query.js';

export const PAGE = 500;

export async function* allPages<T>(list: (options: ListOptions) => Promise<ListResult<T>>): AsyncGenerator<T> {
  let skipToken: string | undefined;
  do {
    const page = await list({ top: PAGE, skipToken });
    yield* page.value;
    skipToken = page.nextSkipToken;
  } while (skipToken !== undefined);
}

export class DirectoryReads {
  constructor(private readonly reader: DirectoryReader) {}

  members(groupId: string): AsyncGenerator<DirectoryObject> {
    return allPages((o) => this.reader.members(groupId, o));
  }
}
