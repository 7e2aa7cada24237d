// `keyhaven directory import-ldif`: an OpenLDAP or Active Directory export into the directory.
//
//  - Users: entries with objectClass inetOrgPerson, posixAccount or user (not computer).
//    uid or sAMAccountName → the short name; userPrincipalName, else uid@directoryDomain;
//    displayName or cn → displayName; givenName, sn, mail; uidNumber, gidNumber,
//    homeDirectory, loginShell, sshPublicKey; userAccountControl bit 2 (ACCOUNTDISABLE) →
//    disabled; objectGUID (16 bytes) or entryUUID → the object id. userPassword in clear is
//    hashed with Keyhaven's scrypt here; {SSHA}, {SSHA256}, {SSHA512}, {CRYPT}$5$/$6$/$2b$,
//    {PBKDF2-SHA512} and {ARGON2} are kept as they are, verified at sign-in and replaced by
//    scrypt at the first successful one (crypto/legacy-password-hash.ts); {SCRYPT} is
//    Keyhaven's own (what export-ldif --include-password-hashes writes).
//  - Groups: groupOfNames, groupOfUniqueNames, posixGroup, group. sAMAccountName or cn →
//    mailNickname; member / uniqueMember DNs and memberUid names, resolved after every entry
//    is read, so nested groups may come in any order; a cycle is refused.
//  - Every other attribute is kept in the object's extra attributes (extra-attributes.ts),
//    binary ones (jpegPhoto, userCertificate;binary, any value that is not UTF-8 text) as
//    base64; operational and computed attributes (createTimestamp, memberOf, objectSid, …)
//    and password attributes other than userPassword (unicodePwd, sambaNTPassword, …) are
//    dropped and listed in the result.
//  - The DN as written goes to users.source_dn / groups.source_dn and the objectClass values
//    to source_object_classes (migration-0003-ldif-source.ts): the LDAP view serves those
//    DNs, and export-ldif writes them back.
//  - The imported values of the attributes mapped to Keyhaven's own properties (cn,
//    displayName, mail, description, …) are kept as written in source_attributes (migration
//    0005), so the view serves several cn values, or a displayName unlike cn, as they were.
//  - Entries of other classes — the base (`dc=…` / `o=…`), containers (organizationalUnit), any
//    other — are kept whole (ldap_entries: DN, object classes, attributes) and served as
//    imported. One of them with a userPassword (OpenLDAP's `cn=reader` search accounts:
//    person / simpleSecurityObject / organizationalRole) becomes a bind-only LDAP service
//    account: an application and service principal with no role (an admin grants Directory
//    Readers), binding with the original DN and password (ldap-entries.ts).
//  - Skipped, each listed by DN with the reason: AD computer accounts, the Root DSE, the
//    subschema entry and cn=config (the server's own).
//  - The suffix of each imported tree becomes a naming context the LDAP view serves
//    (settings `ldap.importedNamingContexts`, merged with earlier imports).
//
// The whole import is one transaction with one audit record (directory.import, with counts):
// any malformed entry, unknown member, or name, DN or id already taken aborts it with the
// line number, and nothing is imported. A dry run does every check (against the store too)
// and writes nothing.
import { randomUUID } from 'node:crypto';
import { KeyhavenError } from '../../errors.js';
import type { Repos } from '../../storage/storage.js';
import { legacyScheme } from '../../crypto/legacy-password-hash.js';
import type { DirectoryDeps } from '../directory-context.js';
import { SYSTEM_ACTOR, auditEvent, nowIso, type Actor } from '../directory-context.js';
import { checkExtraAttributes, type ExtraAttributes } from '../extra-attributes.js';
import {
  allocatePosixId, checkHomeDirectory, checkLoginShell, checkPosixId, checkSshPublicKeys,
  DEFAULT_HOME_BASE, DEFAULT_LOGIN_SHELL, DEFAULT_POSIX_ID_START,
} from '../posix-attributes.js';
import {
  checkDisplayName, checkGroupNickname, checkMail, checkOptionalText, checkShortName, checkUserPrincipalName, ReservedGroupNames,
} from '../principal-names.js';
import { findEntryByDn, importedNamingContexts, NAMING_CONTEXTS_SETTING } from '../ldap-entries.js';
import { normalizeDn, rdnType, splitDn } from './ldif-dn.js';
import { groupAttributes, LdifError, parseLdif, type LdifEntry, type LdifValue } from './ldif-parser.js';

export interface LdifImportOptions {
  /** Suffix of synthesised user principal names (uid@directoryDomain). */
  directoryDomain: string;
  dryRun?: boolean;
  posixIdStart?: number;
  homeDirectoryBase?: string;
  defaultLoginShell?: string;
  /** Group names refused (the reservedGroupNames setting): one in the file refuses the whole import. */
  reservedGroupNames?: readonly string[];
  actor?: Actor;
}

