// The matching rules of RFC 4517 §4.2 that Keyhaven's attribute syntaxes use, each answering
// TRUE, FALSE or Undefined (an assertion value the syntax cannot hold: `(uidNumber=abc)`,
// `(member=not a dn)`), as RFC 4511 §4.5.1.7 requires.
import { dnKey, foldValue } from './distinguished-name.js';
import type { MatchingRule } from './schema.js';

export type Tri = boolean | undefined;

type Value = string | Buffer;

const asText = (v: Value): string => (typeof v === 'string' ? v : v.toString('utf8'));

/** RFC 4518 insignificant-space handling for caseExact: outer spaces dropped, inner runs one. */
const squash = (s: string): string => s.normalize('NFKC').replace(/\s+/g, ' ').trim();

const INTEGER = /^-?(0|[1-9][0-9]{0,30})$/;

/** A GeneralizedTime (RFC 4517 §3.3.13) as milliseconds since the epoch, or undefined. */
export function parseGeneralizedTime(text: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})?(\d{2})?(?:[.,](\d+))?(Z|[+-]\d{2}(?:\d{2})?)$/.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi = '00', s = '00', frac = '0', zone] = m;
  let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Math.round(Number(`0.${frac}`) * 1000));
  if (Number.isNaN(ms)) return undefined;
  if (zone !== 'Z') {
    const sign = zone!.startsWith('-') ? -1 : 1;
    const hours = Number(zone!.slice(1, 3));
    const minutes = zone!.length > 3 ? Number(zone!.slice(3, 5)) : 0;
    ms -= sign * (hours * 60 + minutes) * 60_000;
  }
  return ms;
}

/** The assertion normalised for a rule, or undefined when the syntax cannot hold it. */
function normalise(rule: MatchingRule, v: Value): string | bigint | number | Buffer | undefined {
  switch (rule) {
    case 'caseIgnore':
    case 'objectIdentifier':
      return foldValue(asText(v));
    case 'caseExact':
      return squash(asText(v));
    case 'integer': {
      const t = asText(v).trim();
      return INTEGER.test(t) ? BigInt(t) : undefined;
    }
    case 'dn':
      return dnKey(asText(v));
    case 'octetString':
      return typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
    case 'generalizedTime':
      return parseGeneralizedTime(asText(v));
  }
}

/**
 * A value's identity under a rule's equality, as a string: two values match (matchEquality)
 * exactly when their keys are equal, so an index keyed by it finds every entry an equality
 * assertion can be TRUE for (search-plan.ts). Undefined when the syntax cannot hold the value.
 */
export function equalityKey(rule: MatchingRule, v: Value): string | undefined {
  const n = normalise(rule, v);
  if (n === undefined) return undefined;
  if (Buffer.isBuffer(n)) return `b:${n.toString('hex')}`;
  return `${typeof n}:${String(n)}`;
}

/** Equality: TRUE if any value matches, else Undefined if the assertion is not of the syntax, else FALSE. */
export function matchEquality(rule: MatchingRule, values: readonly Value[], assertion: Value): Tri {
  const a = normalise(rule, assertion);
  if (a === undefined) return undefined;
  for (const v of values) {
    const n = normalise(rule, v);
    if (n === undefined) continue;
    if (Buffer.isBuffer(a) ? Buffer.isBuffer(n) && a.equals(n) : n === a) return true;
  }
  return false;
}

/** Ordering (>= when `ge`, else <=). */
export function matchOrdering(rule: MatchingRule, values: readonly Value[], assertion: Value, ge: boolean): Tri {
  const a = normalise(rule, assertion);
  if (a === undefined || Buffer.isBuffer(a)) return undefined;
  for (const v of values) {
    const n = normalise(rule, v);
    if (n === undefined || Buffer.isBuffer(n)) continue;
    if (ge ? n >= a : n <= a) return true;
  }
  return false;
}

/** Substrings (RFC 4517 §4.2.6 caseIgnoreSubstringsMatch, and the caseExact one). */
export function matchSubstrings(rule: MatchingRule, values: readonly Value[], parts: { initial?: string | undefined; any: readonly string[]; final?: string | undefined }): Tri {
  const prep = rule === 'caseIgnore' ? (s: string) => s.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ') : (s: string) => s.normalize('NFKC').replace(/\s+/g, ' ');
  const initial = parts.initial === undefined ? undefined : prep(parts.initial).trimStart();
  const final = parts.final === undefined ? undefined : prep(parts.final).trimEnd();
  const any = parts.any.map(prep);
  outer: for (const v of values) {
    const text = prep(asText(v)).trim();
    let pos = 0;
    if (initial !== undefined) {
      if (!text.startsWith(initial)) continue;
      pos = initial.length;
    }
    for (const piece of any) {
      const at = text.indexOf(piece, pos);
      if (at < 0) continue outer;
      pos = at + piece.length;
    }
    if (final !== undefined && (text.length - final.length < pos || !text.endsWith(final))) continue;
    return true;
  }
  return false;
}

/** Approximate match: equality ignoring case, spaces and punctuation for text; plain equality otherwise. */
export function matchApprox(rule: MatchingRule, values: readonly Value[], assertion: Value): Tri {
  if (rule !== 'caseIgnore' && rule !== 'caseExact') return matchEquality(rule, values, assertion);
  const strip = (v: Value) => foldValue(asText(v)).replace(/[^\p{L}\p{N}]/gu, '');
  const a = strip(assertion);
  return values.some((v) => strip(v) === a);
}

/** Matching rules an extensible filter may name (RFC 4517 §4.2), by OID and by name. */
export const RULE_BY_ID: ReadonlyMap<string, MatchingRule> = new Map<string, MatchingRule>([
  ['2.5.13.0', 'objectIdentifier'], ['objectidentifiermatch', 'objectIdentifier'],
  ['2.5.13.1', 'dn'], ['distinguishednamematch', 'dn'],
  ['2.5.13.2', 'caseIgnore'], ['caseignorematch', 'caseIgnore'],
  ['1.3.6.1.4.1.1466.109.114.2', 'caseIgnore'], ['caseignoreia5match', 'caseIgnore'],
  ['2.5.13.5', 'caseExact'], ['caseexactmatch', 'caseExact'],
  ['1.3.6.1.4.1.1466.109.114.1', 'caseExact'], ['caseexactia5match', 'caseExact'],
  ['2.5.13.14', 'integer'], ['integermatch', 'integer'],
  ['2.5.13.17', 'octetString'], ['octetstringmatch', 'octetString'],
  ['2.5.13.27', 'generalizedTime'], ['generalizedtimematch', 'generalizedTime'],
]);
