// Search filters as the view evaluates them: a plain tree with the assertion values decoded,
// made from the @ldapjs/filter objects the protocol face parsed off the wire (parseBer keeps
// values as sent, bytes included), or from RFC 4515 text with its `\XX` escapes decoded
// (parseFilterText, for tests and configuration). Size and depth are bounded, so a hostile
// filter costs a bounded amount of work whatever it nests.
import filterModule, { type FilterString } from '@ldapjs/filter';
import asn1 from '@ldapjs/asn1';
import { LDAP_RESULT, LdapResultError } from '../ldap-directory.js';

export type FilterNode =
  | { op: 'and' | 'or'; items: FilterNode[] }
  | { op: 'not'; item: FilterNode }
  | { op: 'eq' | 'ge' | 'le' | 'approx'; attr: string; value: Buffer }
  | { op: 'present'; attr: string }
  | { op: 'sub'; attr: string; initial?: string | undefined; any: string[]; final?: string | undefined }
  | { op: 'ext'; attr?: string | undefined; rule?: string | undefined; value: string; dnAttributes: boolean };

export const MAX_FILTER_DEPTH = 64;
export const MAX_FILTER_NODES = 2048;

/** The view's tree of a parsed filter; LdapResultError unwillingToPerform (53) when it is too deep or too large. */
export function filterTree(filter: FilterString): FilterNode {
  const budget = { nodes: 0 };
  return convert(filter, 0, budget);
}

function convert(f: FilterString, depth: number, budget: { nodes: number }): FilterNode {
  if (depth > MAX_FILTER_DEPTH) throw tooComplex(`nested deeper than ${MAX_FILTER_DEPTH}`);
  if (++budget.nodes > MAX_FILTER_NODES) throw tooComplex(`has more than ${MAX_FILTER_NODES} parts`);
  const attr = typeof f['attribute'] === 'string' ? (f['attribute'] as string) : '';
  switch (f.type) {
    case 'AndFilter':
    case 'OrFilter': {
      const clauses = (f['clauses'] as FilterString[] | undefined) ?? [];
      return { op: f.type === 'AndFilter' ? 'and' : 'or', items: clauses.map((c) => convert(c, depth + 1, budget)) };
    }
    case 'NotFilter':
      return { op: 'not', item: convert(f['filter'] as FilterString, depth + 1, budget) };
    case 'EqualityFilter':
      return { op: 'eq', attr, value: rawValue(f) };
    case 'GreaterThanEqualsFilter':
      return { op: 'ge', attr, value: rawValue(f) };
    case 'LessThanEqualsFilter':
      return { op: 'le', attr, value: rawValue(f) };
    case 'ApproximateFilter':
      return { op: 'approx', attr, value: rawValue(f) };
    case 'PresenceFilter':
      return { op: 'present', attr };
    case 'SubstringFilter':
      return {
        op: 'sub', attr,
        initial: nonEmpty(f['initial']),
        any: ((f['any'] as unknown[] | undefined) ?? []).map((s) => String(s)).filter((s) => s !== ''),
        final: nonEmpty(f['final']),
      };
    case 'ExtensibleFilter':
      return {
        op: 'ext',
        attr: attr === '' ? undefined : attr,
        rule: nonEmpty(f['matchingRule']),
        value: String(f['matchValue'] ?? f['value'] ?? ''),
        dnAttributes: f['dnAttributes'] === true,
      };
    default:
      throw new LdapResultError(LDAP_RESULT.protocolError, `unknown filter type ${String(f.type).slice(0, 40)}`);
  }
}

function nonEmpty(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** An attribute-value assertion's bytes exactly as sent: through the filter's own BER encoding. */
function rawValue(f: FilterString): Buffer {
  try {
    const writer = (f as unknown as { toBer(): { buffer: Buffer } }).toBer();
    const reader = new asn1.BerReader(writer.buffer);
    reader.readSequence();
    reader.readString();
    const value = reader.readString(0x04, true) as Buffer | null;
    if (Buffer.isBuffer(value)) return value;
  } catch {
    // fall through to the text value
  }
  const v = f['value'];
  return Buffer.isBuffer(v) ? v : Buffer.from(String(v ?? ''), 'utf8');
}

function tooComplex(why: string): LdapResultError {
  return new LdapResultError(LDAP_RESULT.unwillingToPerform, `the search filter ${why}`);
}

/** RFC 4515 §3: `\XX` pairs decoded to bytes. */
export function unescapeFilterValue(text: string): Buffer {
  const bytes: number[] = [];
  const src = Buffer.from(text, 'utf8');
  for (let i = 0; i < src.length; i++) {
    if (src[i] === 0x5c && i + 2 < src.length + 0 && /^[0-9a-fA-F]{2}$/.test(src.subarray(i + 1, i + 3).toString('latin1'))) {
      bytes.push(parseInt(src.subarray(i + 1, i + 3).toString('latin1'), 16));
      i += 2;
    } else {
      bytes.push(src[i]!);
    }
  }
  return Buffer.from(bytes);
}

/** Parses RFC 4515 text into the same objects parseBer makes (values decoded). Throws on bad syntax. */
export function parseFilterText(text: string): FilterString {
  return decodeValues(filterModule.parseString(text), 0);
}

function decodeValues(f: FilterString, depth: number): FilterString {
  if (depth > MAX_FILTER_DEPTH) throw tooComplex(`nested deeper than ${MAX_FILTER_DEPTH}`);
  const attribute = String(f['attribute'] ?? '');
  const str = (v: unknown) => unescapeFilterValue(String(v ?? '')).toString('utf8');
  switch (f.type) {
    case 'AndFilter':
      return new filterModule.AndFilter({ filters: ((f['clauses'] as FilterString[]) ?? []).map((c) => decodeValues(c, depth + 1)) });
    case 'OrFilter':
      return new filterModule.OrFilter({ filters: ((f['clauses'] as FilterString[]) ?? []).map((c) => decodeValues(c, depth + 1)) });
    case 'NotFilter':
      return new filterModule.NotFilter({ filter: decodeValues(f['filter'] as FilterString, depth + 1) });
    case 'EqualityFilter':
      return new filterModule.EqualityFilter({ attribute, raw: unescapeFilterValue(String(f['value'] ?? '')) });
    case 'ApproximateFilter':
      return new filterModule.ApproximateFilter({ attribute, value: str(f['value']) });
    case 'GreaterThanEqualsFilter':
      return new filterModule.GreaterThanEqualsFilter({ attribute, value: str(f['value']) });
    case 'LessThanEqualsFilter':
      return new filterModule.LessThanEqualsFilter({ attribute, value: str(f['value']) });
    case 'SubstringFilter':
      return new filterModule.SubstringFilter({
        attribute,
        initial: f['initial'] ? str(f['initial']) : undefined,
        any: ((f['any'] as string[]) ?? []).map(str),
        final: f['final'] ? str(f['final']) : undefined,
      });
    case 'ExtensibleFilter':
      return new filterModule.ExtensibleFilter({
        attribute: attribute === '' ? undefined : attribute,
        value: str(f['matchValue'] ?? f['value']),
        rule: nonEmpty(f['matchingRule']),
        dnAttributes: f['dnAttributes'] === true,
      });
    default:
      return f;
  }
}