export interface LdifImportResult {
  dryRun: boolean;
  entries: number;
  users: number;
  groups: number;
  /** Membership edges (user and nested group members). */
  members: number;
  nestedGroups: number;
  skipped: number;
  /** Every entry not imported, by DN, with the reason. */
  skippedEntries: SkippedEntry[];
  /** Entries kept as they are (bases, containers, …), bind-only accounts among them. */
  entriesKept: number;
  /** Bind-only accounts (`cn=reader`) imported as LDAP service accounts. */
  serviceAccounts: { dn: string; servicePrincipalId: string; appId: string }[];
  /** The naming contexts (suffixes) of the imported trees. */
  namingContexts: string[];
  /** Users by password kind: clear (hashed now), SSHA, CRYPT-SHA512, …, none. */
  passwords: Record<string, number>;
  /** Attribute names dropped (operational, computed or password attributes). */
  droppedAttributes: string[];
}

export interface SkippedEntry {
  dn: string;
  line: number;
  reason: string;
}

const USER_CLASSES = new Set(['inetorgperson', 'posixaccount', 'user']);
const GROUP_CLASSES = new Set(['groupofnames', 'groupofuniquenames', 'posixgroup', 'group']);

/** Attributes mapped to Keyhaven's own properties (never copied into extra). */
const USER_MAPPED = new Set([
  'objectclass', 'uid', 'samaccountname', 'userprincipalname', 'cn', 'displayname', 'givenname', 'sn', 'mail',
  'uidnumber', 'gidnumber', 'homedirectory', 'loginshell', 'sshpublickey', 'useraccountcontrol', 'userpassword',
  'objectguid', 'entryuuid',
]);
const GROUP_MAPPED = new Set([
  'objectclass', 'cn', 'samaccountname', 'displayname', 'description', 'gidnumber', 'member', 'uniquemember',
  'memberuid', 'grouptype', 'objectguid', 'entryuuid',
]);

/** Operational, computed, or secret attributes: dropped, never kept. */
const DROPPED = new Set([
  'memberof', 'objectsid', 'createtimestamp', 'modifytimestamp', 'creatorsname', 'modifiersname', 'entrycsn',
  'structuralobjectclass', 'entrydn', 'hassubordinates', 'subschemasubentry', 'contextcsn', 'whencreated', 'whenchanged',
  'usncreated', 'usnchanged', 'distinguishedname', 'name', 'objectcategory', 'instancetype', 'dscorepropagationdata',
  'samaccounttype', 'lastlogon', 'lastlogontimestamp', 'lastlogoff', 'logoncount', 'badpwdcount', 'badpasswordtime',
  'pwdlastset', 'unicodepwd', 'authpassword', 'sambantpassword', 'sambalmpassword', 'krbprincipalkey', 'ntpwdhistory',
  'lmpwdhistory', 'supplementalcredentials', 'dbcspwd', 'userpkcs12',
]);

/** Attributes whose values are binary whatever their bytes look like. */
const BINARY = new Set([
  'jpegphoto', 'photo', 'thumbnailphoto', 'thumbnaillogo', 'usercertificate', 'cacertificate', 'usersmimecertificate',
  'audio', 'objectguid', 'mssfu30objectguid', 'msexchmailboxguid', 'msds-consistencyguid', 'x500uniqueidentifier',
]);

/** Mapped attributes whose imported values are kept as written (source_attributes). */
const USER_SOURCE_KEPT = new Set([...USER_MAPPED].filter((a) => !['objectclass', 'userpassword', 'objectguid', 'entryuuid'].includes(a)));
const GROUP_SOURCE_KEPT = new Set([...GROUP_MAPPED].filter((a) => !['objectclass', 'member', 'uniquemember', 'memberuid', 'objectguid', 'entryuuid'].includes(a)));

const MAX_KEPT_ENTRY_BYTES = 256 * 1024;

const SCRYPT_PHC = /^\$scrypt\$ln=\d{1,2},r=\d{1,2},p=\d{1,2}\$[A-Za-z0-9+/]{11,86}\$[A-Za-z0-9+/]{22,86}$/;

interface UserPlan {
  kind: 'user';
  entry: LdifEntry;
  key: string;
  id: string;
  username: string;
  upn: string;
  displayName: string;
  givenName: string | null;
  surname: string | null;
  mail: string | null;
  uidNumber: number | undefined;
  gidNumber: number | undefined;
  homeDirectory: string;
  loginShell: string;
  sshKeys: string[];
  enabled: boolean;
  /** A clear password still to hash, or a stored hash kept as is. */
  clearPassword: string | undefined;
  passwordHash: string | null;
  passwordKind: string;
  extra: string;
  sourceAttributes: string;
  objectClasses: string[];
}

interface GroupPlan {
  kind: 'group';
  entry: LdifEntry;
  key: string;
  id: string;
  nickname: string;
  displayName: string;
  description: string | null;
  gidNumber: number | undefined;
  securityEnabled: boolean;
  extra: string;
  sourceAttributes: string;
  objectClasses: string[];
  memberDns: LdifValue[];
  memberUids: LdifValue[];
}

