// Imported entries served as imported (issue 8, item 2): the values an LDIF import kept for
// the attributes Keyhaven models itself (keyhavenLdap.attributes: several cn values, a
// displayName unlike cn, a capitalised uid, a second mail) are served over what Keyhaven
// would make of its properties, by the rule export-ldif follows too
// (directory/ldif/source-values.ts): they stand while they agree with the object, and cn
// stands always, the RDN's value first (a client given several cn values uses the first;
// JupyterHub's lookup_dn_user_dn_attribute = cn does).
import type { ExtraAttributes } from '../../directory/extra-attributes.js';
import { agreedValues, cnFirst, decodeValues } from '../../directory/ldif/source-values.js';
import type { EntryBuilder } from './entry-builder.js';
import { attributeType } from './schema.js';

export function applySourceAttributes(builder: EntryBuilder, source: ExtraAttributes | undefined, dn: string): void {
  if (!source) return;
  for (const [name, raw] of Object.entries(source)) {
    if (name.includes(';')) continue;
    const served = attributeType(name)?.name ?? name;
    const key = served.toLowerCase();
    const values = decodeValues(raw);
    if (values.length === 0) continue;
    if (key === 'cn') {
      builder.set(served, ...cnFirst(values.filter((v): v is string => typeof v === 'string'), dn));
      continue;
    }
    const current = builder.attributes.get(key);
    if (current) builder.set(served, ...agreedValues(current.values, values));
  }
}
