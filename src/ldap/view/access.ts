// Who sees what over LDAP (issue 5, "who can see what"), decided per search from the
// directory's current state:
//  - anonymous: nothing, unless ldapAnonymousSearch is on; then the public attributes of
//    users and groups (JupyterHub's anonymous lookup_dn search needs no more);
//  - a user bound as themself: their own entry in full, and (ldapUsersSeeOthers, default on)
//    the public attributes of other users and of groups; with it off, only their own entry
//    and the groups they are in;
//  - a service account (a service principal bound with a client secret): users and groups
//    in full, read-only — if its current role assignments allow reading the directory
//    (Directory Readers, or more), as the Graph API would.
// Binding does not freeze any of this: a user or principal disabled or deleted after its bind
// gets insufficientAccessRights on its next search. No entry carries a secret to hide: the
// directory's objects have no password hash or client secret in them (graph-objects.ts).
import type { DirectoryService } from '../../directory/directory-service.js';
import { LDAP_RESULT, LdapResultError, type LdapAttribute, type LdapEntry, type LdapViewer } from '../ldap-directory.js';
import type { LdapViewConfig } from './view-config.js';

export type Visibility = 'full' | 'public' | 'none';

/** What anyone allowed to look up a user sees (RFC 2307 + inetOrgPerson names, AD's identifiers). */
export const PUBLIC_USER_ATTRIBUTES: ReadonlySet<string> = new Set([
  'objectclass', 'uid', 'cn', 'sn', 'givenname', 'displayname', 'mail', 'uidnumber', 'gidnumber', 'gecos',
  'homedirectory', 'loginshell', 'sshpublickey', 'samaccountname', 'userprincipalname', 'memberof', 'objectguid',
  'objectsid', 'samaccounttype', 'entryuuid', 'entrydn', 'hassubordinates',
]);

/** Groups: every modelled attribute; imported (LDIF) ones only for full readers. */
export const PUBLIC_GROUP_ATTRIBUTES: ReadonlySet<string> = new Set([
  'objectclass', 'cn', 'displayname', 'description', 'gidnumber', 'member', 'uniquemember', 'memberuid', 'memberof', 'samaccountname',
  'grouptype', 'samaccounttype', 'objectguid', 'objectsid', 'whencreated', 'whenchanged', 'entryuuid',
  'createtimestamp', 'modifytimestamp', 'entrydn', 'hassubordinates',
]);

export class ViewerAccess {
  private constructor(
    private readonly viewer: LdapViewer,
    private readonly config: LdapViewConfig,
    /** For a user who may not see others: the groups they are in (transitively). */
    private readonly ownGroups: ReadonlySet<string> | undefined,
  ) {}

  /** The viewer's access for one search; insufficientAccessRights (50) if it may not search at all. */
  static async of(viewer: LdapViewer, config: LdapViewConfig, directory: DirectoryService): Promise<ViewerAccess> {
    if (viewer.kind === 'anonymous') {
      if (!config.anonymousSearch) throw denied('anonymous search is disabled: bind first');
      return new ViewerAccess(viewer, config, undefined);
    }
    if (!(await directory.can(viewer.id, 'users.read'))) throw denied('the bound identity may not read the directory');
    let ownGroups: Set<string> | undefined;
    if (viewer.kind === 'user' && !config.usersSeeOthers) {
      ownGroups = new Set(await directory.transitiveGroupIds(viewer.id, 100_000));
    }
    return new ViewerAccess(viewer, config, ownGroups);
  }

  user(id: string): Visibility {
    if (this.viewer.kind === 'serviceAccount') return 'full';
    if (this.viewer.kind === 'user') {
      if (this.viewer.id === id) return 'full';
      return this.config.usersSeeOthers ? 'public' : 'none';
    }
    return 'public';
  }

  group(id: string): Visibility {
    if (this.viewer.kind === 'serviceAccount') return 'full';
    if (this.ownGroups !== undefined) return this.ownGroups.has(id) ? 'public' : 'none';
    return 'public';
  }

  /** The base entry and the containers: visible to whoever may search. */
  structural(): Visibility {
    return 'public';
  }
}

/** The entry with only the attributes a visibility allows (`none` never reaches here). */
export function project(entry: LdapEntry, visibility: Visibility, allowed: ReadonlySet<string>): LdapEntry {
  if (visibility === 'full') return entry;
  const attributes = new Map<string, LdapAttribute>();
  for (const [key, attr] of entry.attributes) if (allowed.has(key)) attributes.set(key, attr);
  return { dn: entry.dn, attributes };
}

function denied(message: string): LdapResultError {
  return new LdapResultError(LDAP_RESULT.insufficientAccessRights, message);
}