/** An entry kept as it is; with `account`, a bind-only account. */
interface EntryPlan {
  kind: 'entry';
  entry: LdifEntry;
  key: string;
  id: string;
  objectClasses: string[];
  attributes: string;
  account?: { applicationId: string; appId: string; displayName: string } & PasswordPlan;
}

interface PasswordPlan {
  /** A clear password still to hash, or a stored hash kept as is. */
  clearPassword: string | undefined;
  passwordHash: string | null;
  passwordKind: string;
}

type Plan = UserPlan | GroupPlan | EntryPlan;

/** Runs `fn`; an InvalidInputError it throws becomes an LdifError on `line`. */
function at<T>(line: number, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof LdifError) throw err;
    if (err instanceof KeyhavenError) throw new LdifError(line, err.message);
    throw err;
  }
}

function text(v: LdifValue): string {
  const s = v.value.toString('utf8');
  if (!Buffer.from(s, 'utf8').equals(v.value)) throw new LdifError(v.line, `the value of '${v.name}' is not UTF-8 text`);
  return s;
}

function single(attrs: Map<string, LdifValue[]>, name: string): LdifValue | undefined {
  return attrs.get(name)?.[0];
}

function integer(v: LdifValue): number {
  const s = text(v).trim();
  if (!/^-?[0-9]{1,12}$/.test(s)) throw new LdifError(v.line, `${v.name} must be an integer`);
  return Number(s);
}

/** A UUID from AD's objectGUID bytes (first three fields little-endian) or entryUUID's text. */
function objectIdOf(attrs: Map<string, LdifValue[]>): string | undefined {
  const guid = single(attrs, 'objectguid');
  if (guid) {
    if (guid.value.length !== 16) throw new LdifError(guid.line, 'objectGUID must be 16 bytes');
    const b = guid.value;
    const hex = (bytes: number[]) => bytes.map((i) => b[i]!.toString(16).padStart(2, '0')).join('');
    return `${hex([3, 2, 1, 0])}-${hex([5, 4])}-${hex([7, 6])}-${hex([8, 9])}-${hex([10, 11, 12, 13, 14, 15])}`;
  }
  const uuid = single(attrs, 'entryuuid');
  if (uuid) {
    const s = text(uuid).trim().toLowerCase();
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(s)) throw new LdifError(uuid.line, 'entryUUID is not a UUID');
    return s;
  }
  return undefined;
}

function isText(name: string, v: LdifValue): boolean {
  if (BINARY.has(name) || v.name.toLowerCase().includes(';binary')) return false;
  const s = v.value.toString('utf8');
  return Buffer.from(s, 'utf8').equals(v.value) && !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(s);
}

/** The attributes not mapped or dropped, as extra attributes (validated); `dropped` collects names. */
function extraOf(entry: LdifEntry, attrs: Map<string, LdifValue[]>, mapped: Set<string>, dropped: Set<string>, keep: ExtraAttributes = {}): string {
  const extra: ExtraAttributes = {};
  for (const values of attrs.values()) {
    const first = values[0]!;
    const [base, ...options] = first.name.split(';');
    const baseLower = base!.toLowerCase();
    if (mapped.has(baseLower)) continue;
    if (DROPPED.has(baseLower) || baseLower.startsWith('pwd') || baseLower.includes('password')) {
      dropped.add(base!);
      continue;
    }
    const other = options.filter((o) => o.toLowerCase() !== 'binary');
    if (other.length > 0) throw new LdifError(first.line, `attribute options other than ;binary are not supported ('${first.name}')`);
    const name = Object.keys(extra).find((k) => k.toLowerCase() === baseLower) ?? base!;
    const list = (extra[name] ??= []);
    for (const v of values) list.push(isText(baseLower, v) ? v.value.toString('utf8') : { base64: v.value.toString('base64') });
  }
  const json = at(entry.line, () => checkExtraAttributes(extra));
  const merged = { ...JSON.parse(json), ...keep } as ExtraAttributes;
  return JSON.stringify(merged);
}

