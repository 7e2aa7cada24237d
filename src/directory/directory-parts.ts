// The directory's parts, wired once by DirectoryService and handed to the access objects.
// Faces never see this: they get a DirectoryAccess and the capabilities it grants.
import type { AppCredentials } from './app-credentials.js';
import type { Applications } from './applications.js';
import type { DirectoryDeps } from './directory-context.js';
import type { DirectoryRoles } from './directory-roles.js';
import type { GroupMembership } from './group-membership.js';
import type { PrivateGroupReads } from './private-group-reads.js';
import type { Groups } from './groups.js';
import type { SecondFactor } from './second-factor.js';
import type { VisibilityRules } from './scoped-reader.js';
import type { ServicePrincipals } from './service-principals.js';
import type { UserAccounts } from './user-accounts.js';
import type { UserPasswords } from './user-passwords.js';

export interface DirectoryParts {
  deps: DirectoryDeps;
  users: UserAccounts;
  passwords: UserPasswords;
  groups: Groups;
  privateGroups: PrivateGroupReads;
  membership: GroupMembership;
  applications: Applications;
  credentials: AppCredentials;
  servicePrincipals: ServicePrincipals;
  roles: DirectoryRoles;
  secondFactor: SecondFactor;
  /** Who sees which attributes (scoped-reader.ts), for the Graph reader as for LDAP. */
  visibility: VisibilityRules;
}
