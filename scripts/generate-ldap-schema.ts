// Generates src/ldap/schema/{rfc4512-operational,core,cosine,inetorgperson,nis,msuser,
// openssh-lpk,sudo,keyhaven,syntaxes}.ts from slapd's own subschema — run once by hand when a
// schema changes (the server never reads /etc/ldap):
//
//   npx tsx scripts/generate-ldap-schema.ts
//
// Needs Debian's slapd and ldap-utils. For each schema file in turn it starts slapd (on a
// Unix socket in a temporary directory, no database) with that file and all before it
// loaded, reads cn=Subschema with ldapsearch, and assigns each definition to the first file
// with which it appeared: slapd's built-ins (RFC 4512's operational attributes, uid, cn,
// uidNumber, … which OpenLDAP 2.5 compiles in) come first, then Debian's core, cosine,
// inetorgperson, nis and msuser .schema files, then scripts/ldap-schema/*.schema (openssh-lpk,
// sudo, Keyhaven's own). So every text is slapd's rendering, and slapd has checked that each
// file parses and refers only to defined names. Every definition is parsed back into data and
// src/ldap/schema/definitions.ts must reproduce slapd's text exactly, or the run fails.
//
// What is left out or changed, and why:
//  - slapd's configuration and experimental definitions (olc*, the 1.3.6.1.4.1.4203.666 arc,
//    OpenLDAProotDSE, the ppolicy draft's pwdLastSuccess): they describe slapd, not a directory;
//  - of msuser.schema (Active Directory), only the classes Keyhaven serves (mstop, user, group,
//    container) and every attribute they name, with their supertypes, and the attributes of
//    AD's securityPrincipal class (sAMAccountName, objectSid, …: AD_ATTRIBUTES);
//  - posixGroup is AUXILIARY, as RFC 2307bis (draft-howard-rfc2307bis-02 §4) has it, not
//    STRUCTURAL as nis.schema (RFC 2307) does: Keyhaven's groups are groupOfNames + posixGroup.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  describeAttributeType, describeMatchingRule, describeObjectClass, describeSyntax,
  type AttributeTypeDefinition, type MatchingRuleDefinition, type ObjectClassDefinition, type SyntaxDefinition,
} from '../src/ldap/schema/definitions.js';

const ROOT = resolve(import.meta.dirname, '..');
const OUT = join(ROOT, 'src/ldap/schema');
const DEBIAN = '/etc/ldap/schema';
const OURS = join(ROOT, 'scripts/ldap-schema');

interface Layer { module: string; constName: string; file?: string; source: string }
const LAYERS: Layer[] = [
  { module: 'rfc4512-operational', constName: 'OPERATIONAL', source: 'slapd 2.5 built-in schema (RFC 4512 operational and Root DSE attributes, RFC 4519 name/cn/uid, RFC 2307 uidNumber/gidNumber, RFC 4530 entryUUID, RFC 5020 entryDN)' },
  { module: 'core', constName: 'CORE', file: `${DEBIAN}/core.schema`, source: 'OpenLDAP core.schema (RFC 4519, RFC 4523, RFC 4524 in part, RFC 2079, RFC 2247, RFC 2377)' },
  { module: 'cosine', constName: 'COSINE', file: `${DEBIAN}/cosine.schema`, source: 'OpenLDAP cosine.schema (RFC 4524)' },
  { module: 'inetorgperson', constName: 'INETORGPERSON', file: `${DEBIAN}/inetorgperson.schema`, source: 'OpenLDAP inetorgperson.schema (RFC 2798)' },
  { module: 'nis', constName: 'NIS', file: `${DEBIAN}/nis.schema`, source: 'OpenLDAP nis.schema (RFC 2307; posixGroup AUXILIARY as RFC 2307bis has it)' },
  { module: 'msuser', constName: 'MSUSER', file: `${DEBIAN}/msuser.schema`, source: 'OpenLDAP msuser.schema (Active Directory, Microsoft\'s OIDs): the user, group and container classes and their attributes' },
  { module: 'openssh-lpk', constName: 'OPENSSH_LPK', file: `${OURS}/openssh-lpk.schema`, source: 'openssh-lpk (scripts/ldap-schema/openssh-lpk.schema)' },
  { module: 'sudo', constName: 'SUDO', file: `${OURS}/sudo.schema`, source: 'sudo\'s schema.OpenLDAP (scripts/ldap-schema/sudo.schema)' },
  { module: 'keyhaven', constName: 'KEYHAVEN', file: `${OURS}/keyhaven.schema`, source: 'Keyhaven\'s own (scripts/ldap-schema/keyhaven.schema)' },
];

