// Differential property test of LDAP search exactness (issue 8, item 3), on both engines: for
// a seeded random directory (imported users with multi-valued cn and ou, a cn unlike the
// displayName, users made through the API, nested groupOfNames, groupOfUniqueNames, posixGroup
// with memberUid, groups made through the API nesting imported ones) and thousands of random
// filters of every kind — equality, presence, substrings, ordering, approx, extensible (a
// named rule, :dn:, AD's IN_CHAIN and bitwise AND/OR), nested and/or/not — over cn, uid, mail,
// ou, member, memberOf, uniqueMember, memberUid, objectClass and gidNumber, the planned
// search (index pre-selection, search-plan.ts) returns exactly the entries that evaluating the
// filter on every served entry one by one returns. The oracle derives IN_CHAIN from the served
// member values alone (a walk over DNs), not from the read model. As a service account (full
// entries) and as a user (others' public attributes only).
//
//   KEYHAVEN_TEST_SEED=<n>     replay a run (the seed is printed on every run)
//   KEYHAVEN_TEST_FILTERS=<n>  filters per viewer and engine (default 2000)
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { importLdif } from '../../src/directory/ldif/ldif-import.js';
import { DIRECTORY_READERS } from '../../src/directory/role-definitions.js';
import type { LdapEntry, LdapViewer, SearchParams } from '../../src/ldap/ldap-directory.js';
import { parseDn } from '../../src/ldap/view/distinguished-name.js';
import { parseFilterText, filterTree } from '../../src/ldap/view/filter-ast.js';
import { evaluate, type EvalContext } from '../../src/ldap/view/filter-eval.js';
import { LdapView } from '../../src/ldap/view/ldap-view.js';
import { ldapViewConfig } from '../../src/ldap/view/view-config.js';
import { engines, type EngineFixture } from '../helpers/engines.js';
import { GOOD_PASSWORD, openDirectory, type DirectoryFixture } from './directory-fixture.js';

const SEED = Number(process.env.KEYHAVEN_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));
const FILTERS = Number(process.env.KEYHAVEN_TEST_FILTERS ?? 2000);
const BASE = 'dc=example,dc=org';
console.log(`ldap-search-differential: KEYHAVEN_TEST_SEED=${SEED} KEYHAVEN_TEST_FILTERS=${FILTERS}`);

