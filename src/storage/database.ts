// Table shapes, shared by both engines. Portable column types only: text, integer, bigint.
// Binary values are stored base64 (they are all small: wrapped keys, ciphertexts), times as
// ISO-8601 UTC text (sortable as text on both engines), booleans as 0/1.
import type { Generated } from 'kysely';

export interface SettingsTable {
  name: string;
  value: string;
}

/** Data keys, each wrapped (AES-256-GCM) by the KEK; the KEK itself never reaches the database. */
export interface DataKeysTable {
  id: string;
  purpose: string;
  wrapped: string;
  kek_id: string;
  created_at: string;
}

/** Server-held secrets (HMAC key, audit key, signing keys), encrypted under a data key. */
export interface ServerSecretsTable {
  name: string;
  ciphertext: string;
  created_at: string;
}

export interface AuditRecordsTable {
  seq: number;
  time: string;
  actor: string;
  source: string;
  action: string;
  target: string;
  outcome: string;
  correlation_id: string;
  details: string;
  mac: string;
}

/** One row (id = 1): the last record's sequence number and MAC, so a cut tail is detectable. */
export interface AuditHeadTable {
  id: number;
  seq: number;
  mac: string;
}

export interface UsersTable {
  id: string;
  /** The short login name (POSIX-safe, lower case) LDAP serves as uid / sAMAccountName. */
  username: string;
  user_principal_name: string;
  display_name: string;
  password_hash: string | null;
  account_enabled: number;
  created_at: string;
  updated_at: string;
  /** Optimistic concurrency: bumped by every update; an update naming a stale version fails. */
  version: Generated<number>;
  // Added by 0002_directory (nullable or defaulted: optional on insert, as Kysely makes nullable columns).
  given_name: string | null;
  surname: string | null;
  mail: string | null;
  /** Unique among users; allocated from the POSIX id range unless given. */
  uid_number: number | null;
  gid_number: number | null;
  home_directory: string | null;
  login_shell: string | null;
  /** JSON array of OpenSSH public key lines. */
  ssh_public_keys: Generated<string>;
  /** JSON object: attribute name → values (see directory/extra-attributes.ts). */
  extra: Generated<string>;
  password_changed_at: string | null;
  // Added by 0003_ldif_source (see migration-0003-ldif-source.ts).
  /** The DN an LDIF import gave this user, as written; null for users made in Keyhaven. */
  source_dn: string | null;
  /** JSON array of the imported entry's objectClass values; null when not imported. */
  source_object_classes: string | null;
  /** 0005_ldif_entries: imported values of modelled attributes (cn, displayName, …); null when not imported. */
  source_attributes: string | null;
  /** 0007_browser_signin: 1 while the user must choose a new password at the next sign-in. */
  force_change_password: Generated<number>;
}

export interface GroupsTable {
  id: string;
  display_name: string;
  /** Served by LDAP as cn / sAMAccountName; unique ignoring case (index on lower()). */
  mail_nickname: string;
  description: string | null;
  gid_number: number | null;
  security_enabled: number;
  extra: Generated<string>;
  created_at: string;
  updated_at: string;
  version: Generated<number>;
  /** The DN an LDIF import gave this group, as written; null for groups made in Keyhaven. */
  source_dn: string | null;
  /** JSON array of the imported entry's objectClass values; null when not imported. */
  source_object_classes: string | null;
  /** 0005_ldif_entries: imported values of modelled attributes (cn, description, …); null when not imported. */
  source_attributes: string | null;
}

/** Imported entries that are neither users nor groups (0005_ldif_entries). */
export interface LdapEntriesTable {
  id: string;
  /** The DN as the LDIF gave it; unique ignoring case. */
  dn: string;
  /** JSON array of objectClass values as imported. */
  object_classes: string;
  /** JSON object: attribute → values (binary ones { base64 }), objectClass and passwords excluded. */
  attributes: string;
  /** A bind-only account: the service principal it binds as. */
  service_principal_id: string | null;
  /** A bind-only account's password hash (imported legacy hash until the first bind, then Keyhaven's). */
  password_hash: string | null;
  created_at: string;
}

export type MemberType = 'user' | 'group' | 'servicePrincipal';

export interface GroupMembersTable {
  group_id: string;
  member_id: string;
  member_type: MemberType;
}

