// The contract between the LDAP protocol face (src/ldap/server/: framing, operations,
// controls, TLS) and the LDAP view of the directory (src/ldap/view/: the DIT, entries, filter
// evaluation). The face parses and answers LDAP; the view decides what exists, reading the
// directory core through a reader scoped to the bound caller — who may see what is the
// core's (src/directory/scoped-reader.ts). Neither touches storage.
import type { FilterString } from '@ldapjs/filter';

/** An attribute as served: its name as the schema spells it, and its values. */
export interface LdapAttribute {
  name: string;
  values: (string | Buffer)[];
}

export interface LdapEntry {
  /** The entry's DN as the server returns it (normalised spacing, original case). */
  dn: string;
  /** Keyed by lower-cased attribute type name. */
  attributes: Map<string, LdapAttribute>;
}

/** Who is asking, after a bind (RFC 4513 §5): anonymous, a user, or a service account. */
export type LdapViewer =
  | { kind: 'anonymous' }
  | { kind: 'user'; id: string; dn: string }
  | { kind: 'serviceAccount'; id: string; dn: string };

export type SearchScope = 'base' | 'one' | 'sub';

export interface SearchParams {
  baseDn: string;
  scope: SearchScope;
  /** A parsed RFC 4515 filter from @ldapjs/filter. */
  filter: FilterString;
  /** The requested attribute list as sent: may hold `*`, `+`, `1.1`, options, unknown names. */
  attributes: string[];
  typesOnly: boolean;
}

export interface BindResult {
  viewer: Exclude<LdapViewer, { kind: 'anonymous' }>;
}

// Errors the view and the face throw carry an LDAP result code (RFC 4511 §4.1.9): LdapResultError,
// one of the core's KeyhavenErrors (src/errors.ts); core errors become one in ldap-errors.ts.
export { LdapResultError } from '../errors.js';

export const LDAP_RESULT = {
  success: 0,
  operationsError: 1,
  protocolError: 2,
  timeLimitExceeded: 3,
  sizeLimitExceeded: 4,
  compareFalse: 5,
  compareTrue: 6,
  authMethodNotSupported: 7,
  strongerAuthRequired: 8,
  unavailableCriticalExtension: 12,
  confidentialityRequired: 13,
  noSuchAttribute: 16,
  undefinedAttributeType: 17,
  inappropriateMatching: 18,
  constraintViolation: 19,
  attributeOrValueExists: 20,
  noSuchObject: 32,
  invalidDnSyntax: 34,
  inappropriateAuthentication: 48,
  invalidCredentials: 49,
  insufficientAccessRights: 50,
  busy: 51,
  unavailable: 52,
  unwillingToPerform: 53,
  namingViolation: 64,
  objectClassViolation: 65,
  notAllowedOnNonLeaf: 66,
  entryAlreadyExists: 68,
  other: 80,
} as const;

/** An attribute of an add request, or the values of one modify change, as sent (bytes). */
export interface LdapWriteAttribute {
  type: string;
  values: Buffer[];
}

/** One change of a modify request (RFC 4511 §4.6). */
export interface LdapChange extends LdapWriteAttribute {
  operation: 'add' | 'delete' | 'replace';
}

/** Who writes, and from where (for the directory's audit). */
export interface LdapWriter {
  viewer: LdapViewer;
  source: string;
}

export interface LdapDirectory {
  /** The Root DSE (RFC 4512 §5.1), readable by anyone. */
  rootDse(): LdapEntry | Promise<LdapEntry>;
  /** The subschema subentry (RFC 4512 §4.2). */
  subschema(): LdapEntry;
  /**
   * Simple bind (RFC 4513 §5.1.3): verifies the password of the entry at `dn` (a user or a
   * service account) through the directory's lockout. Throws LdapResultError 49 on any failure
   * (same answer for an unknown DN and a wrong password), 53 for a locked account.
   */
  bind(dn: string, password: string, source: string): Promise<BindResult>;
  /**
   * The entries matching a search that `viewer` may see, in a stable order, streamed: the
   * face stops pulling when it hits a size limit, a page end or an abandon.
   */
  search(params: SearchParams, viewer: LdapViewer): AsyncIterable<LdapEntry>;
  /** RFC 4511 §4.10: true/false, or throws LdapResultError (noSuchObject, noSuchAttribute…). */
  compare(dn: string, attribute: string, value: string, viewer: LdapViewer): Promise<boolean>;
  /** RFC 3062: a user changes their own password under the password policy. */
  changePassword(viewer: LdapViewer, userDn: string | undefined, oldPassword: string | undefined, newPassword: string | undefined, source: string): Promise<string | undefined>;
  /**
   * Writes (RFC 4511 §4.6–4.8), optional: the face calls them only when the deployment turned
   * admin writes on (`ldapAdminWrites`), for a bound caller over TLS or loopback. Each goes
   * through the directory core as the bound caller, so it is role-checked and audited there;
   * failures throw LdapResultError (50, 32, 53, 65, 19, 20, 16…).
   */
  add?(dn: string, attributes: LdapWriteAttribute[], writer: LdapWriter): Promise<void>;
  modify?(dn: string, changes: LdapChange[], writer: LdapWriter): Promise<void>;
  delete?(dn: string, writer: LdapWriter): Promise<void>;
}
