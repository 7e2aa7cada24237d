// Microsoft Entra's built-in directory roles that Keyhaven has, with Entra's template ids
// ("Microsoft Entra built-in roles": the ids are the same in every tenant, and Graph's
// unifiedRoleDefinition for a built-in role has id = templateId), and what each may do here.
//
// Actions are Keyhaven's coarse version of Entra's microsoft.directory/* permissions:
//   *.read            users and groups are readable by every signed-in user (Entra's
//                     default user permissions); applications and service principals too,
//                     but without credential metadata. Service principals read only with a role
//                     (an app-only caller needs a permission in Entra as well).
//   users.write       create/update/delete users, reset passwords
//   groups.write      create/update/delete groups and their membership
//   applications.write applications, their credentials, service principals
//   credentials.read  credential metadata (keyId, hint, dates, thumbprints); never a secret
//   roles.write       assign and remove directory roles
export type DirectoryAction =
  | 'users.read'
  | 'users.write'
  | 'groups.read'
  | 'groups.write'
  | 'applications.read'
  | 'applications.write'
  | 'credentials.read'
  | 'roles.read'
  | 'roles.write';

export const GLOBAL_ADMINISTRATOR = '62e90394-69f5-4237-9190-012177145e10';
export const USER_ADMINISTRATOR = 'fe930be7-5e62-47db-91af-98c3a49a38b1';
export const GROUPS_ADMINISTRATOR = 'fdd7a751-b60b-444a-984c-02652fe8fa1c';
export const APPLICATION_ADMINISTRATOR = '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3';
export const DIRECTORY_READERS = '88d8e3e3-8f55-4a1e-953a-9b9898b8876b';

export interface RoleDefinition {
  id: string;
  templateId: string;
  displayName: string;
  description: string;
  isBuiltIn: true;
  isEnabled: true;
  /** Keyhaven: what the role allows (see DirectoryAction). */
  keyhavenActions: readonly DirectoryAction[];
  /** Keyhaven: may be assigned at an application's scope (`/{application object id}`). */
  keyhavenAppScopable: boolean;
}

const READ_ALL: DirectoryAction[] = ['users.read', 'groups.read', 'applications.read', 'roles.read'];

function role(id: string, displayName: string, description: string, actions: DirectoryAction[], appScopable = false): RoleDefinition {
  return Object.freeze({
    id,
    templateId: id,
    displayName,
    description,
    isBuiltIn: true as const,
    isEnabled: true as const,
    keyhavenActions: Object.freeze([...new Set([...READ_ALL, ...actions])]),
    keyhavenAppScopable: appScopable,
  });
}

export const ROLE_DEFINITIONS: readonly RoleDefinition[] = Object.freeze([
  role(GLOBAL_ADMINISTRATOR, 'Global Administrator', 'Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.',
    ['users.write', 'groups.write', 'applications.write', 'credentials.read', 'roles.write']),
  role(USER_ADMINISTRATOR, 'User Administrator', 'Can manage all aspects of users and groups, including resetting passwords for limited admins.',
    ['users.write', 'groups.write']),
  role(GROUPS_ADMINISTRATOR, 'Groups Administrator', 'Members of this role can create/manage groups, create/manage groups settings like naming and expiration policies, and view groups activity and audit reports.',
    ['groups.write']),
  role(APPLICATION_ADMINISTRATOR, 'Application Administrator', 'Can create and manage all aspects of app registrations and enterprise apps.',
    ['applications.write', 'credentials.read'], true),
  role(DIRECTORY_READERS, 'Directory Readers', 'Can read basic directory information. Commonly used to grant directory read access to applications and guests.', []),
]);

export function roleDefinition(id: string): RoleDefinition | undefined {
  return ROLE_DEFINITIONS.find((r) => r.id === id.toLowerCase());
}

/**
 * Roles whose holders only a Global Administrator may manage (reset a password, disable,
 * delete, add credentials to their application), as Entra's "Who can reset passwords" table
 * and its privileged-role guidance have it: a User Administrator may manage users, other User
 * Administrators and Directory Readers, but never a Global, Groups or Application
 * Administrator — else any admin role would be a path to every other.
 */
export const PRIVILEGED_ROLES: ReadonlySet<string> = new Set([GLOBAL_ADMINISTRATOR, GROUPS_ADMINISTRATOR, APPLICATION_ADMINISTRATOR]);