export interface ApplicationsTable {
  /** The application's object id. */
  id: string;
  /** The client id (Graph's appId), shared with its service principal. */
  app_id: string;
  display_name: string;
  created_at: string;
  updated_at: string;
  version: Generated<number>;
  /** 0007_browser_signin: registered redirect URIs, JSON arrays (Graph's web / publicClient / spa). */
  web_redirect_uris: Generated<string>;
  public_client_redirect_uris: Generated<string>;
  spa_redirect_uris: Generated<string>;
  /** Graph's isFallbackPublicClient: the device code grant without a client secret. */
  is_fallback_public_client: Generated<number>;
}

export type AppCredentialType = 'password' | 'certificate';

/** Client secrets (HMAC digest only, never the secret) and certificates (public part only). */
export interface AppCredentialsTable {
  key_id: string;
  application_id: string;
  type: AppCredentialType;
  display_name: string | null;
  /** Entra's `hint`: the secret's first three characters. */
  hint: string | null;
  /** Lowercase hex HMAC-SHA-256 of the secret under the server's credential key. */
  secret_digest: string | null;
  cert_der_b64: string | null;
  thumbprint_sha1: string | null;
  thumbprint_sha256: string | null;
  start_date: string;
  end_date: string;
}

export type ServicePrincipalType = 'Application' | 'ManagedIdentity';

export interface ServicePrincipalsTable {
  id: string;
  app_id: string;
  display_name: string;
  account_enabled: number;
  service_principal_type: ServicePrincipalType;
  created_at: string;
  updated_at: string;
  version: Generated<number>;
}

export interface DirectoryRoleAssignmentsTable {
  id: string;
  /** The role's template id (Entra's built-in role ids are the same in every tenant). */
  role_definition_id: string;
  principal_id: string;
  /** `/` for the whole directory, `/{application object id}` for one application. */
  directory_scope_id: string;
  created_at: string;
}

/** Used client-assertion ids (0006_assertion_jti). */
export interface AssertionJtiTable {
  client_id: string;
  jti: string;
  /** Epoch ms after which the row is dead. */
  expires_at: number;
  /** The source (IP address) of its first use. */
  source: string;
}

/** 0007_browser_signin: the browser's single-sign-on session (the cookie holds the id, this its hash). */
export interface SigninSessionsTable {
  id_hash: string;
  user_id: string;
  auth_time: number;
  /** Space-separated RFC 8176 methods (`pwd`). */
  amr: string;
  expires_at: number;
}

export interface AuthorizationCodesTable {
  code_hash: string;
  client_id: string;
  user_id: string;
  redirect_uri: string;
  scope: string;
  nonce: string | null;
  /** The S256 PKCE challenge (RFC 7636 §4.2), when the request carried one. */
  code_challenge: string | null;
  auth_time: number;
  amr: string;
  family_id: string;
  expires_at: number;
  used_at: number | null;
}

export interface RefreshFamiliesTable {
  id: string;
  user_id: string;
  client_id: string;
  auth_time: number;
  amr: string;
  /** The client authenticated when the family began: refreshes must authenticate too. */
  confidential: number;
  created_at: number;
  revoked_at: number | null;
  revoked_reason: string | null;
}

