// Distinguished names as an import compares them (RFC 4514): `member: CN=Alice Smith,OU=Users,
// DC=example,DC=com` must find the entry whose dn is `cn=alice smith, ou=users, dc=example,
// dc=com`. normalizeDn parses the string form (escapes `\,` and `\2C`, `#hex` values, spaces
// around separators, multi-valued RDNs joined with '+') and gives one canonical text: types
// lower-cased, values unescaped and lower-cased (directoryString matching ignores case),
// multi-valued RDNs sorted. It is for comparison only; the DN as written is what is stored.

/** The canonical comparison form of a DN, or undefined when it is not a DN. */
export function normalizeDn(dn: string): string | undefined {
  const rdns = parseDn(dn);
  if (!rdns) return undefined;
  return rdns
    .map((rdn) => rdn.map(([type, value]) => `${type}=${escapeValue(value.toLowerCase())}`).sort().join('+'))
    .join(',');
}

/** The first RDN's value of attribute `type` (e.g. the cn of `cn=Alice,ou=people,…`). */
export function rdnValue(dn: string, type: string): string | undefined {
  const rdns = parseDn(dn);
  return rdns?.[0]?.find(([t]) => t === type.toLowerCase())?.[1];
}

type Rdn = [string, string][];

function parseDn(dn: string): Rdn[] | undefined {
  const s = dn.trim();
  if (s === '') return [];
  const rdns: Rdn[] = [];
  let rdn: Rdn = [];
  let i = 0;
  const n = s.length;
  while (i < n) {
    while (i < n && s[i] === ' ') i++;
    const typeStart = i;
    while (i < n && s[i] !== '=') i++;
    if (i >= n) return undefined;
    const type = s.slice(typeStart, i).trim().toLowerCase();
    if (!/^(?:[a-z][a-z0-9-]*|[0-9]+(?:\.[0-9]+)*)$/.test(type)) return undefined;
    i++; // '='
    while (i < n && s[i] === ' ') i++;
    let value = '';
    if (s[i] === '#') {
      // A BER-encoded value: compared as its hex text.
      const start = i;
      i++;
      while (i < n && /[0-9A-Fa-f]/.test(s[i]!)) i++;
      value = s.slice(start, i).toLowerCase();
    } else {
      const bytes: number[] = [];
      let trailingSpaces = 0;
      while (i < n && s[i] !== ',' && s[i] !== '+' && s[i] !== ';') {
        const c = s[i]!;
        if (c === '\\') {
          const next = s.slice(i + 1, i + 3);
          if (/^[0-9A-Fa-f]{2}$/.test(next)) {
            bytes.push(parseInt(next, 16));
            i += 3;
          } else if (i + 1 < n) {
            bytes.push(...Buffer.from(s[i + 1]!, 'utf8'));
            i += 2;
          } else {
            return undefined;
          }
          trailingSpaces = 0;
          continue;
        }
        if (c === '"') return undefined;
        bytes.push(...Buffer.from(c, 'utf8'));
        trailingSpaces = c === ' ' ? trailingSpaces + 1 : 0;
        i++;
      }
      value = Buffer.from(bytes.slice(0, bytes.length - trailingSpaces)).toString('utf8');
    }
    rdn.push([type, value]);
    while (i < n && s[i] === ' ') i++;
    if (i >= n) break;
    const sep = s[i]!;
    i++;
    if (sep === '+') continue;
    rdns.push(rdn);
    rdn = [];
    if (i >= n) return undefined; // a trailing separator
  }
  rdns.push(rdn);
  return rdns;
}

function escapeValue(value: string): string {
  return value.replace(/[\\,+"<>;=#]/g, (c) => `\\${c}`).replace(/^ | $/g, '\\ ');
}

/** The RDNs of a DN as written (split at unescaped commas, outer spaces dropped), leaf first. */
export function splitDn(dn: string): string[] | undefined {
  if (parseDn(dn) === undefined) return undefined;
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < dn.length; i++) {
    const c = dn[i]!;
    if (c === '\\' && i + 1 < dn.length) {
      current += c + dn[i + 1]!;
      i++;
      continue;
    }
    if (c === ',' || c === ';') {
      parts.push(current.trim());
      current = '';
      continue;
    }
    current += c;
  }
  if (current.trim() !== '') parts.push(current.trim());
  return parts;
}

/** The lower-cased attribute type of an RDN as written (`dc` of `DC=corp`). */
export function rdnType(rdn: string): string {
  return (/^\s*([^=]+)=/.exec(rdn)?.[1] ?? '').trim().toLowerCase();
}