// Definitions slapd uses but does not list in its subschema, as their RFCs give them: the
// subschema class's rule lists (RFC 4512 §4.2.2, §4.2.6, §4.2.7), the subentry class's
// subtreeSpecification (RFC 3672 §2.3), and the syntaxes of RFC 4517 §3.3 (and RFC 2252 §4.3) that slapd's
// list leaves out while its attribute types use them.
const RFC_ATTRIBUTE_TYPES = [
  "( 2.5.21.1 NAME 'dITStructureRules' DESC 'RFC4512: DIT structure rules' EQUALITY integerFirstComponentMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.17 USAGE directoryOperation )",
  "( 2.5.21.2 NAME 'dITContentRules' DESC 'RFC4512: DIT content rules' EQUALITY objectIdentifierFirstComponentMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.16 USAGE directoryOperation )",
  "( 2.5.21.7 NAME 'nameForms' DESC 'RFC4512: name forms' EQUALITY objectIdentifierFirstComponentMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.35 USAGE directoryOperation )",
  "( 2.5.18.6 NAME 'subtreeSpecification' DESC 'RFC3672: subtree specification' SYNTAX 1.3.6.1.4.1.1466.115.121.1.45 SINGLE-VALUE USAGE directoryOperation )",
];
const RFC_SYNTAXES: Record<string, string> = {
  '1.3.6.1.4.1.1466.115.121.1.3': 'Attribute Type Description',
  '1.3.6.1.4.1.1466.115.121.1.16': 'DIT Content Rule Description',
  '1.3.6.1.4.1.1466.115.121.1.17': 'DIT Structure Rule Description',
  '1.3.6.1.4.1.1466.115.121.1.21': 'Enhanced Guide',
  '1.3.6.1.4.1.1466.115.121.1.25': 'Guide',
  '1.3.6.1.4.1.1466.115.121.1.30': 'Matching Rule Description',
  '1.3.6.1.4.1.1466.115.121.1.31': 'Matching Rule Use Description',
  '1.3.6.1.4.1.1466.115.121.1.35': 'Name Form Description',
  '1.3.6.1.4.1.1466.115.121.1.37': 'Object Class Description',
  '1.3.6.1.4.1.1466.115.121.1.54': 'LDAP Syntax Description',
  '1.3.6.1.4.1.1466.115.121.1.58': 'Substring Assertion',
  '1.3.6.1.4.1.1466.115.121.1.23': 'Fax',
  '1.3.6.1.4.1.1466.115.121.1.51': 'Teletex Terminal Identifier',
  // RFC 2252 §4.3's, which RFC 4517 dropped while cosine.schema's types still use them.
  '1.3.6.1.4.1.1466.115.121.1.13': 'Data Quality Syntax',
  '1.3.6.1.4.1.1466.115.121.1.19': 'DSA Quality Syntax',
  '1.3.6.1.4.1.1466.115.121.1.42': 'Protocol Information',
  '1.3.6.1.4.1.1466.115.121.1.43': 'Presentation Address',
};

// RFC 2252 §8's rules for two of RFC 2256's OSI attributes (core.schema), which slapd knows
// but does not list.
const RFC_MATCHING_RULES = [
  "( 2.5.13.22 NAME 'presentationAddressMatch' SYNTAX 1.3.6.1.4.1.1466.115.121.1.43 )",
  "( 2.5.13.24 NAME 'protocolInformationMatch' SYNTAX 1.3.6.1.4.1.1466.115.121.1.42 )",
];

const SLAPD_ONLY = [/^1\.3\.6\.1\.4\.1\.4203\.666\./, /^1\.3\.6\.1\.4\.1\.4203\.1\.12\.2\./, /^1\.3\.6\.1\.4\.1\.4203\.1\.4\.1$/, /^1\.3\.6\.1\.4\.1\.42\.2\.27\.8\./];
const AD_CLASSES = ['mstop', 'user', 'group', 'container'];
// Attributes of AD's securityPrincipal auxiliary class ([MS-ADSC] §2.241), which every AD user
// and group carries and msuser.schema does not define: Keyhaven serves the first three, and
// AD clients (SSSD's ad provider, Samba tools, ldap3's ad2012 helpers) ask for the others.
const AD_ATTRIBUTES = ['sAMAccountName', 'sAMAccountType', 'objectSid', 'tokenGroups', 'tokenGroupsGlobalAndUniversal', 'sIDHistory'];

// RFC 4512 §4.1 descriptions ---------------------------------------------------------------

type Token = { kind: 'word' | 'q'; text: string } | { kind: '(' | ')' | '$' };

