// The rule by which an imported entry's own values are served (LDAP view, user-entry.ts) and
// exported (ldif-export.ts): an import keeps the values an entry had for the attributes
// Keyhaven models (source_attributes); they stand while they still agree with the object's
// property — every value Keyhaven holds is among them, compared ignoring case and
// insignificant spaces as caseIgnoreMatch does (RFC 4518) — and the property wins once an
// admin changed it. cn names the entry: its imported values stand, the DN's RDN value first.
import type { ExtraAttributes, ExtraValue } from '../extra-attributes.js';
import { rdnValue } from './ldif-dn.js';

export type SourceValue = string | Buffer;

function fold(value: string): string {
  return value.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

export function sameValue(a: SourceValue, b: SourceValue): boolean {
  if (typeof a === 'string' && typeof b === 'string') return fold(a) === fold(b);
  return Buffer.from(a).equals(Buffer.from(b));
}

export function decodeValues(values: readonly ExtraValue[]): SourceValue[] {
  return values.map((v) => (typeof v === 'string' ? v : Buffer.from(v.base64, 'base64')));
}

/** The imported values of `name` (matched ignoring case), decoded; undefined when the entry had none. */
export function sourceValues(source: ExtraAttributes | undefined, name: string): SourceValue[] | undefined {
  if (!source) return undefined;
  const key = Object.keys(source).find((k) => k.toLowerCase() === name.toLowerCase());
  const values = key === undefined ? undefined : decodeValues(source[key]!);
  return values && values.length > 0 ? values : undefined;
}

/** The values to serve: the imported ones while they agree with `current`, else `current`. */
export function agreedValues(current: readonly SourceValue[], imported: readonly SourceValue[] | undefined): SourceValue[] {
  if (!imported || current.length === 0) return [...current];
  return current.every((c) => imported.some((v) => sameValue(c, v))) ? [...imported] : [...current];
}

/** cn values with the DN's RDN value (when the RDN is a cn) first, added if the entry lacked it. */
export function cnFirst(values: readonly string[], dn: string): string[] {
  const leaf = rdnValue(dn, 'cn');
  if (leaf === undefined) return [...values];
  const own = values.find((v) => sameValue(v, leaf)) ?? leaf;
  return [own, ...values.filter((v) => !sameValue(v, leaf))];
}
