// Which attributes of an entry a search returns (RFC 4511 §4.5.1.8, RFC 3673, RFC 4512 §3.4):
// the view hands over whole entries; the face picks what was asked for. An empty list or `*`
// means all user attributes, `+` all operational ones, `1.1` none (ignored when listed with
// others); names match case-insensitively. Unknown, duplicated and option-carrying names
// (`userCertificate;binary`, which SSSD asks for) are ignored rather than refused.
import type { LdapAttribute, LdapEntry } from '../ldap-directory.js';

/** Operational attributes (RFC 4512 §3.4, RFC 4530): returned only when named or with `+`. */
const OPERATIONAL = new Set([
  'entryuuid',
  'entrydn',
  'createtimestamp',
  'modifytimestamp',
  'creatorsname',
  'modifiersname',
  'subschemasubentry',
  'structuralobjectclass',
  'hassubordinates',
  'numsubordinates',
  'entrycsn',
  'pwdchangedtime',
  'pwdaccountlockedtime',
]);

export interface AttributeSelection {
  allUser: boolean;
  allOperational: boolean;
  names: ReadonlySet<string>;
}

const DESCRIPTION = /^([a-z][a-z0-9-]*|[0-9]+(\.[0-9]+)+)$/i;

export function parseSelection(requested: string[]): AttributeSelection {
  const names = new Set<string>();
  let allUser = requested.length === 0;
  let allOperational = false;
  for (const raw of requested) {
    const name = raw.trim();
    if (name === '*') allUser = true;
    else if (name === '+') allOperational = true;
    else if (name === '1.1') continue;
    else if (DESCRIPTION.test(name) && name.length <= 256) names.add(name.toLowerCase());
  }
  return { allUser, allOperational, names };
}

/**
 * `everythingIsUser` serves the Root DSE and the subschema entry: Active Directory returns their
 * attributes to `*` while OpenLDAP's tools ask for them with `+`, so both work.
 */
export function selectAttributes(entry: LdapEntry, selection: AttributeSelection, everythingIsUser = false): LdapAttribute[] {
  const out: LdapAttribute[] = [];
  for (const [key, attr] of entry.attributes) {
    const lower = key.toLowerCase();
    const operational = OPERATIONAL.has(lower);
    const wanted =
      selection.names.has(lower) ||
      (everythingIsUser ? selection.allUser || selection.allOperational : operational ? selection.allOperational : selection.allUser);
    if (wanted) out.push(attr);
  }
  return out;
}
