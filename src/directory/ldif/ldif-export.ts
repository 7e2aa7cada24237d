// `keyhaven directory export-ldif`: the directory as LDIF in the server's layout, lossless for
// what an import brought (issue 8, item 2: import → export → import yields the same entries).
//  - Imported users and groups under the DN and object classes they came with (source_dn,
//    source_object_classes), their imported values where they still agree with the object
//    (source-values.ts: several cn values, the RDN's first; a displayName unlike cn), their
//    other attributes (extra, binary ones base64) and entryUUID (their object id, which the
//    import takes back); objects made in Keyhaven under the configured DN templates.
//  - Imported bases, containers and bind-only accounts (ldap_entries) as imported; the base
//    and the users and groups containers of the layout, when no import brought them, as the
//    LDAP view serves them, so the tree is whole.
//  - Parents before children; password hashes only when asked (`userPassword`: imported
//    legacy hashes as they were, Keyhaven's own as `{SCRYPT}$scrypt$…`, which import-ldif
//    takes back). Service principals other than bind-only accounts are not LDIF entries.
import type { Repos } from '../../storage/storage.js';
import type { GroupRow } from '../../storage/repos/group-repo.js';
import type { UserRow } from '../../storage/repos/user-repo.js';
import { isLegacyHash } from '../../crypto/legacy-password-hash.js';
import { isArgon2idHash } from '../../crypto/password-hash.js';
import { InvalidInputError } from '../../errors.js';
import { parseExtraAttributes, type ExtraAttributes } from '../extra-attributes.js';
import { normalizeDn, rdnType, splitDn } from './ldif-dn.js';
import type { LdifOutEntry } from './ldif-writer.js';
import { agreedValues, cnFirst, sourceValues, type SourceValue } from './source-values.js';

export interface LdifExportOptions {
  includePasswordHashes?: boolean;
  /** Base DN; default from the directory domain (keyhaven.local → dc=keyhaven,dc=local). */
  baseDn: string;
  usersContainer?: string;
  groupsContainer?: string;
  /** `{username}` and `{base}`. */
  userDnTemplate?: string | undefined;
  /** `{name}` and `{base}`. */
  groupDnTemplate?: string | undefined;
  /** Only the entries at or under this DN (one imported tree, say). */
  subtree?: string | undefined;
}

export function baseDnOf(directoryDomain: string): string {
  return directoryDomain.split('.').map((label) => `dc=${label}`).join(',');
}

const DEFAULT_USER_CLASSES = ['top', 'person', 'organizationalPerson', 'inetOrgPerson', 'posixAccount'];
const DEFAULT_GROUP_CLASSES = ['top', 'groupOfNames', 'posixGroup'];
const PAGE = 500;