/** mulberry32: a small seeded PRNG, so a failing run can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Random {
  constructor(readonly next: () => number) {}
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  some<T>(xs: readonly T[], max: number): T[] {
    if (xs.length === 0) return [];
    const n = this.int(max + 1);
    const out = new Set<T>();
    for (let i = 0; i < n; i++) out.add(this.pick(xs));
    return [...out];
  }
}

const FIRST = ['ada', 'grace', 'alan', 'edsger', 'barbara', 'ken', 'dennis', 'linus', 'margaret', 'donald', 'frances', 'john'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Thompson', 'Ritchie', 'Torvalds', 'Hamilton', 'Knuth', 'Allen', 'Backus'];
const OUS = ['Research', 'Engineering', 'Teaching', 'people', 'Lab A', 'lab b'];

/** The seeded directory: an LDIF made here (the input, not Keyhaven's writer), then API writes. */
function directoryLdif(r: Random): { ldif: string; userDns: string[]; groupDns: string[] } {
  const lines: string[] = [];
  const userDns: string[] = [];
  const uids: string[] = [];
  for (let i = 0; i < 36; i++) {
    const first = r.pick(FIRST);
    const last = r.pick(LAST);
    const uid = `${first}${i}`;
    const full = `${first[0]!.toUpperCase()}${first.slice(1)} ${r.chance(0.3) ? 'K. ' : ''}${last}`;
    const byCn = r.chance(0.5) && !userDns.some((d) => d.toLowerCase() === `cn=${full},ou=people,${BASE}`.toLowerCase());
    const dn = byCn ? `cn=${full},ou=people,${BASE}` : `uid=${uid},ou=people,${BASE}`;
    userDns.push(dn);
    uids.push(uid);
    lines.push(`dn: ${dn}`, 'objectClass: top', 'objectClass: inetOrgPerson');
    const posix = r.chance(0.6);
    if (posix) lines.push('objectClass: posixAccount');
    if (r.chance(0.2)) lines.push('objectClass: shadowAccount');
    lines.push(`uid: ${uid}`, `cn: ${full}`);
    for (const extra of r.some([`${first} ${last}`, first, `${last}, ${first}`, `Dr ${last}`], 2)) if (extra !== full) lines.push(`cn: ${extra}`);
    lines.push(`sn: ${last}`);
    if (r.chance(0.5)) lines.push(`displayName: ${r.chance(0.5) ? first : `${first} ${last}`}`);
    if (r.chance(0.7)) lines.push(`mail: ${uid}@${r.pick(['example.org', 'Example.ORG', 'lab.example.org'])}`);
    for (const ou of r.some(OUS, 2)) lines.push(`ou: ${ou}`);
    if (posix) lines.push(`uidNumber: ${20000 + i}`, `gidNumber: ${r.pick([20000 + i, 5000, 5001, 5002])}`, `homeDirectory: /home/${uid}`);
    lines.push('');
  }
  const groupDns: string[] = [];
  for (let i = 0; i < 14; i++) {
    const kind = r.pick(['groupOfNames', 'groupOfUniqueNames', 'posixGroup'] as const);
    const cn = `${r.pick(['team', 'lab', 'course', 'proj'])}${i}`;
    const dn = `cn=${cn},ou=groups,${BASE}`;
    lines.push(`dn: ${dn}`, 'objectClass: top', `objectClass: ${kind}`, `cn: ${cn}`);
    if (kind === 'posixGroup') {
      lines.push(`gidNumber: ${5000 + i}`);
      for (const u of r.some(uids, 5)) lines.push(`memberUid: ${u}`);
    } else {
      const attr = kind === 'groupOfNames' ? 'member' : 'uniqueMember';
      // Nesting: only groups listed earlier, so the import sees no cycle.
      const members = [...r.some(userDns, 6), ...r.some(groupDns, 2)];
      if (members.length === 0) members.push(userDns[i]!);
      for (const m of members) lines.push(`${attr}: ${m}`);
      if (r.chance(0.5)) lines.push(`description: ${r.pick(['Staff', 'students', 'Everyone in the lab'])}`);
    }
    lines.push('');
    groupDns.push(dn);
  }
  return { ldif: lines.join('\n'), userDns, groupDns };
}