export interface RefreshTokensTable {
  token_hash: string;
  family_id: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export type DeviceCodeStatus = 'pending' | 'approved' | 'denied' | 'redeemed';

export interface DeviceCodesTable {
  device_code_hash: string;
  user_code_hash: string;
  client_id: string;
  scope: string;
  interval_seconds: number;
  expires_at: number;
  last_poll_at: number | null;
  status: DeviceCodeStatus;
  user_id: string | null;
  auth_time: number | null;
  amr: string | null;
}

export interface SigninRevocationsTable {
  user_id: string;
  valid_from: number;
}

/** The login throttle's shared state (0004_login_throttle). */
export interface LoginThrottleTable {
  key: string;
  /** The throttle's entry as JSON; '' for a row that only holds the lock of an absent entry. */
  entry: string;
  /** Epoch ms after which the row is dead. */
  expires_at: number;
}

export type TotpState = 'pending' | 'active';

/** A user's TOTP method (0011_totp): the secret envelope-encrypted, never in the clear. */
export interface UserTotpTable {
  /** The method's id (Graph's softwareOathAuthenticationMethod id). */
  id: string;
  user_id: string;
  /** Envelope ciphertext of the 20-byte shared secret (context `user-totp|{user_id}|{id}`). */
  secret: string;
  state: TotpState;
  created_at: string;
  activated_at: string | null;
  /** The highest RFC 6238 time step accepted; a code of this step or an earlier one is a replay. */
  last_step: number | null;
}

/** Who must use a second factor (0011_totp): a user, or a group (its transitive members). */
export interface MfaRequirementsTable {
  principal_id: string;
  principal_type: 'user' | 'group';
  created_at: string;
}

export type SigningKeyState = 'pending' | 'active' | 'retired';

/** Token signing keys and their lifecycle (0008_signing_keys). Times in epoch ms. */
export interface SigningKeysTable {
  kid: string;
  state: SigningKeyState;
  /** PKCS#8 DER, sealed by the envelope (never plaintext). */
  private_key: string;
  created_at: number;
  activates_at: number;
  retired_at: number | null;
  removes_at: number | null;
}

/** 0009_resources: the management plane (ARM-shaped). */
export interface ArmSubscriptionsTable {
  id: string;
  display_name: string;
  state: string;
  created_at: string;
  updated_at: string;
}

export interface ArmResourcesTable {
  key: string;
  id: string;
  subscription_id: string;
  resource_group: string;
  type: string;
  name: string;
  location: string;
  tags: string;
  properties: string;
  identity: string | null;
  extra: string;
  etag: string;
  created_by: string;
  created_by_type: string;
  created_at: string;
  modified_by: string;
  modified_by_type: string;
  modified_at: string;
}

export interface ArmRoleDefinitionsTable {
  id: string;
  role_name: string;
  description: string;
  assignable_scopes: string;
  permissions: string;
  created_at: string;
  updated_at: string;
  created_by: string;
  updated_by: string;
}

export interface ArmRoleAssignmentsTable {
  id: string;
  scope: string;
  scope_key: string;
  role_definition_id: string;
  principal_id: string;
  principal_type: string;
  description: string;
  created_at: string;
  updated_at: string;
  created_by: string;
  updated_by: string;
}

/** 0013_vaults: Key Vault. */
export interface KvVaultsTable {
  name: string;
  id: string;
  resource_key: string;
  resource_id: string;
  subscription_id: string;
  location: string;
  created_at: string;
  deleted_at: string | null;
  scheduled_purge_at: string | null;
  deleted_resource: string | null;
}

export interface KvSecretsTable {
  vault_id: string;
  name_key: string;
  name: string;
  latest_version: string;
  deleted_at: number | null;
  scheduled_purge_at: number | null;
}

export interface KvSecretVersionsTable {
  vault_id: string;
  name_key: string;
  version: string;
  /** Envelope ciphertext (AES-256-GCM under the vault's data key); never plaintext. */
  ciphertext: string;
  content_type: string | null;
  tags: string;
  enabled: number;
  nbf: number | null;
  exp: number | null;
  created: number;
  updated: number;
}

/** Join tokens (0014_machines): only their HMAC is stored. */
export interface MachineJoinTokensTable {
  id: string;
  digest: string;
  resource_id: string;
  resource_key: string;
  max_uses: number;
  uses: number;
  /** Epoch ms. */
  expires_at: number;
  created_at: string;
  created_by: string;
}

/** Joined machines (0014_machines): the public key only. */
export interface MachinesTable {
  id: string;
  client_id: string;
  resource_id: string;
  resource_key: string;
  join_id: string;
  kid: string;
  public_jwk: string;
  created_at: string;
  key_updated_at: string;
  revoked_at: string | null;
  revoked_by: string | null;
}

export interface Database {
  settings: SettingsTable;
  data_keys: DataKeysTable;
  server_secrets: ServerSecretsTable;
  audit_records: AuditRecordsTable;
  audit_head: AuditHeadTable;
  users: UsersTable;
  groups: GroupsTable;
  group_members: GroupMembersTable;
  applications: ApplicationsTable;
  app_credentials: AppCredentialsTable;
  service_principals: ServicePrincipalsTable;
  directory_role_assignments: DirectoryRoleAssignmentsTable;
  login_throttle: LoginThrottleTable;
  ldap_entries: LdapEntriesTable;
  assertion_jti: AssertionJtiTable;
  user_totp: UserTotpTable;
  mfa_requirements: MfaRequirementsTable;
  signin_sessions: SigninSessionsTable;
  authorization_codes: AuthorizationCodesTable;
  refresh_families: RefreshFamiliesTable;
  refresh_tokens: RefreshTokensTable;
  device_codes: DeviceCodesTable;
  signin_revocations: SigninRevocationsTable;
  signing_keys: SigningKeysTable;
  arm_subscriptions: ArmSubscriptionsTable;
  arm_resources: ArmResourcesTable;
  arm_role_definitions: ArmRoleDefinitionsTable;
  arm_role_assignments: ArmRoleAssignmentsTable;
  kv_vaults: KvVaultsTable;
  kv_secrets: KvSecretsTable;
  kv_secret_versions: KvSecretVersionsTable;
  machine_join_tokens: MachineJoinTokensTable;
  machines: MachinesTable;
}