function tokens(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ') i++;
    else if (c === '(' || c === ')' || c === '$') { out.push({ kind: c }); i++; }
    else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated quote in ${text}`);
      out.push({ kind: 'q', text: text.slice(i + 1, end).replace(/\\5C/gi, '\\').replace(/\\27/g, "'") });
      i = end + 1;
    } else {
      let j = i;
      while (j < text.length && !' ()$\''.includes(text[j]!)) j++;
      out.push({ kind: 'word', text: text.slice(i, j) });
      i = j;
    }
  }
  return out;
}

/** The description as keyword → values (a list where the grammar allows one). */
function fields(text: string): { oid: string; keys: Map<string, string[]>; order: string[] } {
  const t = tokens(text);
  if (t[0]?.kind !== '(' || t.at(-1)?.kind !== ')' || t[1]?.kind !== 'word') throw new Error(`not a description: ${text}`);
  const keys = new Map<string, string[]>();
  const order: string[] = [];
  let i = 2;
  while (i < t.length - 1) {
    const k = t[i]!;
    if (k.kind !== 'word') throw new Error(`unexpected token in ${text}`);
    i++;
    const values: string[] = [];
    const next = t[i];
    if (next?.kind === '(') {
      i++;
      while (t[i] && t[i]!.kind !== ')') {
        const v = t[i]!;
        if (v.kind === 'word' || v.kind === 'q') values.push(v.text);
        i++;
      }
      i++;
    } else if (next?.kind === 'q' || (next?.kind === 'word' && !/^[A-Z][A-Z-]*$/.test(next.text))) {
      values.push(next.text);
      i++;
    }
    keys.set(k.text, values);
    order.push(k.text);
  }
  return { oid: (t[1] as { text: string }).text, keys, order };
}

const one = (keys: Map<string, string[]>, k: string) => keys.get(k)?.[0];

function parseAttributeType(text: string): AttributeTypeDefinition {
  const { oid, keys } = fields(text);
  const t: AttributeTypeDefinition = { oid, names: keys.get('NAME') ?? [] };
  const set = <K extends keyof AttributeTypeDefinition>(k: K, v: AttributeTypeDefinition[K] | undefined) => { if (v !== undefined) (t as unknown as Record<string, unknown>)[k] = v; };
  set('desc', one(keys, 'DESC'));
  set('obsolete', keys.has('OBSOLETE') ? true : undefined);
  set('sup', one(keys, 'SUP'));
  set('equality', one(keys, 'EQUALITY'));
  set('ordering', one(keys, 'ORDERING'));
  set('substr', one(keys, 'SUBSTR'));
  set('syntax', one(keys, 'SYNTAX'));
  set('singleValue', keys.has('SINGLE-VALUE') ? true : undefined);
  set('collective', keys.has('COLLECTIVE') ? true : undefined);
  set('noUserModification', keys.has('NO-USER-MODIFICATION') ? true : undefined);
  set('usage', one(keys, 'USAGE') as AttributeTypeDefinition['usage']);
  return t;
}

function parseObjectClass(text: string): ObjectClassDefinition {
  const { oid, keys } = fields(text);
  const kind = keys.has('AUXILIARY') ? 'AUXILIARY' : keys.has('ABSTRACT') ? 'ABSTRACT' : 'STRUCTURAL';
  const o: Record<string, unknown> = { oid, names: keys.get('NAME') ?? [] };
  if (keys.has('DESC')) o.desc = one(keys, 'DESC');
  if (keys.has('OBSOLETE')) o.obsolete = true;
  if (keys.has('SUP')) o.sup = keys.get('SUP');
  o.kind = kind;
  if (keys.has('MUST')) o.must = keys.get('MUST');
  if (keys.has('MAY')) o.may = keys.get('MAY');
  return o as unknown as ObjectClassDefinition;
}

function parseSyntax(text: string): SyntaxDefinition {
  const { oid, keys, order } = fields(text);
  const s: SyntaxDefinition = { oid };
  if (keys.has('DESC')) (s as { desc?: string }).desc = one(keys, 'DESC');
  const ext = order.filter((k) => k.startsWith('X-')).map((k) => [k, one(keys, k)!] as const);
  if (ext.length > 0) (s as { extensions?: unknown }).extensions = ext;
  return s;
}

function parseMatchingRule(text: string): MatchingRuleDefinition {
  const { oid, keys } = fields(text);
  const r: MatchingRuleDefinition = { oid, names: keys.get('NAME') ?? [], syntax: one(keys, 'SYNTAX')! };
  if (keys.has('DESC')) return { oid, names: r.names, desc: one(keys, 'DESC')!, syntax: r.syntax };
  return r;
}

function roundTrip<T>(text: string, parse: (s: string) => T, describe: (d: T) => string): T {
  const d = parse(text);
  const again = describe(d);
  if (again !== text) throw new Error(`definitions.ts does not reproduce slapd's text:\n slapd: ${text}\n ours:  ${again}`);
  return d;
}

