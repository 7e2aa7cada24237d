// The directory's objects as Microsoft Graph v1.0 shapes them (user, group, application,
// servicePrincipal, passwordCredential, keyCredential, unifiedRoleAssignment), so the
// Graph-shaped HTTP face can return them as they are. Keyhaven's own additions carry a
// `keyhaven` prefix (Graph's convention for properties it does not define is a prefixed
// extension name). Rows become objects only here; nothing secret is ever mapped: no
// password hash, no secret digest.
import type { AppCredentialRow, ApplicationRow } from '../storage/repos/application-repo.js';
import type { GroupRow } from '../storage/repos/group-repo.js';
import type { RoleAssignmentRow } from '../storage/repos/role-assignment-repo.js';
import type { ServicePrincipalRow } from '../storage/repos/service-principal-repo.js';
import type { UserRow } from '../storage/repos/user-repo.js';
import { parseExtraAttributes, type ExtraAttributes } from './extra-attributes.js';
import { etagOf } from './odata-query.js';

export interface UserPosix {
  uidNumber: number | null;
  gidNumber: number | null;
  homeDirectory: string | null;
  loginShell: string | null;
  sshPublicKeys: string[];
}

/**
 * Where an LDIF-imported object came from (users.source_dn / source_object_classes): the DN
 * the LDAP view serves it under and the object classes it keeps beside Keyhaven's. Absent on
 * objects made in Keyhaven (the view's DN templates apply). Read-only: not a Graph property
 * a client can set.
 */
export interface LdapSource {
  sourceDn: string;
  objectClasses: string[];
  /**
   * The imported values of the attributes Keyhaven models itself (cn, displayName, mail,
   * description, …) exactly as the entry had them: the view serves them where they still agree
   * with the object's current properties (user-entry.ts, source-attributes.ts).
   */
  attributes: ExtraAttributes;
}

export interface GraphUser {
  '@odata.etag': string;
  id: string;
  userPrincipalName: string;
  displayName: string;
  givenName: string | null;
  surname: string | null;
  mail: string | null;
  accountEnabled: boolean;
  /** The short login name (also served by LDAP as uid and sAMAccountName). */
  mailNickname: string;
  onPremisesSamAccountName: string;
  createdDateTime: string;
  lastPasswordChangeDateTime: string | null;
  keyhavenPosix: UserPosix;
  keyhavenExtraAttributes: ExtraAttributes;
  /** Only on objects an LDIF import brought in. */
  keyhavenLdap?: LdapSource;
}

export interface GraphGroup {
  '@odata.etag': string;
  id: string;
  displayName: string;
  mailNickname: string;
  description: string | null;
  securityEnabled: boolean;
  /** Keyhaven's groups are security groups, never mail-enabled (no Exchange). */
  mailEnabled: false;
  groupTypes: string[];
  createdDateTime: string;
  keyhavenPosix: { gidNumber: number | null };
  keyhavenExtraAttributes: ExtraAttributes;
  /** Only on objects an LDIF import brought in. */
  keyhavenLdap?: LdapSource;
}

/** Graph's passwordCredential as read back: never the secret (`secretText` is null except once, on creation). */
export interface PasswordCredential {
  keyId: string;
  displayName: string | null;
  hint: string | null;
  startDateTime: string;
  endDateTime: string;
  customKeyIdentifier: null;
  secretText: null;
}

/** Graph's keyCredential: the public certificate's metadata; `key` is null on read as in Graph. */
export interface KeyCredential {
  keyId: string;
  displayName: string | null;
  type: 'AsymmetricX509Cert';
  usage: 'Verify';
  /** Graph: the certificate's SHA-1 thumbprint (base64, Edm.Binary). */
  customKeyIdentifier: string;
  startDateTime: string;
  endDateTime: string;
  key: null;
  /** The SHA-256 thumbprint, base64url: the `x5t#S256` a client assertion names (RFC 7515 §4.1.8). */
  keyhavenThumbprintSha256: string;
}

export interface GraphApplication {
  '@odata.etag': string;
  id: string;
  appId: string;
  displayName: string;
  createdDateTime: string;
  /** `api://{appId}`: the audience of tokens for this application (DESIGN.md, audiences). */
  identifierUris: string[];
  signInAudience: 'AzureADMyOrg';
  passwordCredentials: PasswordCredential[];
  keyCredentials: KeyCredential[];
  web: { redirectUris: string[] };
  publicClient: { redirectUris: string[] };
  spa: { redirectUris: string[] };
  isFallbackPublicClient: boolean;
}

export interface GraphServicePrincipal {
  '@odata.etag': string;
  id: string;
  appId: string;
  displayName: string;
  accountEnabled: boolean;
  servicePrincipalType: 'Application' | 'ManagedIdentity';
  servicePrincipalNames: string[];
  appOwnerOrganizationId: string;
  createdDateTime: string;
}

export interface GraphRoleAssignment {
  id: string;
  roleDefinitionId: string;
  principalId: string;
  directoryScopeId: string;
  createdDateTime: string;
}

/** A member or memberOf entry: Graph's directoryObject with its `@odata.type`. */
export type DirectoryObject =
  | ({ '@odata.type': '#microsoft.graph.user' } & GraphUser)
  | ({ '@odata.type': '#microsoft.graph.group' } & GraphGroup)
  | ({ '@odata.type': '#microsoft.graph.servicePrincipal' } & GraphServicePrincipal);

