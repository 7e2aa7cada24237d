// Users and groups of the directory's read model as the LDAP view serves them (before a
// viewer's visibility is applied): the DN from the layout (imported objects under their
// original DN), and the entry from user-entry.ts / group-entry.ts with member, memberUid and
// memberOf from the model's direct edges — the one place a served entry is made, for the
// search, for compare and for the search indexes alike (served-index.ts), so what a search
// pre-selects by and what it returns can never differ. member, memberUid and memberOf come
// from the model's direct edges and nothing else: served-index.ts looks them up through those
// edges, so a value added here from anywhere else would need an index of its own.
import type { DirectoryModel } from '../../directory/read-model/directory-model.js';
import type { GraphGroup, GraphUser } from '../../directory/graph-objects.js';
import type { LdapEntry } from '../ldap-directory.js';
import type { DitLayout } from './dit-layout.js';
import { groupEntry } from './group-entry.js';
import { userEntry } from './user-entry.js';

/** Which costly attributes to render: memberOf (users and groups), member/memberUid (groups). */
export interface Needs {
  memberOf: boolean;
  members: boolean;
}

export const EVERYTHING: Needs = { memberOf: true, members: true };

export class ServedEntries {
  constructor(
    readonly layout: DitLayout,
    private readonly domainSid: readonly [number, number, number],
  ) {}

  userDn(user: GraphUser): string {
    return this.layout.userDnOf(user);
  }

  groupDn(group: GraphGroup): string {
    return this.layout.groupDnOf(group);
  }

  user(model: DirectoryModel, user: GraphUser, need: Needs, dn = this.userDn(user)): LdapEntry {
    return userEntry(user, { dn, domainSid: this.domainSid, baseDn: this.layout.baseText, memberOf: need.memberOf ? this.#memberOf(model, user.id) : undefined });
  }

  group(model: DirectoryModel, group: GraphGroup, need: Needs, dn = this.groupDn(group)): LdapEntry {
    let members: { dns: string[]; userNames: string[] } | undefined;
    if (need.members) {
      members = { dns: [], userNames: [] };
      // Direct members only, users and groups (service principals have no entry): RFC 4519 member.
      for (const [id, type] of model.directMembers(group.id)) {
        if (type === 'user') {
          const u = model.user(id);
          if (!u) continue;
          members.dns.push(this.userDn(u));
          members.userNames.push(u.mailNickname);
        } else if (type === 'group') {
          const g = model.group(id);
          if (g) members.dns.push(this.groupDn(g));
        }
      }
    }
    return groupEntry(group, { dn, domainSid: this.domainSid, baseDn: this.layout.baseText, members, memberOf: need.memberOf ? this.#memberOf(model, group.id) : undefined });
  }

  #memberOf(model: DirectoryModel, id: string): string[] {
    const out: string[] = [];
    for (const g of model.directGroupsOf(id)) {
      const group = model.group(g);
      if (group) out.push(this.groupDn(group));
    }
    return out;
  }
}
