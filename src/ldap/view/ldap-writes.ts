// LDAP add, modify and delete of users and groups (RFC 4511 §4.6–4.8), when the deployment
// turns `ldapAdminWrites` on. Every write goes through the directory core as the bound caller:
// access(caller).users() / .groups() check the caller's roles (User, Groups or Global
// Administrator) and the privileged-user fence, and audit the change under the caller's id.
// A request is validated in full (attribute names, operations, values, member DNs) before
// anything is written.
//
// Atomicity: a user modify is one core update, plus a password reset when userPassword is
// replaced — the reset runs first (the policy is the likeliest refusal), so a later refusal
// of the other attributes (a malformed mail, say) leaves the new password in place. A group
// modify is one core update plus one core call per member added or removed; each member
// change is pre-checked against the current members, but a cycle is only found by the core,
// so a modify that adds several groups can stop part-way on the one that would close a cycle.
// A group added with members is created, then its members are added one by one.
import type { DirectoryAccess } from '../../directory/directory-access.js';
import type { DirectoryService } from '../../directory/directory-service.js';
import type { GraphGroup, GraphUser } from '../../directory/graph-objects.js';
import type { UpdateGroupInput } from '../../directory/groups.js';
import type { CreateUserInput, UpdateUserInput, UserPosixInput } from '../../directory/user-accounts.js';
import type { ScopedReader } from '../../directory/scoped-reader.js';
import { LDAP_RESULT, LdapResultError, type LdapChange, type LdapWriteAttribute, type LdapWriter } from '../ldap-directory.js';
import { ldapError } from '../ldap-errors.js';
import { DirectoryReads } from './directory-reads.js';
import type { DitLayout } from './dit-layout.js';
import { parseDn, type ParsedDn } from './distinguished-name.js';
import { attributeType } from './schema.js';
import type { NamedObject } from './search-plan.js';

/** Resolves a DN to the user or group served under it, as the writer's reader sees it. */
export type ObjectAt = (dn: ParsedDn, reader: ScopedReader) => NamedObject | undefined;

/** What a write reads, as the writer: memberships through its Graph-style reader, DNs through its scoped reader. */
interface WriterReads {
  list: DirectoryReads;
  scope: ScopedReader;
}

const USER_CLASSES = new Set(['top', 'person', 'organizationalperson', 'inetorgperson', 'posixaccount', 'user', 'ldappublickey', 'shadowaccount']);
const GROUP_CLASSES = new Set(['top', 'groupofnames', 'posixgroup', 'group']);
const USER_MARKERS = ['inetorgperson', 'posixaccount', 'user', 'person'];
const GROUP_MARKERS = ['groupofnames', 'posixgroup', 'group'];

/** The user attributes a modify may change, by canonical lower-case name. */
type UserState = {
  displayname: string[];
  givenname: string[];
  sn: string[];
  mail: string[];
  loginshell: string[];
  homedirectory: string[];
  sshpublickey: string[];
};
const USER_SINGLE = new Set(['displayname', 'givenname', 'sn', 'mail', 'loginshell', 'homedirectory']);
const USER_REQUIRED = new Set(['displayname', 'loginshell', 'homedirectory']);

export class LdapWrites {
  constructor(
    private readonly directory: DirectoryService,
    private readonly layout: DitLayout,
    private readonly objectAt: ObjectAt,
    private readonly upnDomain: string | undefined,
  ) {}

  // Modify ---------------------------------------------------------------------------------

  async modify(dn: string, changes: LdapChange[], writer: LdapWriter): Promise<void> {
    const access = await this.#access(writer);
    const reads = await this.#reads(access);
    const target = await this.#target(dn, reads);
    if (target.kind === 'user') return this.#modifyUser(access, target.user, changes);
    return this.#modifyGroup(access, target.group, changes, reads);
  }