export function toGraphUser(row: UserRow): GraphUser {
  return {
    '@odata.etag': etagOf(row.version),
    id: row.id,
    userPrincipalName: row.user_principal_name,
    displayName: row.display_name,
    givenName: row.given_name,
    surname: row.surname,
    mail: row.mail,
    accountEnabled: row.account_enabled === 1,
    mailNickname: row.username,
    onPremisesSamAccountName: row.username,
    createdDateTime: row.created_at,
    lastPasswordChangeDateTime: row.password_changed_at,
    keyhavenPosix: {
      uidNumber: row.uid_number,
      gidNumber: row.gid_number,
      homeDirectory: row.home_directory,
      loginShell: row.login_shell,
      sshPublicKeys: JSON.parse(row.ssh_public_keys) as string[],
    },
    keyhavenExtraAttributes: parseExtraAttributes(row.extra),
    ...ldapSource(row),
  };
}

export function toGraphGroup(row: GroupRow): GraphGroup {
  return {
    '@odata.etag': etagOf(row.version),
    id: row.id,
    displayName: row.display_name,
    mailNickname: row.mail_nickname,
    description: row.description,
    securityEnabled: row.security_enabled === 1,
    mailEnabled: false,
    groupTypes: [],
    createdDateTime: row.created_at,
    keyhavenPosix: { gidNumber: row.gid_number },
    keyhavenExtraAttributes: parseExtraAttributes(row.extra),
    ...ldapSource(row),
  };
}

/** `{ keyhavenLdap }` for an imported row, `{}` for one made in Keyhaven. */
function ldapSource(row: { source_dn: string | null; source_object_classes: string | null; source_attributes?: string | null }): { keyhavenLdap?: LdapSource } {
  if (row.source_dn === null || row.source_dn === '') return {};
  let objectClasses: string[] = [];
  try {
    const parsed: unknown = row.source_object_classes === null ? [] : JSON.parse(row.source_object_classes);
    if (Array.isArray(parsed)) objectClasses = parsed.filter((c): c is string => typeof c === 'string');
  } catch {
    // A damaged column costs the classes, not the object.
  }
  let attributes: ExtraAttributes = {};
  try {
    const parsed: unknown = row.source_attributes ? JSON.parse(row.source_attributes) : {};
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) attributes = parsed as ExtraAttributes;
  } catch {
    // Likewise: the object is served from its properties alone.
  }
  return { keyhavenLdap: { sourceDn: row.source_dn, objectClasses, attributes } };
}

export function toPasswordCredential(row: AppCredentialRow): PasswordCredential {
  return {
    keyId: row.key_id,
    displayName: row.display_name,
    hint: row.hint,
    startDateTime: row.start_date,
    endDateTime: row.end_date,
    customKeyIdentifier: null,
    secretText: null,
  };
}

export function toKeyCredential(row: AppCredentialRow): KeyCredential {
  return {
    keyId: row.key_id,
    displayName: row.display_name,
    type: 'AsymmetricX509Cert',
    usage: 'Verify',
    customKeyIdentifier: Buffer.from(row.thumbprint_sha1 ?? '', 'hex').toString('base64'),
    startDateTime: row.start_date,
    endDateTime: row.end_date,
    key: null,
    keyhavenThumbprintSha256: Buffer.from(row.thumbprint_sha256 ?? '', 'hex').toString('base64url'),
  };
}

/** `credentials` only for callers that may see credential metadata; others get empty lists. */
export function toGraphApplication(row: ApplicationRow, credentials: AppCredentialRow[] = []): GraphApplication {
  return {
    '@odata.etag': etagOf(row.version),
    id: row.id,
    appId: row.app_id,
    displayName: row.display_name,
    createdDateTime: row.created_at,
    identifierUris: [`api://${row.app_id}`],
    signInAudience: 'AzureADMyOrg',
    passwordCredentials: credentials.filter((c) => c.type === 'password').map(toPasswordCredential),
    keyCredentials: credentials.filter((c) => c.type === 'certificate').map(toKeyCredential),
    web: { redirectUris: jsonList(row.web_redirect_uris) },
    publicClient: { redirectUris: jsonList(row.public_client_redirect_uris) },
    spa: { redirectUris: jsonList(row.spa_redirect_uris) },
    isFallbackPublicClient: row.is_fallback_public_client === 1,
  };
}

function jsonList(json: string): string[] {
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

export function toGraphServicePrincipal(row: ServicePrincipalRow, tenantId: string): GraphServicePrincipal {
  return {
    '@odata.etag': etagOf(row.version),
    id: row.id,
    appId: row.app_id,
    displayName: row.display_name,
    accountEnabled: row.account_enabled === 1,
    servicePrincipalType: row.service_principal_type,
    // Entra lists the appId and the application's identifier URIs here.
    servicePrincipalNames: [row.app_id, `api://${row.app_id}`],
    appOwnerOrganizationId: tenantId,
    createdDateTime: row.created_at,
  };
}

export function toGraphRoleAssignment(row: RoleAssignmentRow): GraphRoleAssignment {
  return {
    id: row.id,
    roleDefinitionId: row.role_definition_id,
    principalId: row.principal_id,
    directoryScopeId: row.directory_scope_id,
    createdDateTime: row.created_at,
  };
}