function planUser(entry: LdifEntry, attrs: Map<string, LdifValue[]>, classes: string[], options: Required<Omit<LdifImportOptions, 'actor' | 'dryRun' | 'reservedGroupNames'>>, dropped: Set<string>): UserPlan {
  const uid = single(attrs, 'uid') ?? single(attrs, 'samaccountname');
  if (!uid) throw new LdifError(entry.line, 'a user entry needs uid or sAMAccountName');
  const username = at(uid.line, () => checkShortName(text(uid).trim(), uid.name));
  const upnValue = single(attrs, 'userprincipalname');
  const upn = upnValue ? at(upnValue.line, () => checkUserPrincipalName(text(upnValue).trim())) : at(uid.line, () => checkUserPrincipalName(`${username}@${options.directoryDomain}`));
  const nameValue = single(attrs, 'displayname') ?? single(attrs, 'cn');
  const displayName = nameValue ? at(nameValue.line, () => checkDisplayName(text(nameValue))) : username;
  const opt = (name: string, max: number) => {
    const v = single(attrs, name);
    return v ? at(v.line, () => checkOptionalText(text(v), v.name, max)) : null;
  };
  const mailValue = single(attrs, 'mail');
  const mail = mailValue ? at(mailValue.line, () => checkMail(text(mailValue).trim())) : null;
  const uidNumberValue = single(attrs, 'uidnumber');
  const gidNumberValue = single(attrs, 'gidnumber');
  const home = single(attrs, 'homedirectory');
  const shell = single(attrs, 'loginshell');
  const keys = attrs.get('sshpublickey') ?? [];
  const uac = single(attrs, 'useraccountcontrol');
  const enabled = uac ? (integer(uac) & 2) === 0 : true;
  const { clearPassword, passwordHash, passwordKind } = passwordOf(attrs);
  const description = attrs.get('description');
  const keep: ExtraAttributes = description ? { description: description.map((v) => text(v)) } : {};
  return {
    kind: 'user',
    entry,
    key: normalizeDnAt(entry),
    id: objectIdOf(attrs) ?? randomUUID(),
    username,
    upn,
    displayName,
    givenName: opt('givenname', 64),
    surname: opt('sn', 64),
    mail,
    uidNumber: uidNumberValue ? at(uidNumberValue.line, () => checkPosixId(integer(uidNumberValue), 'uidNumber')) : undefined,
    gidNumber: gidNumberValue ? at(gidNumberValue.line, () => checkPosixId(integer(gidNumberValue), 'gidNumber')) : undefined,
    homeDirectory: home ? at(home.line, () => checkHomeDirectory(text(home))) : `${options.homeDirectoryBase}/${username}`,
    loginShell: shell ? at(shell.line, () => checkLoginShell(text(shell))) : options.defaultLoginShell,
    sshKeys: keys.length === 0 ? [] : at(keys[0]!.line, () => checkSshPublicKeys(keys.map(text))),
    enabled,
    clearPassword,
    passwordHash,
    passwordKind,
    extra: extraOf(entry, attrs, new Set([...USER_MAPPED, 'description']), dropped, keep),
    sourceAttributes: JSON.stringify(valuesOf(attrs, (a) => USER_SOURCE_KEPT.has(a))),
    objectClasses: classes,
  };
}

/** userPassword: clear text (hashed later), Keyhaven's {SCRYPT}, or a legacy hash kept as is. */
function passwordOf(attrs: Map<string, LdifValue[]>): PasswordPlan {
  const passwordValues = attrs.get('userpassword') ?? [];
  let clearPassword: string | undefined;
  let passwordHash: string | null = null;
  let passwordKind = 'none';
  if (passwordValues.length > 0) {
    const pw = passwordValues[0]!;
    const value = text(pw);
    if (/^\{[A-Za-z0-9-]+\}/.test(value)) {
      if (value.toUpperCase().startsWith('{SCRYPT}')) {
        passwordHash = value.slice('{SCRYPT}'.length);
        if (!SCRYPT_PHC.test(passwordHash)) throw new LdifError(pw.line, 'userPassword {SCRYPT} is not a Keyhaven scrypt hash');
        passwordKind = 'SCRYPT';
      } else {
        const scheme = legacyScheme(value);
        if (!scheme) {
          const name = /^\{([A-Za-z0-9-]+)\}/.exec(value)![1]!;
          throw new LdifError(pw.line, `userPassword: the {${name.toUpperCase()}} hash is malformed, out of bounds, or of a scheme Keyhaven cannot verify ({SSHA}, {SSHA256}, {SSHA512}, {CRYPT} $5$/$6$/$2b$, {PBKDF2-SHA512}, {ARGON2} or clear text)`);
        }
        passwordHash = value;
        passwordKind = scheme;
      }
    } else {
      if (value.length === 0) throw new LdifError(pw.line, 'userPassword is empty');
      clearPassword = value;
      passwordKind = 'clear';
    }
  }
  return { clearPassword, passwordHash, passwordKind };
}

/** The values of the named attributes as written (text, or { base64 } for binary), under the file's spelling. */
function valuesOf(attrs: Map<string, LdifValue[]>, include: (lower: string) => boolean): ExtraAttributes {
  const out: ExtraAttributes = {};
  for (const values of attrs.values()) {
    const first = values[0]!;
    const lower = first.name.toLowerCase();
    const base = lower.split(';')[0]!;
    if (!include(base)) continue;
    // An attribute with options (`description;lang-de`) keeps them in its name.
    const list = (out[first.name.split(';').filter((o) => o.toLowerCase() !== 'binary').join(';')] ??= []);
    for (const v of values) list.push(isText(base, v) ? v.value.toString('utf8') : { base64: v.value.toString('base64') });
  }
  return out;
}