  async #modifyUser(access: DirectoryAccess, user: GraphUser, changes: LdapChange[]): Promise<void> {
    const writers = core(() => access.users());
    const posix = user.keyhavenPosix;
    const before: UserState = {
      displayname: [user.displayName],
      givenname: opt(user.givenName),
      sn: opt(user.surname),
      mail: opt(user.mail),
      loginshell: opt(posix.loginShell),
      homedirectory: opt(posix.homeDirectory),
      sshpublickey: [...posix.sshPublicKeys],
    };
    const state: UserState = structuredClone(before);
    let password: string | undefined;
    for (const change of changes) {
      const name = canonical(change.type);
      const values = change.values.map(text);
      if (name === 'userpassword') {
        if (change.operation !== 'replace' || values.length !== 1 || values[0] === '') {
          throw new LdapResultError(LDAP_RESULT.unwillingToPerform, 'userPassword: only a replace with one new password is supported (a reset under the password policy)');
        }
        if (/^\{[A-Za-z0-9.-]+\}/.test(values[0]!)) throw new LdapResultError(LDAP_RESULT.unwillingToPerform, 'userPassword: give the password in clear (over TLS); hashed values are accepted only by import-ldif');
        password = values[0];
        continue;
      }
      if (!(name in state)) throw unsupported(change.type, 'a user');
      applyChange(state[name as keyof UserState], change.operation, values, change.type, USER_SINGLE.has(name), USER_REQUIRED.has(name));
    }
    const patch: UpdateUserInput = {};
    const posixPatch: UserPosixInput = {};
    const changed = (k: keyof UserState) => JSON.stringify(state[k]) !== JSON.stringify(before[k]);
    if (changed('displayname')) patch.displayName = state.displayname[0]!;
    if (changed('givenname')) patch.givenName = state.givenname[0] ?? null;
    if (changed('sn')) patch.surname = state.sn[0] ?? null;
    if (changed('mail')) patch.mail = state.mail[0] ?? null;
    if (changed('loginshell')) posixPatch.loginShell = state.loginshell[0]!;
    if (changed('homedirectory')) posixPatch.homeDirectory = state.homedirectory[0]!;
    if (changed('sshpublickey')) posixPatch.sshPublicKeys = state.sshpublickey;
    if (Object.keys(posixPatch).length > 0) patch.keyhavenPosix = posixPatch;
    if (password !== undefined) await core(() => writers.resetPassword(user.id, password));
    if (Object.keys(patch).length > 0) await core(() => writers.update(user.id, patch));
  }

  async #modifyGroup(access: DirectoryAccess, group: GraphGroup, changes: LdapChange[], reads: WriterReads): Promise<void> {
    const writers = core(() => access.groups());
    const current: string[] = [];
    for await (const m of reads.list.members(group.id)) current.push(m.id);
    const members = [...current];
    const state = { displayname: [group.displayName], description: opt(group.description) };
    const before = structuredClone(state);
    for (const change of changes) {
      const name = canonical(change.type);
      if (name === 'member' || name === 'uniquemember') {
        const ids = await this.#memberIds(change.values.map(text), reads);
        applyMembers(members, change.operation, ids);
        continue;
      }
      if (name !== 'displayname' && name !== 'description') throw unsupported(change.type, 'a group');
      applyChange(state[name], change.operation, change.values.map(text), change.type, true, name === 'displayname');
    }
    const patch: UpdateGroupInput = {};
    if (state.displayname[0] !== before.displayname[0]) patch.displayName = state.displayname[0]!;
    if (state.description[0] !== before.description[0]) patch.description = state.description[0] ?? null;
    if (Object.keys(patch).length > 0) await core(() => writers.update(group.id, patch));
    for (const id of current) if (!members.includes(id)) await core(() => writers.removeMember(group.id, id));
    for (const id of members) if (!current.includes(id)) await core(() => writers.addMember(group.id, id));
  }

  /** Member DNs → object ids, through the layout and imported DNs; every DN must name a user or group. */
  async #memberIds(dns: string[], reads: WriterReads): Promise<string[]> {
    const ids: string[] = [];
    for (const text of dns) {
      const parsed = parseDn(text);
      if (!parsed || parsed.rdns.length === 0) throw new LdapResultError(LDAP_RESULT.invalidDnSyntax, `member: '${text.slice(0, 200)}' is not a DN`);
      const object = this.objectAt(parsed, reads.scope);
      if (!object) throw new LdapResultError(LDAP_RESULT.noSuchObject, `member: no user or group is named '${text.slice(0, 200)}'`);
      const id = object.kind === 'user' ? object.user.id : object.group.id;
      if (ids.includes(id)) throw new LdapResultError(LDAP_RESULT.attributeOrValueExists, `member: '${text.slice(0, 200)}' is given twice`);
      ids.push(id);
    }
    return ids;
  }

  // Add ------------------------------------------------------------------------------------

  async add(dn: string, attributes: LdapWriteAttribute[], writer: LdapWriter): Promise<void> {
    const access = await this.#access(writer);
    const parsed = parseDn(dn);
    if (!parsed || parsed.rdns.length === 0) throw new LdapResultError(LDAP_RESULT.invalidDnSyntax, 'the entry name is not a DN');
    const attrs = new Map<string, { type: string; values: string[] }>();
    for (const a of attributes) {
      const name = canonical(a.type);
      if (attrs.has(name)) throw new LdapResultError(LDAP_RESULT.attributeOrValueExists, `${a.type}: given twice`);
      attrs.set(name, { type: a.type, values: a.values.map(text) });
    }
    const classes = (attrs.get('objectclass')?.values ?? []).map((c) => c.toLowerCase());
    const isUser = USER_MARKERS.some((c) => classes.includes(c));
    const isGroup = GROUP_MARKERS.some((c) => classes.includes(c));
    if (isUser === isGroup) {
      throw new LdapResultError(LDAP_RESULT.objectClassViolation, 'objectClass must name a user (inetOrgPerson, posixAccount, user) or a group (groupOfNames, posixGroup, group)');
    }
    const known = isUser ? USER_CLASSES : GROUP_CLASSES;
    const stray = classes.find((c) => !known.has(c));
    if (stray) throw new LdapResultError(LDAP_RESULT.objectClassViolation, `objectClass ${stray}: not supported for a ${isUser ? 'user' : 'group'}`);
    const target = this.layout.resolve(parsed);
    if (target?.kind !== 'userOrGroup' || (isUser ? !target.asUser : !target.asGroup)) {
      const container = isUser ? this.layout.users : this.layout.groups;
      throw new LdapResultError(LDAP_RESULT.namingViolation, `a ${isUser ? 'user' : 'group'} is added as ${container.rdnTypeAsWritten}=…,${container.parentText}`);
    }
    if (isUser) await this.#addUser(access, target.name, attrs);
    else await this.#addGroup(access, target.name, attrs);
  }

  async #addUser(access: DirectoryAccess, name: string, attrs: Map<string, { type: string; values: string[] }>): Promise<void> {
    const allowed = new Set(['objectclass', 'uid', 'samaccountname', 'cn', 'displayname', 'givenname', 'sn', 'mail', 'loginshell', 'homedirectory', 'sshpublickey', 'uidnumber', 'gidnumber', 'userpassword', 'userprincipalname']);
    for (const [key, a] of attrs) if (!allowed.has(key)) throw unsupported(a.type, 'a new user');
    const one = (key: string): string | undefined => single(attrs, key);
    for (const key of ['uid', 'samaccountname']) {
      const v = one(key);
      if (v !== undefined && v.toLowerCase() !== name.toLowerCase()) {
        throw new LdapResultError(LDAP_RESULT.namingViolation, `${attrs.get(key)!.type} '${v}' differs from the name in the DN '${name}'`);
      }
    }
    const password = one('userpassword');
    if (password === undefined || password === '') throw new LdapResultError(LDAP_RESULT.objectClassViolation, 'userPassword is required: the new user\'s password, in clear (over TLS)');
    if (/^\{[A-Za-z0-9.-]+\}/.test(password)) throw new LdapResultError(LDAP_RESULT.unwillingToPerform, 'userPassword: give the password in clear; hashed values are accepted only by import-ldif');
    const upn = one('userprincipalname') ?? (this.upnDomain ? `${name}@${this.upnDomain}` : undefined);
    if (!upn) throw new LdapResultError(LDAP_RESULT.objectClassViolation, 'userPrincipalName is required (no directory domain is configured)');
    const posix: UserPosixInput = {};
    const shell = one('loginshell');
    const home = one('homedirectory');
    if (shell !== undefined) posix.loginShell = shell;
    if (home !== undefined) posix.homeDirectory = home;
    const keys = attrs.get('sshpublickey')?.values;
    if (keys) posix.sshPublicKeys = keys;
    const uidNumber = one('uidnumber');
    const gidNumber = one('gidnumber');
    if (uidNumber !== undefined) posix.uidNumber = integer(uidNumber, 'uidNumber');
    if (gidNumber !== undefined) posix.gidNumber = integer(gidNumber, 'gidNumber');
    const cn = one('cn');
    const rdnIsCn = this.layout.users.rdnType === 'cn';
    const input: CreateUserInput = {
      userPrincipalName: upn,
      mailNickname: name,
      displayName: one('displayname') ?? (cn !== undefined && !rdnIsCn ? cn : undefined) ?? name,
      password,
      accountEnabled: true,
    };
    const given = one('givenname');
    const sn = one('sn');
    const mail = one('mail');
    if (given !== undefined) input.givenName = given;
    if (sn !== undefined) input.surname = sn;
    if (mail !== undefined) input.mail = mail;
    if (Object.keys(posix).length > 0) input.keyhavenPosix = posix;
    const writers = core(() => access.users());
    await core(() => writers.create(input));
  }

  async #addGroup(access: DirectoryAccess, name: string, attrs: Map<string, { type: string; values: string[] }>): Promise<void> {
    const allowed = new Set(['objectclass', 'cn', 'samaccountname', 'displayname', 'description', 'member', 'uniquemember', 'gidnumber', 'memberuid']);
    for (const [key, a] of attrs) if (!allowed.has(key)) throw unsupported(a.type, 'a new group');
    if ((attrs.get('memberuid')?.values.length ?? 0) > 0) {
      throw new LdapResultError(LDAP_RESULT.unwillingToPerform, 'memberUid is derived from member: give members as member DNs');
    }
    const writers = core(() => access.groups());
    const reads = await this.#reads(access);
    const memberDns = [...(attrs.get('member')?.values ?? []), ...(attrs.get('uniquemember')?.values ?? [])];
    const ids = await this.#memberIds(memberDns, reads);
    const gid = single(attrs, 'gidnumber');
    const description = single(attrs, 'description');
    const group = await core(() => writers.create({
      mailNickname: name,
      displayName: single(attrs, 'displayname') ?? name,
      ...(description === undefined ? {} : { description }),
      securityEnabled: true,
      mailEnabled: false,
      ...(gid === undefined ? {} : { keyhavenPosix: { gidNumber: integer(gid, 'gidNumber') } }),
    }));
    for (const id of ids) await core(() => writers.addMember(group.id, id));
  }

  // Delete ---------------------------------------------------------------------------------

  async delete(dn: string, writer: LdapWriter): Promise<void> {
    const access = await this.#access(writer);
    const target = await this.#target(dn, await this.#reads(access));
    if (target.kind === 'user') {
      const writers = core(() => access.users());
      await core(() => writers.delete(target.user.id));
    } else {
      const writers = core(() => access.groups());
      await core(() => writers.delete(target.group.id));
    }
  }

  // Shared ---------------------------------------------------------------------------------

  async #access(writer: LdapWriter): Promise<DirectoryAccess> {
    if (writer.viewer.kind === 'anonymous') throw new LdapResultError(LDAP_RESULT.insufficientAccessRights, 'bind as an administrator to write');
    const id = writer.viewer.id;
    return core(() => this.directory.access({ id, source: writer.source }));
  }

  /** The writer's own reads: what it may see is what it may name as a target or a member. */
  async #reads(access: DirectoryAccess): Promise<WriterReads> {
    const list = new DirectoryReads(core(() => access.reader()));
    const scope = await core(() => this.directory.scopedReader({ kind: 'principal', id: access.actor.id, source: access.actor.source }));
    return { list, scope };
  }

  async #target(dn: string, reads: WriterReads): Promise<NamedObject> {
    const parsed = parseDn(dn);
    if (!parsed) throw new LdapResultError(LDAP_RESULT.invalidDnSyntax, 'the entry name is not a DN');
    const object = this.objectAt(parsed, reads.scope);
    if (object) return object;
    const t = this.layout.resolve(parsed);
    if (t && t.kind !== 'userOrGroup' && t.kind !== 'service') {
      throw new LdapResultError(LDAP_RESULT.unwillingToPerform, 'only user and group entries are written over LDAP');
    }
    throw new LdapResultError(LDAP_RESULT.noSuchObject, 'no such object', this.layout.matchedDn(parsed));
  }
}