// slapd --------------------------------------------------------------------------------------

function subschemaOf(includes: string[]): Record<string, string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'keyhaven-schemagen-'));
  const socket = join(dir, 'ldapi');
  const conf = join(dir, 'slapd.conf');
  writeFileSync(conf, [...includes.map((f) => `include ${f}`), `pidfile ${join(dir, 'slapd.pid')}`, ''].join('\n'));
  const url = `ldapi://${encodeURIComponent(socket)}`;
  const slapd = spawn('/usr/sbin/slapd', ['-f', conf, '-h', url, '-d', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  slapd.stderr.on('data', (d: Buffer) => (stderr += d));
  try {
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        const ldif = execFileSync('ldapsearch', ['-x', '-LLL', '-o', 'ldif-wrap=no', '-H', url, '-b', 'cn=Subschema', '-s', 'base', '(objectClass=*)',
          'attributeTypes', 'objectClasses', 'ldapSyntaxes', 'matchingRules'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
        const out: Record<string, string[]> = { attributeTypes: [], objectClasses: [], ldapSyntaxes: [], matchingRules: [] };
        for (const line of ldif.split('\n')) {
          const m = /^(attributeTypes|objectClasses|ldapSyntaxes|matchingRules): (.*)$/.exec(line);
          if (m) out[m[1]!]!.push(m[2]!);
        }
        return out;
      } catch (err) {
        if (slapd.exitCode !== null || Date.now() > deadline) {
          // slapd -Tt (slaptest) says what in the configuration it refused.
          let why = stderr;
          try { execFileSync('/usr/sbin/slapd', ['-Tt', '-f', conf], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }); } catch (e) { why = String((e as { stderr?: string }).stderr ?? e); }
          throw new Error(`slapd with ${includes.join(', ')} did not answer: ${why || String(err)}`);
        }
        execFileSync('sleep', ['0.2']);
      }
    }
  } finally {
    slapd.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

// Output -------------------------------------------------------------------------------------

/** A TypeScript literal in the house style: single quotes, `{ key: value }`. */
function literal(value: unknown): string {
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (Array.isArray(value)) return `[${value.map(literal).join(', ')}]`;
  if (value !== null && typeof value === 'object') return `{ ${Object.entries(value).map(([k, v]) => `${k}: ${literal(v)}`).join(', ')} }`;
  return String(value);
}

function writeModule(layer: Layer, attributeTypes: AttributeTypeDefinition[], objectClasses: ObjectClassDefinition[]): void {
  const lines = [
    `// Generated by scripts/generate-ldap-schema.ts from slapd's subschema: ${layer.source}.`,
    '// Do not edit by hand: change the script or its inputs and run it again.',
    "import type { SchemaModule } from './definitions.js';",
    '',
    `export const ${layer.constName}: SchemaModule = {`,
    `  source: ${literal(layer.source)},`,
    '  attributeTypes: [',
    ...attributeTypes.map((t) => `    ${literal(t)},`),
    '  ],',
    '  objectClasses: [',
    ...objectClasses.map((c) => `    ${literal(c)},`),
    '  ],',
    '};',
    '',
  ];
  writeFileSync(join(OUT, `${layer.module}.ts`), lines.join('\n'));
}

function main(): void {
  const seenTypes = new Set<string>();
  const seenClasses = new Set<string>();
  const includes: string[] = [];
  let syntaxes: SyntaxDefinition[] = [];
  let rules: MatchingRuleDefinition[] = [];
  const layers = new Map<string, { types: AttributeTypeDefinition[]; classes: ObjectClassDefinition[] }>();
  const slapdOnly = (d: { oid: string; names: readonly string[] }) => SLAPD_ONLY.some((re) => re.test(d.oid)) || d.names.some((n) => /^olc/.test(n));
  for (const layer of LAYERS) {
    if (layer.file) includes.push(layer.file);
    const s = subschemaOf(includes);
    if (!layer.file) {
      s.attributeTypes!.push(...RFC_ATTRIBUTE_TYPES);
      syntaxes = s.ldapSyntaxes!.map((x) => roundTrip(x, parseSyntax, describeSyntax));
      rules = [...s.matchingRules!, ...RFC_MATCHING_RULES].map((x) => roundTrip(x, parseMatchingRule, describeMatchingRule));
    }
    const types = s.attributeTypes!.filter((x) => !/NAME '?olc/.test(x)).map((x) => roundTrip(x, parseAttributeType, describeAttributeType)).filter((t) => !seenTypes.has(t.oid));
    const classes = s.objectClasses!.filter((x) => !/NAME '?olc/.test(x)).map((x) => roundTrip(x, parseObjectClass, describeObjectClass)).filter((c) => !seenClasses.has(c.oid));
    for (const t of types) seenTypes.add(t.oid);
    for (const c of classes) seenClasses.add(c.oid);
    layers.set(layer.module, { types: types.filter((t) => !slapdOnly(t)), classes: classes.filter((c) => !slapdOnly(c)) });
  }

  // Active Directory: the served classes, and the closure of the attributes they name.
  const ms = layers.get('msuser')!;
  ms.classes = ms.classes.filter((c) => AD_CLASSES.includes(c.names[0]!));
  const byName = new Map<string, AttributeTypeDefinition>();
  for (const { types } of layers.values()) for (const t of types) for (const n of [t.oid, ...t.names]) byName.set(n.toLowerCase(), t);
  const keep = new Set<string>();
  const missing = new Set<string>();
  const want = (name: string) => {
    const t = byName.get(name.toLowerCase());
    if (!t) return void missing.add(name);
    if (keep.has(t.oid)) return;
    keep.add(t.oid);
    if (t.sup) want(t.sup);
  };
  for (const { classes } of layers.values()) for (const c of classes) for (const a of [...(c.must ?? []), ...(c.may ?? [])]) want(a);
  for (const a of AD_ATTRIBUTES) want(a);
  if (missing.size > 0) throw new Error(`classes name undefined attributes: ${[...missing].join(', ')}`);
  ms.types = ms.types.filter((t) => keep.has(t.oid));

  // Operational, as Root DSE attributes are (slapd loads no operational type from a file).
  const kh = layers.get('keyhaven')!;
  kh.types = kh.types.map((t) => (t.names[0] === 'defaultNamingContext' ? { ...t, noUserModification: true as const, usage: 'dSAOperation' as const } : t));

  // RFC 2307bis: posixGroup is auxiliary.
  const nis = layers.get('nis')!;
  nis.classes = nis.classes.map((c) => (c.names[0] === 'posixGroup' ? { ...c, kind: 'AUXILIARY' as const } : c));

  // Every syntax and matching rule an attribute type names is listed (RFC 4512 §4.2).
  const listed = new Set(syntaxes.map((x) => x.oid));
  const ruleNames = new Set(rules.flatMap((r) => [r.oid, ...r.names].map((n) => n.toLowerCase())));
  for (const { types } of layers.values()) {
    for (const t of types) {
      const syntax = t.syntax?.replace(/\{\d+\}$/, '');
      if (syntax && !listed.has(syntax)) {
        const desc = RFC_SYNTAXES[syntax];
        if (!desc) throw new Error(`${t.names[0]}: syntax ${syntax} is neither slapd's nor in RFC_SYNTAXES`);
        syntaxes.push({ oid: syntax, desc });
        listed.add(syntax);
      }
      for (const r of [t.equality, t.ordering, t.substr]) if (r && !ruleNames.has(r.toLowerCase())) throw new Error(`${t.names[0]}: matching rule ${r} is not listed`);
    }
  }

  for (const layer of LAYERS) {
    const p = layers.get(layer.module)!;
    writeModule(layer, p.types, p.classes);
    console.log(`${layer.module}: ${p.types.length} attribute types, ${p.classes.length} object classes`);
  }
  const syntaxLines = [
    "// Generated by scripts/generate-ldap-schema.ts from slapd 2.5's built-in ldapSyntaxes and matchingRules",
    '// (RFC 4517, RFC 4530, RFC 2307, Active Directory\'s bitwise rules). Do not edit by hand.',
    "import type { MatchingRuleDefinition, SyntaxDefinition } from './definitions.js';",
    '',
    'export const LDAP_SYNTAXES: readonly SyntaxDefinition[] = [',
    ...syntaxes.map((x) => `  ${literal(x)},`),
    '];',
    '',
    'export const MATCHING_RULES: readonly MatchingRuleDefinition[] = [',
    ...rules.map((x) => `  ${literal(x)},`),
    '];',
    '',
  ];
  writeFileSync(join(OUT, 'syntaxes.ts'), syntaxLines.join('\n'));
  console.log(`syntaxes: ${syntaxes.length} syntaxes, ${rules.length} matching rules`);
}

main();