function escapeRdnValue(value: string): string {
  return value.replace(/[\\,+"<>;=]/g, (c) => `\\${c}`).replace(/^[ #]/, (c) => `\\${c}`).replace(/ $/, '\\ ');
}

async function all<T>(page: (after: { createdAt: string; id: string } | undefined) => Promise<{ rows: T[]; next?: { createdAt: string; id: string } | undefined }>): Promise<T[]> {
  const out: T[] = [];
  let after: { createdAt: string; id: string } | undefined;
  for (;;) {
    const result = await page(after);
    out.push(...result.rows);
    if (!result.next) return out;
    after = result.next;
  }
}

/** The LDIF entries of the whole directory, parents before children. */
export async function exportLdifEntries(repos: Repos, options: LdifExportOptions): Promise<LdifOutEntry[]> {
  const users = await all<UserRow>((after) => repos.users.list(undefined, { limit: PAGE, after }));
  const groups = await all<GroupRow>((after) => repos.groups.list(undefined, { limit: PAGE, after }));
  const imported = await repos.ldapEntries.all();
  const usersTemplate = options.userDnTemplate ?? `uid={username},${options.usersContainer ?? 'ou=people'},{base}`;
  const groupsTemplate = options.groupDnTemplate ?? `cn={name},${options.groupsContainer ?? 'ou=groups'},{base}`;
  const userDn = (u: UserRow) => u.source_dn ?? usersTemplate.replace('{username}', escapeRdnValue(u.username)).replace('{base}', options.baseDn);
  const groupDn = (g: GroupRow) => g.source_dn ?? groupsTemplate.replace('{name}', escapeRdnValue(g.mail_nickname)).replace('{base}', options.baseDn);
  const dnById = new Map<string, { dn: string; username?: string }>();
  for (const u of users) dnById.set(u.id, { dn: userDn(u), username: u.username });
  for (const g of groups) dnById.set(g.id, { dn: groupDn(g) });
  const out: LdifOutEntry[] = [];

  for (const u of users) {
    // posixAccount requires uidNumber (RFC 2307 §2.2): a user without one (the bootstrap admin) is none.
    const classes = u.source_object_classes ? (JSON.parse(u.source_object_classes) as string[])
      : u.uid_number === null ? DEFAULT_USER_CLASSES.filter((c) => c !== 'posixAccount') : DEFAULT_USER_CLASSES;
    const lower = new Set(classes.map((c) => c.toLowerCase()));
    const ad = lower.has('user');
    const source = u.source_dn === null ? undefined : sourceOf(u.source_attributes);
    const dn = dnById.get(u.id)!.dn;
    const attributes: LdifOutEntry['attributes'] = [{ name: 'objectClass', values: classes }];
    const add = withSource(attributes, source);
    const cn = source ? sourceValues(source, 'cn') : undefined;
    attributes.push({ name: 'cn', values: cn ? cnFirst(cn.map(String), dn) : [u.display_name] });
    if (!ad || lower.has('posixaccount') || lower.has('inetorgperson')) add('uid', u.username);
    if (ad) {
      add('sAMAccountName', u.username);
      add('userPrincipalName', u.user_principal_name);
      add('userAccountControl', String(u.account_enabled === 1 ? 512 : 514));
    }
    // An imported entry without a displayName had its first cn stand in for one.
    if (!source || sourceValues(source, 'displayname') || u.display_name !== cn?.[0]) add('displayName', u.display_name);
    add('givenName', u.given_name);
    add('sn', u.surname);
    add('mail', u.mail);
    // POSIX attributes an imported entry did not have were allocated here: not the entry's.
    if (!source || sourceValues(source, 'uidnumber')) {
      add('uidNumber', u.uid_number === null ? null : String(u.uid_number));
      add('gidNumber', u.gid_number === null ? null : String(u.gid_number));
      add('homeDirectory', u.home_directory);
      add('loginShell', u.login_shell);
    }
    add('sshPublicKey', ...(JSON.parse(u.ssh_public_keys) as string[]));
    if (options.includePasswordHashes && u.password_hash) {
      // argon2id as OpenLDAP's pw-argon2 writes it ({ARGON2}$argon2id$…), which import-ldif (and
      // slapd with that module) verifies; scrypt as {SCRYPT}, Keyhaven's own prefix.
      const own = isArgon2idHash(u.password_hash) ? `{ARGON2}${u.password_hash}` : `{SCRYPT}${u.password_hash}`;
      add('userPassword', isLegacyHash(u.password_hash) ? u.password_hash : own);
    }
    addExtra(attributes, u.extra);
    attributes.push({ name: 'entryUUID', values: [u.id] });
    out.push({ dn, attributes });
  }

  for (const g of groups) {
    const classes = g.source_object_classes ? (JSON.parse(g.source_object_classes) as string[]) : DEFAULT_GROUP_CLASSES;
    const lower = new Set(classes.map((c) => c.toLowerCase()));
    const source = g.source_dn === null ? undefined : sourceOf(g.source_attributes);
    const dn = dnById.get(g.id)!.dn;
    const attributes: LdifOutEntry['attributes'] = [{ name: 'objectClass', values: classes }];
    const add = withSource(attributes, source);
    const cn = source ? sourceValues(source, 'cn') : undefined;
    attributes.push({ name: 'cn', values: cn ? cnFirst(cn.map(String), dn) : [g.mail_nickname] });
    if (lower.has('group')) {
      add('sAMAccountName', g.mail_nickname);
      add('groupType', String(g.security_enabled === 1 ? -2147483646 : 2));
    }
    if (g.display_name !== g.mail_nickname && (!source || sourceValues(source, 'displayname') || g.display_name !== cn?.[0])) add('displayName', g.display_name);
    add('description', g.description);
    if (!source || lower.has('posixgroup') || sourceValues(source, 'gidnumber')) add('gidNumber', g.gid_number === null ? null : String(g.gid_number));
    const members: { dn: string; username?: string }[] = [];
    for (let after: string | undefined; ;) {
      const refs = await repos.groupMembers.directMembers(g.id, { limit: PAGE, afterId: after });
      for (const r of refs) {
        const m = dnById.get(r.id);
        if (m) members.push(m);
      }
      if (refs.length < PAGE) break;
      after = refs[refs.length - 1]!.id;
    }
    const memberDns = members.map((m) => m.dn);
    const wantsDnMembers = lower.has('groupofnames') || lower.has('group') || (!lower.has('groupofuniquenames') && !lower.has('posixgroup'));
    if (wantsDnMembers) add('member', ...memberDns);
    if (lower.has('groupofuniquenames')) add('uniqueMember', ...memberDns);
    if (lower.has('posixgroup')) add('memberUid', ...members.flatMap((m) => (m.username ? [m.username] : [])));
    addExtra(attributes, g.extra);
    attributes.push({ name: 'entryUUID', values: [g.id] });
    out.push({ dn, attributes });
  }

  for (const e of imported) {
    const attributes: LdifOutEntry['attributes'] = [{ name: 'objectClass', values: JSON.parse(e.object_classes) as string[] }];
    addExtra(attributes, e.attributes);
    if (options.includePasswordHashes && e.password_hash) {
      attributes.push({ name: 'userPassword', values: [isLegacyHash(e.password_hash) ? e.password_hash : isArgon2idHash(e.password_hash) ? `{ARGON2}${e.password_hash}` : `{SCRYPT}${e.password_hash}`] });
    }
    attributes.push({ name: 'entryUUID', values: [e.id] });
    out.push({ dn: e.dn, attributes });
  }

  out.push(...layoutEntries(out, options.baseDn, [usersTemplate, groupsTemplate].map((t) => t.replace('{base}', options.baseDn))));
  const subtree = options.subtree === undefined ? undefined : normalizeDn(options.subtree);
  if (subtree === '') throw new InvalidInputError('KH_LDIF_SUBTREE_INVALID', '--subtree must be a distinguished name');
  const under = (dn: string) => subtree === undefined || ((k) => k === subtree || (k?.endsWith(`,${subtree}`) ?? false))(normalizeDn(dn));
  if (subtree === undefined && options.subtree !== undefined) throw new InvalidInputError('KH_LDIF_SUBTREE_INVALID', '--subtree must be a distinguished name');
  return parentsFirst(out.filter((e) => under(e.dn)));
}

function sourceOf(json: string | null): ExtraAttributes {
  if (!json) return {};
  try {
    return JSON.parse(json) as ExtraAttributes;
  } catch {
    return {};
  }
}

/** `add(name, …values)`: the current values, or the imported ones while they agree (source-values.ts). */
function withSource(attributes: LdifOutEntry['attributes'], source: ExtraAttributes | undefined) {
  return (name: string, ...values: (SourceValue | null | undefined)[]) => {
    const present = values.filter((v): v is SourceValue => v !== null && v !== undefined);
    if (present.length === 0) return;
    attributes.push({ name, values: agreedValues(present, sourceValues(source, name)) });
  };
}

/**
 * The base and the containers of the DN templates, as the LDAP view makes them up, for those
 * no exported entry already is — only where some exported entry lies beneath.
 */
function layoutEntries(entries: LdifOutEntry[], baseDn: string, templates: string[]): LdifOutEntry[] {
  const have = new Set(entries.map((e) => normalizeDn(e.dn)));
  const keys = entries.map((e) => normalizeDn(e.dn) ?? '');
  const baseKey = normalizeDn(baseDn) ?? '';
  const wanted: string[] = [baseDn];
  for (const t of templates) {
    const rdns = splitDn(t) ?? [];
    // The containers between the template's entries and the base.
    for (let i = 1; i < rdns.length; i++) {
      const dn = rdns.slice(i).join(',');
      if (normalizeDn(dn) === baseKey) break;
      wanted.push(dn);
    }
  }
  const out: LdifOutEntry[] = [];
  for (const dn of wanted) {
    const key = normalizeDn(dn);
    if (key === undefined || have.has(key) || !keys.some((k) => k.endsWith(`,${key}`))) continue;
    have.add(key);
    const leaf = (splitDn(dn) ?? [])[0] ?? '';
    const type = rdnType(leaf);
    const value = leaf.slice(leaf.indexOf('=') + 1).replace(/\\(.)/g, '$1');
    const classes = type === 'dc' ? ['top', 'domain'] : type === 'ou' ? ['top', 'organizationalUnit'] : type === 'o' ? ['top', 'organization'] : ['top', 'organizationalRole'];
    out.push({ dn, attributes: [{ name: 'objectClass', values: classes }, { name: leaf.slice(0, leaf.indexOf('=')).trim(), values: [value] }] });
  }
  return out;
}

/** Entries sorted by depth (fewest RDNs first), stable: slapadd and import-ldif both read parents first. */
function parentsFirst(entries: LdifOutEntry[]): LdifOutEntry[] {
  return entries
    .map((e, i) => ({ e, i, depth: splitDn(e.dn)?.length ?? 0 }))
    .sort((a, b) => a.depth - b.depth || a.i - b.i)
    .map((x) => x.e);
}

function addExtra(attributes: LdifOutEntry['attributes'], json: string): void {
  for (const [name, values] of Object.entries(parseExtraAttributes(json))) {
    attributes.push({ name, values: values.map((v) => (typeof v === 'string' ? v : Buffer.from(v.base64, 'base64'))) });
  }
}