/** Applies one change to an attribute's values, as RFC 4511 §4.6 defines add, delete and replace. */
export function applyChange(values: string[], operation: LdapChange['operation'], given: string[], type: string, singleValued: boolean, required: boolean): void {
  const has = (v: string) => values.some((x) => x === v);
  if (operation === 'replace') {
    values.splice(0, values.length, ...dedupe(given, type));
  } else if (operation === 'add') {
    if (given.length === 0) throw new LdapResultError(LDAP_RESULT.protocolError, `${type}: add needs at least one value`);
    for (const v of dedupe(given, type)) {
      if (has(v)) throw new LdapResultError(LDAP_RESULT.attributeOrValueExists, `${type}: value already present`);
      values.push(v);
    }
  } else if (given.length === 0) {
    if (values.length === 0) throw new LdapResultError(LDAP_RESULT.noSuchAttribute, `${type}: the entry has no such attribute`);
    values.splice(0);
  } else {
    for (const v of given) {
      const i = values.indexOf(v);
      if (i < 0) throw new LdapResultError(LDAP_RESULT.noSuchAttribute, `${type}: no such value`);
      values.splice(i, 1);
    }
  }
  if (singleValued && values.length > 1) throw new LdapResultError(LDAP_RESULT.constraintViolation, `${type} is single-valued`);
  if (required && values.length === 0) throw new LdapResultError(LDAP_RESULT.objectClassViolation, `${type} is required and cannot be removed`);
}

