// The one configuration schema. Every key has a description: the README's configuration
// reference is generated from this file (`npm run docs:config`), and a test checks that the
// README is current. Keys are camelCase in the YAML file, KEYHAVEN_SCREAMING_SNAKE in the
// environment and --kebab-case as flags (DESIGN.md, "Fixed interface").
import Type, { type Static } from 'typebox';
import { DEFAULT_RESERVED_GROUP_NAMES } from '../directory/principal-names.js';
import { DEFAULT_PRIVATE_ATTRIBUTES } from '../directory/scoped-reader.js';

const Port = (description: string, def: number) =>
  Type.Integer({ minimum: 0, maximum: 65535, default: def, description });

export const ConfigSchema = Type.Object(
  {
    home: Type.String({
      minLength: 1,
      description: 'Directory for local state: the master key, TLS files, the SQLite database. Created with mode 0700.',
      default: '~/.keyhaven',
    }),
    storage: Type.Optional(Type.String({
      minLength: 1,
      description: 'Where data lives: `sqlite:PATH` (embedded, the default `sqlite:$home/keyhaven.db`) or `postgres://user@host:port/db`.',
      secret: true,
    })),
    httpsPort: Port('HTTPS port: token service, management, directory and Key Vault APIs.', 8443),
    ldapPort: Port('LDAP port (StartTLS available).', 3389),
    ldapsPort: Port('LDAPS port (TLS from the first byte).', 3636),
    ldapAnonymousBind: Type.Boolean({
      default: false,
      description: 'Whether an anonymous simple bind (empty name and password, RFC 4513 §5.1.1) succeeds; on by itself when `ldapAnonymousSearch` is on. What anonymous clients may read is decided by `ldapAnonymousSearch`. A name with an empty password is always refused.',
    }),
    ldapRequireTlsForBind: Type.Boolean({
      default: true,
      description: 'Refuse simple binds over a connection without TLS (LDAPS or StartTLS) with `confidentialityRequired`, except from loopback clients.',
    }),
    ldapMaxMessageBytes: Type.Integer({
      minimum: 1024, maximum: 67108864, default: 1048576,
      description: 'Largest LDAP request PDU accepted; a larger length prefix closes the connection before anything is allocated for it.',
    }),
    ldapMaxConnections: Type.Integer({ minimum: 1, maximum: 100000, default: 1024, description: 'Most concurrent LDAP and LDAPS connections; further connections are closed at once.' }),
    ldapMaxOperationsPerConnection: Type.Integer({
      minimum: 1, maximum: 1000, default: 16,
      description: 'Most outstanding LDAP operations on one connection; a request beyond it is answered `busy`.',
    }),
    ldapIdleTimeoutSeconds: Type.Integer({ minimum: 0, maximum: 86400, default: 900, description: 'An LDAP connection with no traffic for this long is closed (0: never).' }),
    ldapSizeLimit: Type.Integer({
      minimum: 1, maximum: 1000000, default: 1000,
      description: "Most entries one LDAP search returns (the client's smaller limit wins); also the largest page of a paged search (RFC 2696), whose total is not capped.",
    }),
    ldapTimeLimitSeconds: Type.Integer({ minimum: 1, maximum: 3600, default: 60, description: "Longest time one LDAP search may run (the client's smaller limit wins)." }),
    ldapAccessLog: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'off'].map((l) => Type.Literal(l)),
      {
        default: 'info',
        description: "Level of the LDAP access log: one JSON line per LDAP operation (connection id, client address, TLS, operation, bind DN, base, scope, filter, requested attributes, result code, entries returned, elapsed ms; as slapd's `stats` level) and per connection opened and closed, shaped like the HTTP request lines with `face: \"ldap\"`. Written when `logLevel` admits this level (`debug` keeps them out of an `info` log); `off`: none. Never a password.",
      },
    ),
    bindAddress: Type.String({ minLength: 1, default: '0.0.0.0', description: 'Address the HTTPS, LDAP and LDAPS listeners bind to.' }),
    agentEnabled: Type.Boolean({
      default: true,
      description: "Whether `keyhaven serve` runs an embedded metadata agent (Azure IMDS-compatible) for its own machine: on first start the host joins as the machine `keyhaven-host/{hostname}` with a system-assigned identity, which holds no role until granted one. Every local process can use it, as on an Azure VM.",
    }),
    agentAddress: Type.String({ minLength: 1, default: '127.0.0.1', description: 'Where the embedded agent listens: a loopback address, or a link-local one such as 169.254.169.254 when it is configured on the machine.' }),
    agentPort: Port('Embedded agent port (50342, the VM extension\'s; 80 with 169.254.169.254); 0 turns the embedded agent off.', 50342),
    agentRatePerSecond: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 1000, description: "The agent's sustained requests per second per caller (IMDS allows 20); 0 is unlimited. Beyond it, 429 with Retry-After." }),
    agentBurst: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 2000, description: 'Requests a caller may send to the agent at once above its rate.' }),
    agentConcurrency: Type.Integer({ minimum: 0, maximum: 100_000, default: 256, description: "Requests of one caller in progress at the agent at once (IMDS allows 5); 0 is unlimited." }),
    publicUrl: Type.Optional(Type.String({
      pattern: '^https://[^\\s/?#]+(/[^\\s?#]*)?$',
      description: 'Base URL clients reach this server at; the token issuer base and the management audience. Default `https://localhost:{httpsPort}`.',
    })),
    vaultDnsSuffix: Type.String({
      pattern: '^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$',
      default: 'vault.localhost',
      description: 'DNS suffix of vault URIs: a vault is served at `https://{vault}.{vaultDnsSuffix}:{httpsPort}` (its `vaultUri`; the server routes by Host header, and the generated certificate carries `*.{vaultDnsSuffix}`), and the vault audience is `https://{vaultDnsSuffix}:{httpsPort}` (alias `https://vault.azure.net`), so the vault host ends with `.` + the audience host as the Azure SDKs require. `*.localhost` names resolve with Debian\'s `libnss-myhostname`; another suffix needs DNS or `/etc/hosts` entries.',
    }),
    vaultPurgeIntervalSeconds: Type.Integer({
      minimum: 0, maximum: 86400, default: 3600,
      description: 'How often soft-deleted secrets and vaults past their scheduled purge date (`softDeleteRetentionInDays` after deletion) are purged for good (0: never, e.g. in tests).',
    }),
    tlsCaCertFile: Type.Optional(Type.String({ minLength: 1, description: 'PEM CA certificate to issue the server certificate with, instead of generating a CA. Needs `tlsCaKeyFile`.' })),
    tlsCaKeyFile: Type.Optional(Type.String({ minLength: 1, description: 'PEM private key of `tlsCaCertFile`.' })),
    tlsCertFile: Type.Optional(Type.String({ minLength: 1, description: 'PEM server certificate (chain) to serve as is, instead of issuing one. Needs `tlsKeyFile`.' })),
    tlsKeyFile: Type.Optional(Type.String({ minLength: 1, description: 'PEM private key of `tlsCertFile`.' })),
    tlsNames: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description: 'Extra DNS names or IP addresses for the generated server certificate (comma-separated in the environment).',
    }),
    masterKeyFile: Type.Optional(Type.String({
      minLength: 1,
      description: 'The key-encryption key (KEK) file, outside the database. Default `$home/master.key`, generated (0600) on first start.',
    })),
    adminPassword: Type.Optional(Type.String({
      minLength: 1,
      secret: true,
      description: 'Password of the bootstrap user `admin`, used only when it is first created. Generated and shown once when unset.',
    })),
    logLevel: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
      { default: 'info', description: 'Structured log level (JSON lines on standard output).' },
    ),
    passwordHashAlgorithm: Type.Union([Type.Literal('argon2id'), Type.Literal('scrypt')], {
      default: 'argon2id',
      description: 'What new and upgraded password hashes are made with: `argon2id` (OWASP m = 19 MiB, t = 2, p = 1: ~20 ms a sign-in) or `scrypt` (~0.4 s at OWASP N = 2^17). Hashes of the other algorithm, or under other parameters, still verify and are upgraded at that user\'s next successful sign-in.',
    }),
    passwordArgon2MemoryKib: Type.Integer({
      minimum: 64, maximum: 1048576, default: 19456,
      description: 'argon2id memory in KiB (OWASP: 19456 = 19 MiB). Hashes are upgraded on the next successful login when it changes.',
    }),
    passwordArgon2TimeCost: Type.Integer({ minimum: 1, maximum: 16, default: 2, description: 'argon2id passes t (OWASP: 2).' }),
    passwordArgon2Parallelism: Type.Integer({ minimum: 1, maximum: 16, default: 1, description: 'argon2id lanes p (OWASP: 1).' }),
    passwordScryptLogN: Type.Integer({
      minimum: 10, maximum: 22, default: 17,
      description: 'scrypt cost as log2(N) for password hashes when `passwordHashAlgorithm` is scrypt (OWASP: 17). Hashes are upgraded on the next successful login when it changes.',
    }),
    passwordScryptR: Type.Integer({ minimum: 1, maximum: 32, default: 8, description: 'scrypt block size r (OWASP: 8).' }),
    passwordScryptP: Type.Integer({ minimum: 1, maximum: 16, default: 1, description: 'scrypt parallelism p (OWASP: 1).' }),
    directoryDomain: Type.String({
      pattern: '^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$',
      default: 'keyhaven.local',
      description: "The tenant's domain: the suffix of user principal names (`alice@{directoryDomain}`).",
    }),
    reservedGroupNames: Type.Array(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9._-]{0,63}\\*?$' }), {
      default: [...DEFAULT_RESERVED_GROUP_NAMES],
      description: 'Group names refused for groups (API, CLI, LDAP writes, LDIF import) and, while `userPrivateGroups` is on, for new users (a private group takes the user\'s name): names that grant administrative rights on Linux machines through sudoers or polkit, or own a device or daemon. Compared ignoring case; a trailing `*` matches a prefix. Comma-separated in the environment.',
    }),
    userPrivateGroups: Type.Boolean({
      default: true,
      description: 'Whether LDAP serves a user private group (FreeIPA\'s convention) for each POSIX user whose gidNumber is their uidNumber and no group has it: a `posixGroup` named as the user, with gidNumber = uidNumber and the user as memberUid. A user whose name is a group\'s, or a reserved group name, gets none.',
    }),
    ldapBaseDn: Type.Optional(Type.String({
      minLength: 1,
      description: 'Base DN (naming context) of the LDAP directory. Default derived from `directoryDomain`: `keyhaven.local` → `dc=keyhaven,dc=local`.',
    })),
    ldapUsersContainer: Type.String({
      minLength: 1, default: 'ou=people',
      description: 'RDNs of the users container below the base DN (`ou=people`; Azure AD DS: `OU=AADDC Users`). Ignored when `ldapUserDnTemplate` is set.',
    }),
    ldapGroupsContainer: Type.String({
      minLength: 1, default: 'ou=groups',
      description: 'RDNs of the groups container below the base DN. Ignored when `ldapGroupDnTemplate` is set.',
    }),
    ldapUserDnTemplate: Type.Optional(Type.String({
      minLength: 1,
      description: "A user's DN: `{username}` is the short login name, `{base}` the base DN, e.g. `CN={username},OU=AADDC Users,DC=mytestdomain,DC=onmicrosoft,DC=com`. Default `uid={username},{ldapUsersContainer},{base}`.",
    })),
    ldapGroupDnTemplate: Type.Optional(Type.String({
      minLength: 1,
      description: "A group's DN: `{name}` is the group's mailNickname (served as cn), `{base}` the base DN. Default `cn={name},{ldapGroupsContainer},{base}`.",
    })),
    ldapAnonymousSearch: Type.Boolean({
      default: false,
      description: 'Whether anonymous LDAP clients may search (every entry, public attributes only: all but `ldapPrivateAttributes`). Off: an anonymous search gets `insufficientAccessRights`; the Root DSE stays readable.',
    }),
    ldapUsersSeeOthers: Type.Boolean({
      default: true,
      description: 'Whether a user bound over LDAP as themself sees the public attributes of other users and every group; off, only their own entry and the groups they are in.',
    }),
    ldapPrivateAttributes: Type.Array(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9-]{0,63}\\*?$' }), {
      default: [...DEFAULT_PRIVATE_ATTRIBUTES],
      description: 'LDAP attributes served only to the entry itself and to administrators (callers whose roles let them manage users: User or Global Administrator); every other attribute, whatever its origin (Keyhaven\'s own, imported, extra), is public: readable by anyone allowed to read the entry, as slapd\'s `access to * by * read`. Compared ignoring case; a trailing `*` matches a prefix. Comma-separated in the environment.',
    }),
    ldapAdminWrites: Type.Boolean({
      default: false,
      description: 'Whether LDAP add, modify and delete of users and groups are accepted (`ldapmodify`, `ldapadd`, `ldapdelete`) from a bound caller over TLS or loopback whose directory roles allow the change (User, Groups or Global Administrator); each goes through the directory core and is audited. Off, every LDAP write answers `unwillingToPerform` and the directory is changed through the API. Renames (modifyDN) are always refused.',
    }),
    passwordGrant: Type.Boolean({
      default: true,
      description: 'Whether the token endpoint accepts the OAuth password grant (scripts, `keyhaven login --username`).',
    }),
    clientAssertionReuse: Type.Union([Type.Literal('same-source'), Type.Literal('once')], {
      default: 'same-source',
      description: 'Replay rule for client assertions (private_key_jwt, RFC 7523): `once` accepts each `jti` once; `same-source` also accepts it again from the address that used it first, as MSAL reuses one assertion for each token request in its 10-minute life and Entra accepts that.',
    }),
    authRefusalWindowSeconds: Type.Integer({
      minimum: 1, maximum: 86400, default: 60,
      description: 'Refused client authentications at the token endpoint are audited per source address: the first in a window at once, the rest as one summary record with their count when the window ends.',
    }),
    clientAssertionMaxLifetimeSeconds: Type.Integer({
      minimum: 60, maximum: 86400, default: 3600,
      description: 'Longest lifetime of a client assertion (`exp` − `iat`, and `exp` − now); MSAL makes them for 600 s. Used `jti` values are kept this long at most.',
    }),
    mfaTotpIssuer: Type.String({
      minLength: 1, maxLength: 64, pattern: '^[^:]+$', default: 'Keyhaven',
      description: 'The issuer name authenticator apps show beside the account for a TOTP second factor (the `issuer` of the `otpauth://` URI; no colon).',
    }),
    mfaEnrollmentTimeoutSeconds: Type.Integer({
      minimum: 60, maximum: 86400, default: 600,
      description: 'How long a begun TOTP enrolment waits for its confirming code; after that it must be begun again with a new secret.',
    }),
    mfaRequiredWhenEnrolled: Type.Boolean({
      default: true,
      description: 'Whether a user with an active second factor must use it, as users required by a per-user or group requirement must: the password grant refuses them (AADSTS50076) and sign-in pages ask for the code. Off, only requirements make it required.',
    }),
    ldapBindSecondFactor: Type.Union([Type.Literal('ignore'), Type.Literal('append'), Type.Literal('refuse')], {
      default: 'ignore',
      description: 'What an LDAP simple bind needs from a user who must use a second factor: `ignore` — the password alone (LDAP clients such as SSSD and JupyterHub cannot prompt for a code); `append` — FreeIPA\'s convention, the password followed by the current 6-digit code (a user without an active factor cannot bind); `refuse` — such users cannot bind.',
    }),
    authorizationCodeLifetimeSeconds: Type.Integer({
      minimum: 1, maximum: 3600, default: 600,
      description: 'How long an authorization code (browser sign-in) may be redeemed; each is single-use (RFC 6749 §4.1.2: at most 10 minutes recommended).',
    }),
    refreshTokenLifetimeSeconds: Type.Integer({
      minimum: 60, maximum: 31536000, default: 7776000,
      description: 'How long a refresh token stays usable without being used (Entra: 90 days). Each use rotates it; reusing a rotated one revokes its whole family.',
    }),
    signInSessionLifetimeSeconds: Type.Integer({
      minimum: 60, maximum: 2592000, default: 86400,
      description: 'How long the browser sign-in session (single sign-on cookie) lasts before the password is asked again.',
    }),
    machineJoinTokenLifetimeSeconds: Type.Integer({
      minimum: 1, maximum: 31536000, default: 3600,
      description: 'Default lifetime of a machine join token (`keyhaven vm join-token create` without `--expires-in`), one-time for a VM or reusable for a scale set.',
    }),
    machineJoinTokenMaxLifetimeSeconds: Type.Integer({
      minimum: 1, maximum: 31536000, default: 2592000,
      description: 'Longest lifetime a join token may be given (`expiresInSeconds`); 30 days by default.',
    }),
    machinePoolTokenDefaultUses: Type.Integer({
      minimum: 1, maximum: 1000000, default: 100,
      description: "How many machines may join with a scale set's join token when `--max-uses` is not given.",
    }),
    machinePoolTokenMaxUses: Type.Integer({
      minimum: 1, maximum: 1000000, default: 100000,
      description: "Largest use count a scale set's join token may be given (`maxUses`).",
    }),
    machineClockOffsetSeconds: Type.Integer({
      minimum: 0, maximum: 315360000, default: 0,
      description: 'For tests only: shifts the clock machine enrollment reads (join-token expiry) this many seconds ahead, so a test sees a token expire without waiting. Leave 0.',
    }),
    deviceCodeLifetimeSeconds: Type.Integer({
      minimum: 1, maximum: 3600, default: 900,
      description: 'How long a device code and its user code may be used (RFC 8628 `expires_in`; Entra: 15 minutes).',
    }),
    deviceCodeIntervalSeconds: Type.Integer({
      minimum: 1, maximum: 60, default: 5,
      description: 'Least time between two polls of the device code grant (RFC 8628 `interval`); a client polling faster is told `slow_down`.',
    }),
    signingKeyRotationDays: Type.Integer({
      minimum: 0, maximum: 3650, default: 30,
      description: 'Token signing keys are replaced this many days after they start signing (0: only by `keyhaven admin rotate-signing-key`). The next key is published `signingKeyPrepublishHours` ahead; the replaced key stays published until every token it signed has expired.',
    }),
    signingKeyPrepublishHours: Type.Integer({
      minimum: 0, maximum: 8760, default: 48,
      description: 'How long a new token signing key is published in the JWKS before it signs, so relying parties that cache the keys (Entra asks for a daily refresh) know it first. Also applies to `keyhaven admin rotate-signing-key` without `--now`.',
    }),
    signingKeyRefreshSeconds: Type.Integer({
      minimum: 1, maximum: 3600, default: 60,
      description: 'How often a server re-reads the signing keys from storage; on PostgreSQL replicas are also told of a change at once (LISTEN/NOTIFY). A retired key stays published this much longer.',
    }),
    passwordMinLength: Type.Integer({ minimum: 8, maximum: 256, default: 12, description: 'Shortest password the password policy accepts (NIST SP 800-63B: at least 8).' }),
    lockoutThreshold: Type.Integer({ minimum: 1, maximum: 100, default: 5, description: 'Consecutive failed sign-ins after which an account is locked for a growing delay.' }),
    lockoutBaseDelaySeconds: Type.Integer({ minimum: 1, maximum: 86400, default: 30, description: 'First lockout delay; it doubles with each further failure.' }),
    lockoutMaxDelaySeconds: Type.Integer({ minimum: 1, maximum: 86400, default: 900, description: 'Longest lockout delay.' }),
    trustedSources: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description: 'IP addresses or CIDR blocks (such as the JupyterHub or SSSD host) exempt from the per-source guard against password spraying; their accounts still lock.',
    }),
    storagePoolSize: Type.Integer({ minimum: 1, maximum: 200, default: 10, description: 'PostgreSQL connection pool size per server.' }),
    backupSchedule: Type.Optional(Type.String({
      pattern: '^[1-9][0-9]*(s|m|h|d)$',
      description: 'Take a backup (as `keyhaven admin backup` does) this often while the server runs: a number and `s`, `m`, `h` or `d` (`1d`, `6h`). Unset: no scheduled backups. A turn is skipped when any server or admin took a backup within the interval, so replicas on one PostgreSQL do not all back up.',
    })),
    backupDir: Type.Optional(Type.String({
      minLength: 1,
      description: 'Where scheduled backups are written (`keyhaven-{time}.khb`, 0600, encrypted under the master key). Default `$home/backups`.',
    })),
    backupKeep: Type.Integer({
      minimum: 1, maximum: 10000, default: 7,
      description: 'How many scheduled backups to keep in `backupDir`; older `keyhaven-*.khb` files there are deleted after each new one.',
    }),
    metricsPort: Port('A plain-HTTP listener on 127.0.0.1 answering GET /metrics without a token, for a Prometheus on the same machine (loopback only); 0: none — /metrics on the HTTPS port, behind a token, is always there.', 0),
    auditStreamFile: Type.String({
      default: '',
      description: 'A file every committed audit record is appended to as a JSON line with its chain MAC (0600), for a SIEM or a log shipper; empty: none. The database chain stays the source of truth (`keyhaven audit export --after-seq N` fills a gap).',
    }),
    auditMaxBatch: Type.Integer({
      minimum: 1, maximum: 10000, default: 512,
      description: 'Most requests whose writes and audit records share one transaction (group commit).',
    }),
    shutdownTimeoutMs: Type.Integer({
      minimum: 0, maximum: 600000, default: 10000,
      description: 'On SIGTERM, how long in-flight requests may take before connections are closed.',
    }),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;

/** Keys whose values are secrets: never logged, and also accepted as `{key}File` / `KEYHAVEN_{KEY}_FILE`. */
export const SECRET_KEYS: ReadonlySet<string> = new Set(
  Object.entries(ConfigSchema.properties)
    .filter(([, s]) => (s as { secret?: boolean }).secret === true)
    .map(([k]) => k),
);

export const CONFIG_KEYS = Object.keys(ConfigSchema.properties) as (keyof Config)[];
