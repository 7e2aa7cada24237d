// The values of the subschema entry (RFC 4512 §4.2), cn=Subschema: every published attribute
// type, object class, syntax and matching rule, followed by the definitions Keyhaven makes for
// names of imported entries that no published schema defines (imported-definitions.ts).
import {
  describeAttributeType, describeMatchingRule, describeObjectClass, describeSyntax,
} from './definitions.js';
import { importedAttributeDefinition, importedObjectClassDefinition } from './imported-definitions.js';
import { PUBLISHED_ATTRIBUTE_TYPES, PUBLISHED_OBJECT_CLASSES, publishedAttributeType, publishedObjectClass } from './published-schema.js';
import { LDAP_SYNTAXES, MATCHING_RULES } from './syntaxes.js';

/** The subschema subentry's DN, which every entry names in subschemaSubentry (RFC 4512 §4.2). */
export const SUBSCHEMA_DN = 'cn=Subschema';

/** What imported entries carry (the directory's read-model/imported-names.ts). */
export type { ImportedNames } from '../../directory/read-model/imported-names.js';
import type { ImportedNames } from '../../directory/read-model/imported-names.js';

export interface SubschemaValues {
  attributeTypes: string[];
  objectClasses: string[];
  ldapSyntaxes: string[];
  matchingRules: string[];
}

/** RFC 4512 §1.4 descr: what a NAME may be. */
const DESCR = /^[A-Za-z][A-Za-z0-9-]*$/;

const PUBLISHED: SubschemaValues = {
  attributeTypes: PUBLISHED_ATTRIBUTE_TYPES.map(describeAttributeType),
  objectClasses: PUBLISHED_OBJECT_CLASSES.map(describeObjectClass),
  ldapSyntaxes: LDAP_SYNTAXES.map(describeSyntax),
  matchingRules: MATCHING_RULES.map(describeMatchingRule),
};

export function subschemaValues(imported?: ImportedNames): SubschemaValues {
  if (!imported) return PUBLISHED;
  const extraTypes: string[] = [];
  const seen = new Set<string>();
  for (const [name, { binary }] of imported.attributes) {
    const key = name.toLowerCase();
    if (seen.has(key) || !DESCR.test(name) || publishedAttributeType(name)) continue;
    seen.add(key);
    extraTypes.push(describeAttributeType(importedAttributeDefinition(name, binary)));
  }
  const extraClasses: string[] = [];
  for (const name of imported.objectClasses) {
    const key = name.toLowerCase();
    if (seen.has(`oc:${key}`) || !DESCR.test(name) || publishedObjectClass(name)) continue;
    seen.add(`oc:${key}`);
    extraClasses.push(describeObjectClass(importedObjectClassDefinition(name)));
  }
  return {
    ...PUBLISHED,
    attributeTypes: extraTypes.length > 0 ? [...PUBLISHED.attributeTypes, ...extraTypes] : PUBLISHED.attributeTypes,
    objectClasses: extraClasses.length > 0 ? [...PUBLISHED.objectClasses, ...extraClasses] : PUBLISHED.objectClasses,
  };
}