/** RFC 4515 §3 escaping of an assertion value. */
function esc(v: string): string {
  return v.replace(/[\\*()\u0000]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

const ATTRS = ['cn', 'uid', 'mail', 'ou', 'member', 'memberOf', 'uniqueMember', 'memberUid', 'objectClass', 'gidNumber'] as const;
const DN_ATTRS = new Set(['member', 'memberof', 'uniquemember']);

/** Random filters whose values come mostly from what the directory serves, bent (case, spaces) or made up. */
class FilterMaker {
  constructor(
    private readonly r: Random,
    private readonly served: ReadonlyMap<string, string[]>,
    private readonly dns: readonly string[],
  ) {}

  value(attr: string): string {
    const r = this.r;
    const pool = DN_ATTRS.has(attr.toLowerCase()) ? this.dns : this.served.get(attr.toLowerCase()) ?? [];
    if (pool.length === 0 || r.chance(0.12)) return r.pick(['nobody', 'x', '12', '5001', ' Ada ', 'uid=nobody,ou=people,dc=example,dc=org', 'not a dn', '*']);
    let v = r.pick(pool);
    if (r.chance(0.25)) v = v.toUpperCase();
    if (r.chance(0.15)) v = v.replace(/ /g, '  ').replace(/,/g, ', ');
    if (r.chance(0.1)) v = ` ${v} `;
    if (r.chance(0.05) && /^\d+$/.test(v)) v = `0${v}`;
    // @ldapjs/filter refuses empty assertion values.
    return v.trim() === '' ? 'x' : v;
  }

  item(): string {
    const r = this.r;
    const attr = r.pick(ATTRS);
    const kind = r.int(12);
    const v = this.value(attr);
    switch (kind) {
      case 0:
      case 1:
      case 2:
        return `(${attr}=${esc(v)})`;
      case 3:
        return `(${attr}=*)`;
      case 4: {
        const t = v.trim();
        const a = t.slice(0, 1 + r.int(Math.max(1, t.length)));
        const b = t.slice(Math.max(0, t.length - 1 - r.int(3)));
        const mid = t.length > 3 ? t.slice(1, 1 + r.int(t.length - 1)) : '';
        const parts: string[] = [r.chance(0.6) ? esc(a) : '', ...(mid && r.chance(0.5) ? [esc(mid)] : []), r.chance(0.5) ? esc(b) : ''];
        if (!parts.some((p) => p !== '')) parts[0] = esc(a || 'a');
        return `(${attr}=${parts.join('*')})`;
      }
      case 5:
        return `(${attr}>=${esc(v)})`;
      case 6:
        return `(${attr}<=${esc(v)})`;
      case 7:
        return `(${attr}~=${esc(v)})`;
      case 8: {
        const a = r.pick(['memberOf', 'member', 'memberof']);
        return `(${a}:1.2.840.113556.1.4.1941:=${esc(this.value('member'))})`;
      }
      case 9:
        return `(gidNumber:${r.pick(['1.2.840.113556.1.4.803', '1.2.840.113556.1.4.804'])}:=${r.pick(['1', '2', '8', '5000', '4096', '0', '-1', 'x'])})`;
      case 10:
        return r.chance(0.5) ? `(${attr}:caseIgnoreMatch:=${esc(v)})` : `(${attr}:${r.pick(['2.5.13.5', '2.5.13.1', '2.5.13.14'])}:=${esc(v)})`;
      default:
        return r.chance(0.5) ? `(${r.pick(['ou', 'cn', 'uid'])}:dn:=${esc(r.pick(['people', 'groups', 'example', ...FIRST.slice(0, 3)]))})` : `(:dn:2.5.13.2:=${esc(r.pick(['people', 'groups', 'org']))})`;
    }
  }

  filter(depth = 0): string {
    const r = this.r;
    if (depth >= 3 || r.chance(0.45)) return this.item();
    const op = r.int(3);
    if (op === 2) return `(!${this.filter(depth + 1)})`;
    const n = 1 + r.int(3);
    const parts = Array.from({ length: n }, () => this.filter(depth + 1));
    return `(${op === 0 ? '&' : '|'}${parts.join('')})`;
  }
}

/** IN_CHAIN as the oracle sees it: walks of the served member values (DNs), nothing else. */
function oracleContext(entries: readonly LdapEntry[]): EvalContext {
  const byKey = new Map<string, LdapEntry>();
  for (const e of entries) byKey.set(parseDn(e.dn)!.key, e);
  const idOf = (e: LdapEntry) => e.attributes.get('entryuuid')?.values[0]?.toString();
  const membersOf = (e: LdapEntry) => (e.attributes.get('member')?.values ?? []).map((v) => parseDn(v.toString())?.key).filter((k): k is string => k !== undefined);
  const closures = new Map<string, Set<string>>();
  const groups: [string, string][] = [];
  for (const e of entries) {
    const id = idOf(e);
    if (id && e.attributes.has('member')) groups.push([parseDn(e.dn)!.key, id]);
  }
  const closure = (groupKey: string): Set<string> => {
    const known = closures.get(groupKey);
    if (known) return known;
    const out = new Set<string>();
    closures.set(groupKey, out);
    const todo = [groupKey];
    const seen = new Set<string>(todo);
    while (todo.length > 0) {
      const g = byKey.get(todo.pop()!);
      if (!g) continue;
      for (const m of membersOf(g)) {
        out.add(m);
        if (!seen.has(m)) {
          seen.add(m);
          todo.push(m);
        }
      }
    }
    return out;
  };
  return {
    inChain(attribute, value) {
      const key = parseDn(value)?.key;
      const target = key === undefined ? undefined : byKey.get(key);
      if (!target || key === undefined) return undefined;
      const ids = new Set<string>();
      if (attribute === 'memberof') {
        for (const m of closure(key)) {
          const e = byKey.get(m);
          const id = e && idOf(e);
          if (id) ids.add(id);
        }
        return ids;
      }
      for (const [groupKey, id] of groups) if (closure(groupKey).has(key)) ids.add(id);
      return ids;
    },
  };
}

for (const engine of engines) {
  describe(`LDAP search differential: ${engine.name} (seed ${SEED})`, () => {
    let fx: EngineFixture;
    let d: DirectoryFixture;
    let view: LdapView;
    const viewers: { name: string; viewer: LdapViewer }[] = [];

    const search = async (filter: string, viewer: LdapViewer, attributes: string[] = [], scope: SearchParams['scope'] = 'sub'): Promise<LdapEntry[]> => {
      const out: LdapEntry[] = [];
      for await (const e of view.search({ baseDn: BASE, scope, filter: parseFilterText(filter), attributes, typesOnly: false }, viewer)) out.push(e);
      return out;
    };

    before(async () => {
      fx = await engine.create();
      d = await openDirectory(fx);
      const admin = d.directory.system();
      view = new LdapView({ directory: d.directory, config: ldapViewConfig({ directoryDomain: 'example.org', ldapBaseDn: BASE }) });
      const r = new Random(prng(SEED));
      const { ldif, userDns } = directoryLdif(r);
      await importLdif(d.deps, ldif, { directoryDomain: 'example.org' });
      const model = await d.directory.readModel();
      const apiUsers = [];
      for (let i = 0; i < 12; i++) {
        const first = r.pick(FIRST);
        apiUsers.push(await admin.users().create({
          userPrincipalName: `${first}.api${i}@example.org`, displayName: `${first} ${r.pick(LAST)}`, password: GOOD_PASSWORD,
          ...(r.chance(0.5) ? { mail: `${first}.api${i}@example.org` } : {}),
        }));
      }
      const imported = [...model.groups()];
      const apiGroups = [];
      for (let i = 0; i < 5; i++) {
        const g = await admin.groups().create({ displayName: `API group ${i}`, mailNickname: `api-group-${i}` });
        for (const u of r.some(apiUsers, 4)) await admin.groups().addMember(g.id, u.id);
        // API groups nest imported ones (never the reverse: no cycles).
        for (const ig of r.some(imported, 2)) await admin.groups().addMember(g.id, ig.id);
        for (const ag of r.some(apiGroups, 1)) await admin.groups().addMember(g.id, ag.id);
        apiGroups.push(g);
      }
      for (const ig of r.some(imported, 4)) for (const u of r.some(apiUsers, 2)) await admin.groups().addMember(ig.id, u.id).catch(() => undefined);
      const { application, servicePrincipal } = await admin.applications().create({ displayName: 'reader', withServicePrincipal: true });
      const cred = await admin.applications().addPassword(application.id, { displayName: 'ldap' });
      await admin.roleAssignments().assign({ roleDefinitionId: DIRECTORY_READERS, principalId: servicePrincipal!.id });
      viewers.push({ name: 'service account', viewer: (await view.bind(`cn=${application.appId},ou=services,${BASE}`, cred.secretText, '127.0.0.1')).viewer });
      viewers.push({ name: 'user', viewer: (await view.bind(`uid=${apiUsers[0]!.mailNickname},ou=people,${BASE}`, GOOD_PASSWORD, '127.0.0.1')).viewer });
      assert.ok(userDns.length > 0);
    });
    after(async () => {
      await d?.close();
      await fx?.cleanup();
    });

    for (const [who, count] of [['service account', FILTERS], ['user', Math.ceil(FILTERS / 4)]] as const) {
      it(`${count} random filters as a ${who}: the planned search equals the filter evaluated on every served entry`, async () => {
        const FILTERS = count;
        const { viewer } = viewers.find((v) => v.name === who)!;
        const everything = await search('(objectClass=*)', viewer);
        assert.ok(everything.length > 60, `the directory is served (${everything.length} entries)`);
        const served = new Map<string, string[]>();
        for (const e of everything) {
          for (const [k, a] of e.attributes) {
            if (!served.has(k)) served.set(k, []);
            served.get(k)!.push(...a.values.filter((v) => typeof v === 'string').map(String));
          }
        }
        const dns = everything.map((e) => e.dn);
        const ctx = oracleContext(everything);
        const r = new Random(prng(SEED ^ (who === 'user' ? 0x5bd1e995 : 0x1b873593)));
        const maker = new FilterMaker(r, served, dns);
        const oracle = everything.map((e) => ({ dn: e.dn, evalEntry: { id: e.attributes.get('entryuuid')?.values[0]?.toString(), dn: parseDn(e.dn), attributes: e.attributes } }));
        let nonEmpty = 0;
        let narrowed = 0;
        let tOracle = 0;
        let tSearch = 0;
        for (let i = 0; i < FILTERS; i++) {
          const text = maker.filter();
          const tree = filterTree(parseFilterText(text));
          const t0 = performance.now();
          const expected = oracle.filter((e) => evaluate(tree, e.evalEntry, ctx) === true).map((e) => e.dn).sort();
          const t1 = performance.now();
          const got = (await search(text, viewer)).map((e) => e.dn).sort();
          tOracle += t1 - t0;
          tSearch += performance.now() - t1;
          assert.deepEqual(got, expected, `filter #${i} ${text} (KEYHAVEN_TEST_SEED=${SEED}, ${who}, ${engine.name})`);
          if (expected.length > 0) nonEmpty++;
          if (expected.length > 0 && expected.length < everything.length / 4) narrowed++;
        }
        // The filters must exercise something: many match, many match only a few entries.
        assert.ok(nonEmpty > FILTERS / 5, `${nonEmpty} of ${FILTERS} filters matched anything`);
        assert.ok(narrowed > FILTERS / 20, `${narrowed} of ${FILTERS} filters matched a few entries`);
        console.log(`${engine.name}, ${who}: ${FILTERS} filters, ${nonEmpty} matched something, ${narrowed} a few entries; ${Math.round(tSearch)} ms searching, ${Math.round(tOracle)} ms in the oracle`);
      });
    }

    it('stays exact across changes: the same filters before and after writes agree with the evaluator', async () => {
      const { viewer } = viewers[0]!;
      const admin = d.directory.system();
      const model = await d.directory.readModel();
      const r = new Random(prng(SEED ^ 0x7f4a7c15));
      // Renames, membership changes and deletions, then the differential again.
      const users = [...model.users()].filter((u) => !u.keyhavenLdap);
      const groups = [...model.groups()];
      for (let i = 0; i < 10; i++) {
        const g = r.pick(groups);
        const u = r.pick(users);
        if (model.directMembers(g.id).has(u.id)) await admin.groups().removeMember(g.id, u.id);
        else await admin.groups().addMember(g.id, u.id);
      }
      await admin.users().update(users[1]!.id, { mailNickname: 'renamed1', displayName: 'Renamed One' });
      await admin.groups().update(groups[groups.length - 1]!.id, { mailNickname: 'renamed-group' });
      await admin.users().delete(users[2]!.id);
      const everything = await search('(objectClass=*)', viewer);
      const served = new Map<string, string[]>();
      for (const e of everything) for (const [k, a] of e.attributes) served.set(k, [...(served.get(k) ?? []), ...a.values.filter((v) => typeof v === 'string').map(String)]);
      const ctx = oracleContext(everything);
      const maker = new FilterMaker(r, served, everything.map((e) => e.dn));
      const n = Math.max(200, Math.floor(FILTERS / 4));
      for (let i = 0; i < n; i++) {
        const text = maker.filter();
        const tree = filterTree(parseFilterText(text));
        const expected = everything.filter((e) => evaluate(tree, { id: e.attributes.get('entryuuid')?.values[0]?.toString(), dn: parseDn(e.dn), attributes: e.attributes }, ctx) === true).map((e) => e.dn).sort();
        const got = (await search(text, viewer)).map((e) => e.dn).sort();
        assert.deepEqual(got, expected, `after changes, filter #${i} ${text} (KEYHAVEN_TEST_SEED=${SEED})`);
      }
      assert.ok(everything.some((e) => e.dn.startsWith('cn=renamed-group,')), 'the renamed group is served under its new DN');
      assert.ok(everything.some((e) => e.dn.startsWith('uid=renamed1,')), 'the renamed user is served under its new DN');
    });
  });
}