function isPasswordAttribute(lower: string): boolean {
  return lower.startsWith('pwd') || lower.includes('password');
}

/** Why an entry that is neither a user nor a group is not imported; undefined when it is kept. */
function skipReason(key: string | undefined, classes: Set<string>): string | undefined {
  if (key === '') return "the Root DSE is the server's own";
  if (key === 'cn=subschema') return "the subschema entry is the server's own (cn=Subschema)";
  if (key !== undefined && (key === 'cn=config' || key.endsWith(',cn=config'))) return 'server configuration (cn=config) is not directory data';
  if (classes.has('computer')) return 'a computer account: machines get a managed identity in Keyhaven, not an LDIF entry';
  return undefined;
}

function planEntry(entry: LdifEntry, attrs: Map<string, LdifValue[]>, classes: string[], dropped: Set<string>): EntryPlan {
  const key = normalizeDnAt(entry);
  const attributes = valuesOf(attrs, (a) => {
    // The object id (entryUUID / objectGUID) is the entry's id, served as entryUUID.
    if (a === 'objectclass' || a === 'entryuuid' || a === 'objectguid') return false;
    if (DROPPED.has(a) || isPasswordAttribute(a)) {
      if (a !== 'userpassword') dropped.add(a);
      return false;
    }
    return true;
  });
  const json = JSON.stringify(attributes);
  // The same bound as a user's extra attributes (extra-attributes.ts): a kept entry is small.
  if (Buffer.byteLength(json) > MAX_KEPT_ENTRY_BYTES) throw new LdifError(entry.line, `the entry holds more than ${MAX_KEPT_ENTRY_BYTES / 1024} KiB of attributes`);
  const plan: EntryPlan = { kind: 'entry', entry, key, id: objectIdOf(attrs) ?? randomUUID(), objectClasses: classes, attributes: json };
  if ((attrs.get('userpassword') ?? []).length > 0) {
    const password = passwordOf(attrs);
    const cn = single(attrs, 'cn');
    const leaf = splitDn(entry.dn)?.[0] ?? entry.dn;
    const name = cn ? text(cn) : leaf.slice(leaf.indexOf('=') + 1);
    const displayName = at(cn?.line ?? entry.line, () => checkDisplayName(name.trim() || key));
    plan.account = { applicationId: randomUUID(), appId: randomUUID(), displayName, ...password };
  }
  return plan;
}

function planGroup(entry: LdifEntry, attrs: Map<string, LdifValue[]>, classes: string[], dropped: Set<string>, reserved: ReservedGroupNames): GroupPlan {
  const nameValue = single(attrs, 'samaccountname') ?? single(attrs, 'cn');
  if (!nameValue) throw new LdifError(entry.line, 'a group entry needs cn or sAMAccountName');
  const nickname = at(nameValue.line, () => checkGroupNickname(text(nameValue).trim(), reserved));
  const display = single(attrs, 'displayname') ?? single(attrs, 'cn');
  const descriptionValue = single(attrs, 'description');
  const gid = single(attrs, 'gidnumber');
  const groupType = single(attrs, 'grouptype');
  return {
    kind: 'group',
    entry,
    key: normalizeDnAt(entry),
    id: objectIdOf(attrs) ?? randomUUID(),
    nickname,
    displayName: display ? at(display.line, () => checkDisplayName(text(display))) : nickname,
    description: descriptionValue ? at(descriptionValue.line, () => checkOptionalText(text(descriptionValue), 'description')) : null,
    gidNumber: gid ? at(gid.line, () => checkPosixId(integer(gid), 'gidNumber')) : undefined,
    // AD: groupType bit 0x80000000 marks a security group; a distribution group is not one.
    securityEnabled: groupType ? (integer(groupType) & 0x80000000) !== 0 : true,
    extra: extraOf(entry, attrs, GROUP_MAPPED, dropped),
    sourceAttributes: JSON.stringify(valuesOf(attrs, (a) => GROUP_SOURCE_KEPT.has(a))),
    objectClasses: classes,
    memberDns: [...(attrs.get('member') ?? []), ...(attrs.get('uniquemember') ?? [])],
    memberUids: attrs.get('memberuid') ?? [],
  };
}

function normalizeDnAt(entry: LdifEntry): string {
  const key = normalizeDn(entry.dn);
  if (key === undefined || key === '') throw new LdifError(entry.line, `'${entry.dn.slice(0, 120)}' is not a valid DN`);
  return key;
}

interface Edge {
  group: GroupPlan;
  member: { id: string; type: 'user' | 'group' };
  line: number;
}

