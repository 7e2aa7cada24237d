// An imported entry that is neither a user nor a group — the base (`o: Example Inc.` on an
// organization), a container (`ou=people` with its description), a bind-only account
// (`cn=reader`) — served as the LDIF had it: its object classes and every attribute kept
// (ldap-entries.ts; passwords never), under its DN, with entryUUID and entryDN as operational
// attributes (RFC 4530, RFC 5020).
import type { ImportedLdapEntry } from '../../directory/ldap-entries.js';
import type { LdapEntry } from '../ldap-directory.js';
import { tidyDn } from './distinguished-name.js';
import { EntryBuilder } from './entry-builder.js';

export function importedEntry(imported: ImportedLdapEntry): LdapEntry {
  const dn = tidyDn(imported.dn);
  const builder = new EntryBuilder(dn).set('objectClass', ...imported.objectClasses);
  for (const [name, values] of Object.entries(imported.attributes)) {
    builder.set(name, ...values.map((v) => (typeof v === 'string' ? v : Buffer.from(v.base64, 'base64'))));
  }
  return builder.set('entryUUID', imported.id).set('entryDN', dn).build();
}
