// Distinguished names as the view compares them (RFC 4514 strings, RFC 4517 §4.2.15
// distinguishedNameMatch): attribute types ignore case, and the values of the attribute types
// that appear in Keyhaven's DNs (cn, uid, ou, dc, o, c, l, st…) are directoryString values
// matched with caseIgnoreMatch, so case and insignificant spaces (RFC 4518 §2.6.1) do not
// matter. `CN=Alice,  OU=AADDC Users,DC=x` and `cn=alice,ou=aaddc users,dc=x` are one DN.
// Parsing is @ldapjs/dn's; escaping on the way out is ours (RFC 4514 §2.4).
import dnModule from '@ldapjs/dn';

export interface ParsedRdn {
  /** [lower-cased type, value as written (unescaped)] pairs; more than one for a multi-valued RDN. */
  pairs: [string, string][];
}

export interface ParsedDn {
  rdns: ParsedRdn[];
  /** Each RDN normalised, leaf first. */
  rdnKeys: string[];
  /** The normalised form: equal for DNs that distinguishedNameMatch says are equal. */
  key: string;
}

/** Most RDNs a DN may have here: deeper ones name nothing Keyhaven serves. */
const MAX_RDNS = 32;
const MAX_DN_LENGTH = 4096;

/** caseIgnoreMatch's preparation (RFC 4518): case folded, outer spaces dropped, inner runs of spaces one. */
export function foldValue(value: string): string {
  return value.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

/** Parses an RFC 4514 string; undefined when it is not a DN (invalid syntax or a hex-encoded value). */
export function parseDn(text: string): ParsedDn | undefined {
  if (typeof text !== 'string' || text.length > MAX_DN_LENGTH) return undefined;
  if (text.trim() === '') return { rdns: [], rdnKeys: [], key: '' };
  let dn: { length: number; rdnAt(i: number): { keys(): string[]; getValue(k: string): unknown } };
  try {
    dn = dnModule.DN.fromString(text);
  } catch {
    return undefined;
  }
  if (dn.length > MAX_RDNS) return undefined;
  const rdns: ParsedRdn[] = [];
  for (let i = 0; i < dn.length; i++) {
    const rdn = dn.rdnAt(i);
    const pairs: [string, string][] = [];
    for (const k of rdn.keys()) {
      const v = rdn.getValue(k);
      // `#04…` (BER-encoded values) names no entry of ours.
      if (typeof v !== 'string') return undefined;
      pairs.push([k.toLowerCase(), v]);
    }
    if (pairs.length === 0) return undefined;
    rdns.push({ pairs });
  }
  return withKeys(rdns);
}

export function withKeys(rdns: ParsedRdn[]): ParsedDn {
  const rdnKeys = rdns.map((r) => r.pairs.map(([t, v]) => `${t}=${escapeValue(foldValue(v))}`).sort().join('+'));
  return { rdns, rdnKeys, key: rdnKeys.join(',') };
}

/** The normalised key of a DN string, or undefined if it is not a DN. */
export function dnKey(text: string): string | undefined {
  return parseDn(text)?.key;
}

/** RFC 4514 §2.4 escaping of an attribute value. */
export function escapeValue(value: string): string {
  let out = value.replace(/[\\",+;<>=]/g, (c) => `\\${c}`).replace(/\u0000/g, '\\00');
  if (out.startsWith('#') || out.startsWith(' ')) out = `\\${out}`;
  if (out.endsWith(' ') && !out.endsWith('\\ ')) out = `${out.slice(0, -1)}\\ `;
  return out;
}

/** A DN string from RDNs, types and values as given (values escaped). */
export function formatDn(rdns: readonly ParsedRdn[]): string {
  return rdns.map((r) => r.pairs.map(([t, v]) => `${t}=${escapeValue(v)}`).join('+')).join(',');
}

/** Whether `dn` equals `base` or lies beneath it (RDN by RDN, so an escaped comma is no separator). */
export function isAtOrUnder(dn: ParsedDn, base: ParsedDn): boolean {
  const extra = dn.rdnKeys.length - base.rdnKeys.length;
  if (extra < 0) return false;
  return base.rdnKeys.every((k, i) => dn.rdnKeys[extra + i] === k);
}

/** A DN's parent (the empty DN for a one-RDN DN). */
export function parentOf(dn: ParsedDn): ParsedDn {
  return withKeys(dn.rdns.slice(1));
}

/**
 * A DN as written, with the spaces around separators dropped (RFC 4514 §3 allows none; RFC 2253
 * readers accepted them), and case and escapes left alone: the form the server returns.
 */
export function tidyDn(text: string): string {
  let out = '';
  let atStart = true;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) {
      out += c + text[i + 1]!;
      i++;
      atStart = false;
      continue;
    }
    if (c === ',' || c === '+' || c === '=') {
      out = trimUnescapedEnd(out) + c;
      atStart = true;
      continue;
    }
    if (atStart && c === ' ') continue;
    atStart = false;
    out += c;
  }
  return trimUnescapedEnd(out);
}

function trimUnescapedEnd(s: string): string {
  let end = s.length;
  while (end > 0 && s[end - 1] === ' ') {
    // An escaped space (`\ `) is part of the value.
    let slashes = 0;
    for (let j = end - 2; j >= 0 && s[j] === '\\'; j--) slashes++;
    if (slashes % 2 === 1) break;
    end--;
  }
  return s.slice(0, end);
}