/** Parses, maps and checks everything that does not need the store; throws LdifError. */
export function planLdifImport(input: string | Buffer, options: LdifImportOptions): { plans: Plan[]; skipped: SkippedEntry[]; dropped: Set<string>; entries: number; namingContexts: string[] } {
  const resolved = {
    directoryDomain: options.directoryDomain,
    posixIdStart: options.posixIdStart ?? DEFAULT_POSIX_ID_START,
    homeDirectoryBase: (options.homeDirectoryBase ?? DEFAULT_HOME_BASE).replace(/\/+$/, ''),
    defaultLoginShell: options.defaultLoginShell ?? DEFAULT_LOGIN_SHELL,
  };
  const reserved = new ReservedGroupNames(options.reservedGroupNames);
  const entries = parseLdif(input);
  const plans: Plan[] = [];
  const dropped = new Set<string>();
  const skipped: SkippedEntry[] = [];
  for (const entry of entries) {
    const attrs = groupAttributes(entry);
    const classes = (attrs.get('objectclass') ?? []).map((v) => text(v).trim());
    const lower = new Set(classes.map((c) => c.toLowerCase()));
    const isUser = [...USER_CLASSES].some((c) => lower.has(c)) && !lower.has('computer');
    const isGroup = [...GROUP_CLASSES].some((c) => lower.has(c));
    if (isUser && isGroup) throw new LdifError(entry.line, 'an entry cannot be both a user and a group');
    if (isUser) plans.push(planUser(entry, attrs, classes, resolved, dropped));
    else if (isGroup) plans.push(planGroup(entry, attrs, classes, dropped, reserved));
    else {
      const reason = skipReason(normalizeDn(entry.dn), lower);
      if (reason !== undefined) skipped.push({ dn: entry.dn, line: entry.line, reason });
      else plans.push(planEntry(entry, attrs, classes, dropped));
    }
  }
  // Uniqueness inside the file.
  const seen = new Map<string, number>();
  const unique = (kind: string, value: string | number | undefined, line: number) => {
    if (value === undefined) return;
    const k = `${kind}\u0000${String(value).toLowerCase()}`;
    const before = seen.get(k);
    if (before !== undefined) throw new LdifError(line, `${kind} '${String(value).slice(0, 120)}' is used twice (first on line ${before})`);
    seen.set(k, line);
  };
  for (const p of plans) {
    unique('DN', p.key, p.entry.line);
    unique('object id', p.id, p.entry.line);
    if (p.kind === 'user') {
      unique('user name', p.username, p.entry.line);
      unique('userPrincipalName', p.upn, p.entry.line);
      unique('uidNumber', p.uidNumber, p.entry.line);
    } else if (p.kind === 'group') {
      unique('group name', p.nickname, p.entry.line);
      unique('group gidNumber', p.gidNumber, p.entry.line);
    }
  }
  return { plans, skipped, dropped, entries: entries.length, namingContexts: namingContextsOf(plans) };
}

/**
 * The suffix of each tree in the file: an entry's top-most ancestor (or itself) that the file
 * holds; for a user or group with none, its parent; below a run of `dc=` RDNs (RFC 2247), that
 * run (an AD export of OUs without the domain head names DC=corp,DC=example). Suffixes under
 * another are dropped.
 */
function namingContextsOf(plans: Plan[]): string[] {
  const keys = new Set(plans.map((p) => p.key));
  const found = new Map<string, string>();
  for (const p of plans) {
    const rdns = splitDn(p.entry.dn);
    if (!rdns || rdns.length === 0) continue;
    let top = -1;
    for (let i = 0; i < rdns.length; i++) if (keys.has(normalizeDn(rdns.slice(i).join(',')) ?? '')) top = i;
    let suffix = top <= 0 && p.kind !== 'entry' ? rdns.slice(1) : rdns.slice(Math.max(top, 0));
    let dcRun = suffix.length;
    while (dcRun > 0 && rdnType(suffix[dcRun - 1]!) === 'dc') dcRun--;
    if (dcRun > 0 && dcRun < suffix.length) suffix = suffix.slice(dcRun);
    if (suffix.length === 0) continue;
    const text = suffix.join(',');
    found.set(normalizeDn(text)!, text);
  }
  return mergeNamingContexts([], [...found.values()]);
}

/** The union of two lists of suffixes, without duplicates or suffixes under another (kept in first-seen order). */
export function mergeNamingContexts(existing: readonly string[], added: readonly string[]): string[] {
  const all = [...existing, ...added].map((dn) => ({ dn, key: normalizeDn(dn) ?? '' })).filter((c) => c.key !== '');
  const out: string[] = [];
  const seen = new Set<string>();
  for (const c of all) {
    if (seen.has(c.key)) continue;
    if (all.some((o) => o.key !== c.key && c.key.endsWith(`,${o.key}`))) continue;
    seen.add(c.key);
    out.push(c.dn);
  }
  return out;
}

