// The directory information tree Keyhaven serves: one naming context (the base DN), a users
// container and a groups container under it, and a services container whose entries are the
// bind DNs of service accounts (`cn={appId},ou=services,{base}`). Where users and groups sit,
// and the attribute their RDN uses, come from DN templates, so an admin can reproduce an
// existing layout: OpenLDAP's `uid={username},ou=people,dc=example,dc=org` or Azure AD Domain
// Services' `CN={username},OU=AADDC Users,DC=mytestdomain,DC=onmicrosoft,DC=com` (the
// bind_dn_template JupyterHub guides print). Both containers may be the same entry (AD DS
// puts groups in AADDC Users too); a DN is then tried as a user first, then as a group.
//
// Users and groups an LDIF import brought in keep the DN they came with (keyhavenLdap.sourceDn),
// so an existing bind_dn_template such as `CN={cn},OU=Staff,DC=corp,DC=example` keeps working.
// A DN outside the base lies in the naming context of its imported tree (the import records
// each tree's suffix; the view lists them in the Root DSE's namingContexts, issue 8 item 4).
import type { GraphGroup, GraphUser, LdapSource } from '../../directory/graph-objects.js';
import { StartupError } from '../../errors.js';
import { escapeValue, formatDn, isAtOrUnder, parentOf, parseDn, tidyDn, withKeys, type ParsedDn } from './distinguished-name.js';
import type { LdapViewConfig } from './view-config.js';

export interface DnTemplate {
  /** The RDN's attribute type, lower-cased (`uid`, `cn`), and as the admin spelled it. */
  rdnType: string;
  rdnTypeAsWritten: string;
  /** The entries' parent: the container. */
  parent: ParsedDn;
  /** The container as the server writes it. */
  parentText: string;
}

export type DnTarget =
  | { kind: 'root' }
  | { kind: 'base' }
  | { kind: 'container'; which: 'users' | 'groups' | 'services' }
  | { kind: 'userOrGroup'; name: string; asUser: boolean; asGroup: boolean }
  | { kind: 'service'; appId: string };

export class DitLayout {
  readonly base: ParsedDn;
  readonly baseText: string;
  readonly users: DnTemplate;
  readonly groups: DnTemplate;
  readonly services: DnTemplate;

  constructor(config: LdapViewConfig) {
    const base = parseDn(config.baseDn);
    if (!base || base.rdns.length === 0) throw invalid(`ldapBaseDn '${config.baseDn}' is not a distinguished name`);
    this.base = base;
    this.baseText = tidyDn(config.baseDn);
    this.users = this.#template('ldapUserDnTemplate', config.userDnTemplate ?? `uid={username},${config.usersContainer},{base}`, '{username}');
    this.groups = this.#template('ldapGroupDnTemplate', config.groupDnTemplate ?? `cn={name},${config.groupsContainer},{base}`, '{name}');
    this.services = this.#template('services', 'cn={appId},ou=services,{base}', '{appId}');
  }

  userDn(username: string): string {
    return `${this.users.rdnTypeAsWritten}=${escapeValue(username)},${this.users.parentText}`;
  }

  groupDn(name: string): string {
    return `${this.groups.rdnTypeAsWritten}=${escapeValue(name)},${this.groups.parentText}`;
  }

  /** The DN a user is served under: its imported DN, else the template's. */
  userDnOf(user: Pick<GraphUser, 'mailNickname' | 'keyhavenLdap'>): string {
    return this.sourceDnOf(user.keyhavenLdap) ?? this.userDn(user.mailNickname);
  }

  groupDnOf(group: Pick<GraphGroup, 'mailNickname' | 'keyhavenLdap'>): string {
    return this.sourceDnOf(group.keyhavenLdap) ?? this.groupDn(group.mailNickname);
  }

  /** An imported DN as served (spaces around separators dropped), if it is a DN. */
  sourceDnOf(source: LdapSource | undefined): string | undefined {
    if (!source) return undefined;
    const parsed = parseDn(source.sourceDn);
    if (!parsed || parsed.rdns.length === 0) return undefined;
    return tidyDn(source.sourceDn);
  }

