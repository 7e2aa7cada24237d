// The attribute and object class names that imported entries carry (users' and groups'
// keyhavenExtraAttributes, the object classes an import kept), read from the read model, so
// the LDAP subschema can define each one that no published schema does
// (src/ldap/schema/imported-definitions.ts). Names only: no value leaves here, so anyone may
// be told them (RFC 4512 §4.4: the subschema is readable by all), and the LDAP face needs no
// unscoped read of the model to publish them (DirectoryService.ldapNames). An attribute counts as
// binary when any of its values is: its definition is then Octet String.
//
// ldap3 reads the subschema after every bind, so the names are gathered once per state of the
// directory: the answer is kept with the read model's version, which every committed change
// bumps (read-model/directory-model.ts), and is recomputed at the next read after a change.
// Never stale, and no time-to-live.
import type { GraphGroup, GraphUser } from '../graph-objects.js';
import type { DirectoryModel } from './directory-model.js';

/** What imported entries carry: attribute names (with whether any value is binary) and object class names. */
export interface ImportedNames {
  attributes: ReadonlyMap<string, { binary: boolean }>;
  objectClasses: ReadonlySet<string>;
}

export function collectImportedNames(objects: Iterable<GraphUser | GraphGroup>): ImportedNames {
  const attributes = new Map<string, { name: string; binary: boolean }>();
  const objectClasses = new Set<string>();
  for (const o of objects) {
    for (const [name, values] of Object.entries(o.keyhavenExtraAttributes ?? {})) {
      const key = name.toLowerCase();
      const binary = values.some((v) => typeof v !== 'string');
      const known = attributes.get(key);
      // Published under the spelling first met (entry-builder.ts serves the import's spelling).
      if (known) known.binary ||= binary;
      else attributes.set(key, { name, binary });
    }
    for (const c of o.keyhavenLdap?.objectClasses ?? []) objectClasses.add(c.trim());
  }
  return { attributes: new Map([...attributes.values()].map((a) => [a.name, { binary: a.binary }])), objectClasses };
}

export class ImportedNamesIndex {
  #cached: { model: object; version: number; names: ImportedNames } | undefined;

  constructor(private readonly model: () => Promise<DirectoryModel>) {}

  async current(): Promise<ImportedNames> {
    const model = await this.model();
    const c = this.#cached;
    if (c && c.model === model && c.version === model.version) return c.names;
    const version = model.version;
    const names = collectImportedNames([...model.users(), ...model.groups()]);
    this.#cached = { model, version, names };
    return names;
  }
}
