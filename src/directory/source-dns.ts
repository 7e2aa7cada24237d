// Finding an LDIF-imported user or group by the DN it came with (users.source_dn,
// groups.source_dn), as LDAP compares DNs: attribute types and values ignoring case, spaces
// around separators ignored, escapes resolved (ldif/ldif-dn.ts normalizeDn). The stored DN is
// the one the LDIF gave; the repos look it up through the lower() unique index, so the DN as
// the client wrote it is tried first, then with the spaces around separators dropped, and —
// for a spelling neither catches (`\2C` for `,`, a space after a comma in the stored form) —
// the few objects the leaf RDN's value could name (login name, group nickname, display name),
// each compared in normalised form. Every step is an indexed read or a small filtered one;
// nothing scans the directory.
import type { Repos } from '../storage/storage.js';
import type { GroupRow } from '../storage/repos/group-repo.js';
import type { UserRow } from '../storage/repos/user-repo.js';
import { normalizeDn, rdnValue } from './ldif/ldif-dn.js';

export type SourceDnMatch = { kind: 'user'; row: UserRow } | { kind: 'group'; row: GroupRow };

const MAX_DN_LENGTH = 4096;

export async function findBySourceDn(repos: Repos, dn: string): Promise<SourceDnMatch | undefined> {
  if (typeof dn !== 'string' || dn.length === 0 || dn.length > MAX_DN_LENGTH) return undefined;
  // A DN with a control character is not looked up (PostgreSQL refuses NUL in text outright);
  // LDIF writes such characters escaped, and the escaped form is what is stored.
  if (/\p{Cc}/u.test(dn)) return undefined;
  const key = normalizeDn(dn);
  if (key === undefined || key === '') return undefined;
  const same = (stored: string | null) => stored !== null && normalizeDn(stored) === key;
  for (const candidate of new Set([dn, dn.trim(), tidy(dn)])) {
    const user = await repos.users.bySourceDn(candidate);
    if (user && same(user.source_dn)) return { kind: 'user', row: user };
    const group = await repos.groups.bySourceDn(candidate);
    if (group && same(group.source_dn)) return { kind: 'group', row: group };
  }
  // The leaf RDN's value: the login name (uid=, sAMAccountName=, cn= of AD layouts) or a group's name.
  const leafType = /^\s*([A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)*)\s*=/.exec(dn)?.[1];
  const value = leafType === undefined ? undefined : rdnValue(dn, leafType);
  if (value === undefined || value === '' || value.length > 256 || /\p{Cc}/u.test(value)) return undefined;
  const user = await repos.users.byUsername(value);
  if (user && same(user.source_dn)) return { kind: 'user', row: user };
  const group = await repos.groups.byMailNickname(value);
  if (group && same(group.source_dn)) return { kind: 'group', row: group };
  const byDisplayName = { kind: 'compare', op: 'eq', column: 'display_name', value } as const;
  for (const u of (await repos.users.list(byDisplayName, { limit: 20 })).rows) {
    if (same(u.source_dn)) return { kind: 'user', row: u };
  }
  for (const g of (await repos.groups.list(byDisplayName, { limit: 20 })).rows) {
    if (same(g.source_dn)) return { kind: 'group', row: g };
  }
  return undefined;
}

/** The DN without spaces around `,`, `+` and `=` (escaped characters kept). */
function tidy(dn: string): string {
  let out = '';
  for (let i = 0; i < dn.length; i++) {
    const c = dn[i]!;
    if (c === '\\' && i + 1 < dn.length) {
      out += c + dn[i + 1]!;
      i++;
      continue;
    }
    if (c === ',' || c === '+' || c === '=') {
      out = out.replace(/(?<!\\) +$/, '') + c;
      while (dn[i + 1] === ' ') i++;
      continue;
    }
    out += c;
  }
  return out.trim();
}
