// The attribute and object class names that imported entries carry (users' and groups'
// keyhavenExtraAttributes, the object classes an import kept), read through the directory
// core like every other read of the view, so the subschema can define each one that no
// published schema does (src/ldap/schema/imported-definitions.ts). An attribute counts as
// binary when any of its values is: its definition is then Octet String.
//
// It walks every user and group, as a subtree search would; the in-memory read model, once
// the view has one, can answer it from what it holds.
import type { ImportedNames } from '../schema/subschema-entry.js';
import type { DirectoryReads } from './directory-reads.js';

export async function importedNames(reads: DirectoryReads): Promise<ImportedNames> {
  const attributes = new Map<string, { binary: boolean }>();
  const objectClasses = new Set<string>();
  /** Lower-cased name → the spelling first met (entry-builder.ts serves the import's spelling). */
  const spelling = new Map<string, string>();
  const note = (o: { keyhavenExtraAttributes?: Record<string, unknown[]>; keyhavenLdap?: { objectClasses: readonly string[] } }) => {
    for (const [name, values] of Object.entries(o.keyhavenExtraAttributes ?? {})) {
      const key = name.toLowerCase();
      const binary = values.some((v) => typeof v !== 'string');
      const known = attributes.get(key);
      if (known) known.binary ||= binary;
      else {
        attributes.set(key, { binary });
        spelling.set(key, name);
      }
    }
    for (const c of o.keyhavenLdap?.objectClasses ?? []) objectClasses.add(c.trim());
  };
  for await (const u of reads.users()) note(u);
  for await (const g of reads.groups()) note(g);
  return { attributes: new Map([...attributes].map(([k, v]) => [spelling.get(k) ?? k, v])), objectClasses };
}
