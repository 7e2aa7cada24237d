// The LDAP view's settings, resolved once from the configuration (src/config/schema.ts keys
// ldapBaseDn, ldapUsersContainer, ldapGroupsContainer, ldapUserDnTemplate,
// ldapGroupDnTemplate, ldapBindSecondFactor). Who may see what (ldapAnonymousSearch, ldapUsersSeeOthers,
// ldapPrivateAttributes) is the directory's: src/directory/scoped-reader.ts.

export interface LdapViewConfig {
  /** The naming context, e.g. `dc=keyhaven,dc=local`. */
  baseDn: string;
  /** Where users live, relative to the base DN (`ou=people`), unless userDnTemplate says otherwise. */
  usersContainer: string;
  groupsContainer: string;
  /** `{username}` is the user's short name, `{base}` the base DN; default `uid={username},{usersContainer},{base}`. */
  userDnTemplate?: string | undefined;
  /** `{name}` is the group's mailNickname; default `cn={name},{groupsContainer},{base}`. */
  groupDnTemplate?: string | undefined;
  /** The domain of userPrincipalNames given to users added over LDAP (`{uid}@{domain}`). */
  upnDomain?: string | undefined;
  /** What a bind needs from a user who must use a second factor (`ldapBindSecondFactor`). */
  bindSecondFactor?: 'ignore' | 'append' | 'refuse' | undefined;
}

/** The configuration keys the view reads (a structural slice of Config). */
export interface LdapViewConfigSource {
  directoryDomain: string;
  ldapBaseDn?: string | undefined;
  ldapUsersContainer?: string | undefined;
  ldapGroupsContainer?: string | undefined;
  ldapUserDnTemplate?: string | undefined;
  ldapGroupDnTemplate?: string | undefined;
  ldapBindSecondFactor?: 'ignore' | 'append' | 'refuse' | undefined;
}

/** `keyhaven.local` → `dc=keyhaven,dc=local` (RFC 2247). */
export function baseDnOfDomain(domain: string): string {
  return domain.split('.').filter((l) => l !== '').map((l) => `dc=${l}`).join(',');
}

export function ldapViewConfig(source: LdapViewConfigSource): LdapViewConfig {
  return {
    baseDn: source.ldapBaseDn ?? baseDnOfDomain(source.directoryDomain),
    usersContainer: source.ldapUsersContainer ?? 'ou=people',
    groupsContainer: source.ldapGroupsContainer ?? 'ou=groups',
    userDnTemplate: source.ldapUserDnTemplate,
    groupDnTemplate: source.ldapGroupDnTemplate,
    upnDomain: source.directoryDomain,
    bindSecondFactor: source.ldapBindSecondFactor ?? 'ignore',
  };
}