  serviceDn(appId: string): string {
    return `${this.services.rdnTypeAsWritten}=${escapeValue(appId)},${this.services.parentText}`;
  }

  /** The containers (distinct entries), with what each holds. */
  containers(): { dn: ParsedDn; text: string; holds: ('users' | 'groups' | 'services')[] }[] {
    const out: { dn: ParsedDn; text: string; holds: ('users' | 'groups' | 'services')[] }[] = [];
    for (const which of ['users', 'groups', 'services'] as const) {
      const t = this[which];
      if (t.parent.key === this.base.key) continue;
      const known = out.find((c) => c.dn.key === t.parent.key);
      if (known) known.holds.push(which);
      else out.push({ dn: t.parent, text: t.parentText, holds: [which] });
    }
    return out;
  }

  /** What a DN names in this tree, if anything could live there; undefined otherwise. */
  resolve(dn: ParsedDn): DnTarget | undefined {
    if (dn.rdns.length === 0) return { kind: 'root' };
    if (dn.key === this.base.key) return { kind: 'base' };
    for (const which of ['users', 'groups', 'services'] as const) {
      if (dn.key === this[which].parent.key) return { kind: 'container', which };
    }
    const leaf = dn.rdns[0]!;
    if (leaf.pairs.length !== 1) return undefined;
    const [type, value] = leaf.pairs[0]!;
    const parent = parentOf(dn);
    const asUser = parent.key === this.users.parent.key && type === this.users.rdnType;
    const asGroup = parent.key === this.groups.parent.key && type === this.groups.rdnType;
    if (asUser || asGroup) return { kind: 'userOrGroup', name: value, asUser, asGroup };
    if (parent.key === this.services.parent.key && type === this.services.rdnType) return { kind: 'service', appId: value };
    return undefined;
  }

  /** The nearest entry at or above `dn` that exists structurally (base or a container): a noSuchObject's matchedDN. */
  matchedDn(dn: ParsedDn): string {
    for (const c of this.containers()) if (isAtOrUnder(dn, c.dn)) return c.text;
    return isAtOrUnder(dn, this.base) ? this.baseText : '';
  }

  #template(key: string, template: string, placeholder: string): DnTemplate {
    const text = template.split('{base}').join(this.baseText);
    const parsed = parseDn(text);
    const first = parsed?.rdns[0];
    if (!parsed || !first || first.pairs.length !== 1 || first.pairs[0]![1] !== placeholder) {
      throw invalid(`${key} '${template}' must be a DN whose first RDN is attr=${placeholder}`);
    }
    const parent = withKeys(parsed.rdns.slice(1));
    if (!isAtOrUnder(parent, this.base)) throw invalid(`${key} '${template}' must lie under ldapBaseDn '${this.baseText}'`);
    const asWritten = first.pairs[0]![0];
    // Keep the admin's spelling of the attribute type (`CN=` in AD layouts).
    const spelled = /^\s*([A-Za-z][A-Za-z0-9-]*)\s*=/.exec(text)?.[1] ?? asWritten;
    return { rdnType: asWritten, rdnTypeAsWritten: spelled, parent, parentText: rawParent(text, parent) };
  }
}

/** The container part of a template as the admin wrote it (their case), after the first RDN. */
function rawParent(text: string, parent: ParsedDn): string {
  const tidy = tidyDn(text);
  // The first unescaped comma ends the first RDN.
  for (let i = 0; i < tidy.length; i++) {
    if (tidy[i] === '\\') { i++; continue; }
    if (tidy[i] === ',') {
      const rest = tidy.slice(i + 1);
      return parseDn(rest)?.key === parent.key ? rest : formatDn(parent.rdns);
    }
  }
  return formatDn(parent.rdns);
}

function invalid(message: string): StartupError {
  return new StartupError('KH_LDAP_LAYOUT_INVALID', `invalid LDAP layout: ${message}`);
}