/** Member changes on the list of member ids: duplicates 20, absent members 16. */
export function applyMembers(members: string[], operation: LdapChange['operation'], ids: string[]): void {
  if (operation === 'replace') {
    members.splice(0, members.length, ...ids);
  } else if (operation === 'add') {
    for (const id of ids) {
      if (members.includes(id)) throw new LdapResultError(LDAP_RESULT.attributeOrValueExists, 'member: already a member');
      members.push(id);
    }
  } else if (ids.length === 0) {
    if (members.length === 0) throw new LdapResultError(LDAP_RESULT.noSuchAttribute, 'member: the group has no members');
    members.splice(0);
  } else {
    for (const id of ids) {
      const i = members.indexOf(id);
      if (i < 0) throw new LdapResultError(LDAP_RESULT.noSuchAttribute, 'member: not a member');
      members.splice(i, 1);
    }
  }
}

function dedupe(values: string[], type: string): string[] {
  if (new Set(values).size !== values.length) throw new LdapResultError(LDAP_RESULT.attributeOrValueExists, `${type}: a value is given twice`);
  return values;
}

function canonical(type: string): string {
  return (attributeType(type)?.name ?? type).toLowerCase();
}

function text(value: Buffer): string {
  const s = value.toString('utf8');
  if (!Buffer.from(s, 'utf8').equals(value)) throw new LdapResultError(LDAP_RESULT.constraintViolation, 'values must be UTF-8 text');
  return s;
}

function opt(v: string | null | undefined): string[] {
  return v === null || v === undefined || v === '' ? [] : [v];
}

function single(attrs: Map<string, { type: string; values: string[] }>, key: string): string | undefined {
  const a = attrs.get(key);
  if (!a || a.values.length === 0) return undefined;
  if (a.values.length > 1) throw new LdapResultError(LDAP_RESULT.constraintViolation, `${a.type} is single-valued`);
  return a.values[0];
}

function integer(v: string, type: string): number {
  if (!/^\d{1,10}$/.test(v)) throw new LdapResultError(LDAP_RESULT.constraintViolation, `${type}: not a number`);
  return Number(v);
}

function unsupported(type: string, what: string): LdapResultError {
  return new LdapResultError(LDAP_RESULT.unwillingToPerform, `${type.slice(0, 64)}: not writable on ${what} over LDAP`);
}

/** Runs a core call; its errors are answered as a write's (ldap-errors.ts: 20, 19, 68, 50, 32…). */
function core<T>(fn: () => T): T {
  const map = (err: unknown): never => {
    throw ldapError(err, 'write');
  };
  try {
    const r = fn();
    return (r instanceof Promise ? r.catch(map) : r) as T;
  } catch (err) {
    return map(err);
  }
}