/** Member references: DNs of imported entries or of earlier-imported objects, user names. */
async function resolveMembers(repos: Repos, plans: Plan[]): Promise<Edge[]> {
  const byKey = new Map(plans.map((p) => [p.key, p] as const));
  const byUsername = new Map(plans.filter((p): p is UserPlan => p.kind === 'user').map((p) => [p.username, p] as const));
  const edges: Edge[] = [];
  for (const group of plans) {
    if (group.kind !== 'group') continue;
    const added = new Set<string>();
    const add = (member: Edge['member'], line: number) => {
      if (added.has(member.id)) return;
      added.add(member.id);
      edges.push({ group, member, line });
    };
    for (const v of group.memberDns) {
      // uniqueMember may carry an optional uid: "cn=x,dc=y#'0101'B".
      const dn = text(v).replace(/#'[01]*'B$/, '');
      const key = normalizeDn(dn);
      if (key === undefined || key === '') throw new LdifError(v.line, `${v.name}: '${dn.slice(0, 120)}' is not a valid DN`);
      const plan = byKey.get(key);
      if (plan?.kind === 'entry') throw new LdifError(v.line, `${v.name}: '${dn.slice(0, 120)}' is neither a user nor a group: a group's members are users and groups`);
      if (plan) {
        if (plan === group) throw new LdifError(v.line, 'a group cannot be a member of itself');
        add({ id: plan.id, type: plan.kind as 'user' | 'group' }, v.line);
        continue;
      }
      const user = await repos.users.bySourceDn(dn);
      if (user) {
        add({ id: user.id, type: 'user' }, v.line);
        continue;
      }
      const existing = await repos.groups.bySourceDn(dn);
      if (existing) {
        add({ id: existing.id, type: 'group' }, v.line);
        continue;
      }
      throw new LdifError(v.line, `${v.name}: '${dn.slice(0, 120)}' is neither an entry of this file nor an imported object`);
    }
    for (const v of group.memberUids) {
      const name = text(v).trim().toLowerCase();
      const plan = byUsername.get(name);
      const id = plan?.id ?? (await repos.users.byUsername(name))?.id;
      if (!id) throw new LdifError(v.line, `memberUid: no user '${name.slice(0, 64)}' in this file or in the directory`);
      add({ id, type: 'user' }, v.line);
    }
  }
  // Nested groups must not form a cycle (within the file; earlier imports cannot point back to
  // groups that do not exist yet).
  const children = new Map<string, Edge[]>();
  for (const e of edges) if (e.member.type === 'group') (children.get(e.group.id) ?? children.set(e.group.id, []).get(e.group.id)!).push(e);
  const state = new Map<string, 1 | 2>();
  const visit = (id: string) => {
    state.set(id, 1);
    for (const e of children.get(id) ?? []) {
      const s = state.get(e.member.id);
      if (s === 1) throw new LdifError(e.line, 'nested groups form a cycle: membership cannot be circular');
      if (s === undefined) visit(e.member.id);
    }
    state.set(id, 2);
  };
  for (const id of children.keys()) if (!state.has(id)) visit(id);
  return edges;
}

/** Checks a plan against what the store holds (names, numbers, DNs, ids already taken). */
async function assertFree(repos: Repos, plans: Plan[]): Promise<void> {
  const taken = (p: Plan, what: string) => new LdifError(p.entry.line, `${what} is already taken in the directory`);
  for (const p of plans) {
    if ((await repos.users.byId(p.id)) || (await repos.groups.byId(p.id))) throw taken(p, `the object id ${p.id}`);
    if ((await repos.ldapEntries.byId(p.id)) || (await repos.servicePrincipals.byId(p.id))) throw taken(p, `the object id ${p.id}`);
    if ((await repos.users.bySourceDn(p.entry.dn)) || (await repos.groups.bySourceDn(p.entry.dn)) || (await findEntryByDn(repos, p.entry.dn))) {
      throw taken(p, 'the DN');
    }
    if (p.kind === 'user') {
      if (await repos.users.byUsername(p.username)) throw taken(p, `the user name '${p.username}'`);
      if (await repos.users.byUpn(p.upn)) throw taken(p, `the userPrincipalName '${p.upn}'`);
      if (p.uidNumber !== undefined && (await repos.users.byUidNumber(p.uidNumber))) throw taken(p, `uidNumber ${p.uidNumber}`);
    } else if (p.kind === 'group') {
      if (await repos.groups.byMailNickname(p.nickname)) throw taken(p, `the group name '${p.nickname}'`);
      if (p.gidNumber !== undefined && (await repos.groups.byGidNumber(p.gidNumber))) throw taken(p, `gidNumber ${p.gidNumber}`);
    }
  }
}

/** Imports an LDIF file's entries in one audited transaction (or only checks, with dryRun). */
export async function importLdif(deps: DirectoryDeps, input: string | Buffer, options: LdifImportOptions): Promise<LdifImportResult> {
  const { plans, skipped, dropped, entries, namingContexts } = planLdifImport(input, options);
  const posixIdStart = options.posixIdStart ?? DEFAULT_POSIX_ID_START;
  const users = plans.filter((p): p is UserPlan => p.kind === 'user');
  const groups = plans.filter((p): p is GroupPlan => p.kind === 'group');
  const kept = plans.filter((p): p is EntryPlan => p.kind === 'entry');
  const accounts = kept.filter((p) => p.account !== undefined);
  const passwords: Record<string, number> = {};
  for (const u of users) passwords[u.passwordKind] = (passwords[u.passwordKind] ?? 0) + 1;
  const edgesPreview = await resolveMembers(deps.storage.read, plans);
  await assertFree(deps.storage.read, plans);
  const result: LdifImportResult = {
    dryRun: options.dryRun === true,
    entries,
    users: users.length,
    groups: groups.length,
    members: edgesPreview.length,
    nestedGroups: edgesPreview.filter((e) => e.member.type === 'group').length,
    skipped: skipped.length,
    skippedEntries: skipped,
    entriesKept: kept.length,
    serviceAccounts: accounts.map((a) => ({ dn: a.entry.dn, servicePrincipalId: a.id, appId: a.account!.appId })),
    namingContexts,
    passwords,
    droppedAttributes: [...dropped].sort(),
  };
  if (options.dryRun) return result;
  // The slow part (hashing clear-text passwords) before the transaction.
  for (const u of [...users, ...accounts.map((a) => a.account!)]) {
    if (u.clearPassword === undefined) continue;
    try {
      u.passwordHash = await deps.passwords.hash(u.clearPassword);
    } catch (err) {
      const owner = users.find((p) => p === u)?.entry ?? accounts.find((a) => a.account === u)!.entry;
      const line = owner.values.find((v) => v.name.toLowerCase() === 'userpassword')!.line;
      throw err instanceof KeyhavenError ? new LdifError(line, `userPassword: ${err.message}`) : err;
    }
    u.clearPassword = undefined;
  }
  const actor = options.actor ?? SYSTEM_ACTOR;
  const details = {
    users: result.users, groups: result.groups, members: result.members, nestedGroups: result.nestedGroups, skipped: result.skipped,
    entriesKept: result.entriesKept, serviceAccounts: accounts.length,
  };
  await deps.audit.write(auditEvent(actor, 'directory.import', '', details), async (tx) => {
    // Checked again inside the transaction: another writer may have taken a name meanwhile.
    await assertFree(tx, plans);
    const edges = await resolveMembers(tx, plans);
    const now = nowIso();
    const missingId = (p: Plan) => (p.kind === 'user' ? p.uidNumber === undefined : p.kind === 'group' ? p.gidNumber === undefined : false);
    // Explicit POSIX ids first, so allocation for the others starts above them.
    const ordered = [...plans].sort((a, b) => Number(missingId(a)) - Number(missingId(b)));
    for (const p of ordered) {
      if (p.kind === 'user') {
        const uid = p.uidNumber ?? (await allocatePosixId(tx, posixIdStart));
        await tx.users.insert({
          id: p.id, username: p.username, user_principal_name: p.upn, display_name: p.displayName,
          password_hash: p.passwordHash, account_enabled: p.enabled ? 1 : 0, given_name: p.givenName, surname: p.surname,
          mail: p.mail, uid_number: uid, gid_number: p.gidNumber ?? uid, home_directory: p.homeDirectory, login_shell: p.loginShell,
          ssh_public_keys: JSON.stringify(p.sshKeys), extra: p.extra, created_at: now, updated_at: now,
          password_changed_at: p.passwordHash === null ? null : now,
          source_dn: p.entry.dn, source_object_classes: JSON.stringify(p.objectClasses), source_attributes: p.sourceAttributes,
        });
      } else if (p.kind === 'group') {
        await tx.groups.insert({
          id: p.id, display_name: p.displayName, mail_nickname: p.nickname, description: p.description,
          gid_number: p.gidNumber ?? (await allocatePosixId(tx, posixIdStart)), security_enabled: p.securityEnabled ? 1 : 0,
          extra: p.extra, created_at: now, updated_at: now, source_dn: p.entry.dn, source_object_classes: JSON.stringify(p.objectClasses),
          source_attributes: p.sourceAttributes,
        });
      } else {
        if (p.account) {
          // A bind-only account: an application and its service principal, with no role.
          await tx.applications.insert({ id: p.account.applicationId, app_id: p.account.appId, display_name: p.account.displayName, created_at: now, updated_at: now });
          await tx.servicePrincipals.insert({
            id: p.id, app_id: p.account.appId, display_name: p.account.displayName, account_enabled: 1,
            service_principal_type: 'Application', created_at: now, updated_at: now,
          });
        }
        await tx.ldapEntries.insert({
          id: p.id, dn: p.entry.dn, object_classes: JSON.stringify(p.objectClasses), attributes: p.attributes,
          service_principal_id: p.account ? p.id : null, password_hash: p.account?.passwordHash ?? null, created_at: now,
        });
      }
    }
    for (const e of edges) await tx.groupMembers.add(e.group.id, e.member);
    if (namingContexts.length > 0) {
      await tx.settings.set(NAMING_CONTEXTS_SETTING, JSON.stringify(mergeNamingContexts(await importedNamingContexts(tx), namingContexts)));
    }
  });
  return result;
}
