// `keyhaven directory export-ldif`: every user and group as LDIF entries, imported ones under
// the DN and object classes they came with (source_dn, source_object_classes), others under
// the configured DN templates. Every attribute Keyhaven holds is written, extra attributes
// included (binary ones base64); password hashes only when asked (`userPassword`: imported
// legacy hashes as they were, Keyhaven's own as `{SCRYPT}$scrypt$…`, which import-ldif takes
// back). Service principals and applications are not directory entries of LDIF's kind.
import type { Repos } from '../../storage/storage.js';
import type { GroupRow } from '../../storage/repos/group-repo.js';
import type { UserRow } from '../../storage/repos/user-repo.js';
import { isLegacyHash } from '../../crypto/legacy-password-hash.js';
import { isArgon2idHash } from '../../crypto/password-hash.js';
import { parseExtraAttributes } from '../extra-attributes.js';
import type { LdifOutEntry } from './ldif-writer.js';

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

/** The LDIF entries of the whole directory: users first, then groups (each in creation order). */
export async function exportLdifEntries(repos: Repos, options: LdifExportOptions): Promise<LdifOutEntry[]> {
  const users = await all<UserRow>((after) => repos.users.list(undefined, { limit: PAGE, after }));
  const groups = await all<GroupRow>((after) => repos.groups.list(undefined, { limit: PAGE, after }));
  const userDn = (u: UserRow) => u.source_dn ?? (options.userDnTemplate ?? `uid={username},${options.usersContainer ?? 'ou=people'},{base}`)
    .replace('{username}', escapeRdnValue(u.username)).replace('{base}', options.baseDn);
  const groupDn = (g: GroupRow) => g.source_dn ?? (options.groupDnTemplate ?? `cn={name},${options.groupsContainer ?? 'ou=groups'},{base}`)
    .replace('{name}', escapeRdnValue(g.mail_nickname)).replace('{base}', options.baseDn);
  const dnById = new Map<string, { dn: string; username?: string }>();
  for (const u of users) dnById.set(u.id, { dn: userDn(u), username: u.username });
  for (const g of groups) dnById.set(g.id, { dn: groupDn(g) });
  const out: LdifOutEntry[] = [];

  for (const u of users) {
    const classes = u.source_object_classes ? (JSON.parse(u.source_object_classes) as string[]) : DEFAULT_USER_CLASSES;
    const lower = new Set(classes.map((c) => c.toLowerCase()));
    const ad = lower.has('user');
    const attributes: LdifOutEntry['attributes'] = [{ name: 'objectClass', values: classes }];
    const add = (name: string, ...values: (string | Buffer | null | undefined)[]) => {
      const present = values.filter((v): v is string | Buffer => v !== null && v !== undefined);
      if (present.length > 0) attributes.push({ name, values: present });
    };
    add('cn', u.display_name);
    if (!ad || lower.has('posixaccount') || lower.has('inetorgperson')) add('uid', u.username);
    if (ad) {
      add('sAMAccountName', u.username);
      add('userPrincipalName', u.user_principal_name);
      add('userAccountControl', String(u.account_enabled === 1 ? 512 : 514));
    }
    add('displayName', u.display_name);
    add('givenName', u.given_name);
    add('sn', u.surname);
    add('mail', u.mail);
    add('uidNumber', u.uid_number === null ? null : String(u.uid_number));
    add('gidNumber', u.gid_number === null ? null : String(u.gid_number));
    add('homeDirectory', u.home_directory);
    add('loginShell', u.login_shell);
    add('sshPublicKey', ...(JSON.parse(u.ssh_public_keys) as string[]));
    if (options.includePasswordHashes && u.password_hash) {
      // argon2id as OpenLDAP's pw-argon2 writes it ({ARGON2}$argon2id$…), which import-ldif (and
      // slapd with that module) verifies; scrypt as {SCRYPT}, Keyhaven's own prefix.
      const own = isArgon2idHash(u.password_hash) ? `{ARGON2}${u.password_hash}` : `{SCRYPT}${u.password_hash}`;
      add('userPassword', isLegacyHash(u.password_hash) ? u.password_hash : own);
    }
    addExtra(attributes, u.extra);
    out.push({ dn: dnById.get(u.id)!.dn, attributes });
  }

  for (const g of groups) {
    const classes = g.source_object_classes ? (JSON.parse(g.source_object_classes) as string[]) : DEFAULT_GROUP_CLASSES;
    const lower = new Set(classes.map((c) => c.toLowerCase()));
    const attributes: LdifOutEntry['attributes'] = [{ name: 'objectClass', values: classes }];
    const add = (name: string, ...values: (string | null | undefined)[]) => {
      const present = values.filter((v): v is string => v !== null && v !== undefined);
      if (present.length > 0) attributes.push({ name, values: present });
    };
    add('cn', g.mail_nickname);
    if (lower.has('group')) {
      add('sAMAccountName', g.mail_nickname);
      add('groupType', String(g.security_enabled === 1 ? -2147483646 : 2));
    }
    if (g.display_name !== g.mail_nickname) add('displayName', g.display_name);
    add('description', g.description);
    add('gidNumber', g.gid_number === null ? null : String(g.gid_number));
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
    out.push({ dn: dnById.get(g.id)!.dn, attributes });
  }
  return out;
}

function addExtra(attributes: LdifOutEntry['attributes'], json: string): void {
  for (const [name, values] of Object.entries(parseExtraAttributes(json))) {
    attributes.push({ name, values: values.map((v) => (typeof v === 'string' ? v : Buffer.from(v.base64, 'base64'))) });
  }
}
