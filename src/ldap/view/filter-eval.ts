// RFC 4511 §4.5.1.7 filter evaluation with three-valued logic: every item is TRUE, FALSE or
// Undefined; AND is FALSE if any part is FALSE, else Undefined if any is, else TRUE; OR the
// mirror image; NOT swaps TRUE and FALSE and keeps Undefined. An entry is returned only when
// the whole filter is TRUE. Each attribute is compared with its own matching rule
// (schema.ts), so `member` and `memberOf` values match as DNs, `uidNumber` as an integer,
// `mail` ignoring case. Active Directory's extensible rules are served too:
// 1.2.840.113556.1.4.1941 LDAP_MATCHING_RULE_IN_CHAIN (transitive membership, through
// `member` or `memberOf`; the caller pre-resolves the chain for the assertion's DN) and
// 1.2.840.113556.1.4.803 / .804 (bitwise AND / OR on an integer, as on userAccountControl).
import { categoryOfShortName } from './object-category.js';
import type { LdapAttribute } from '../ldap-directory.js';
import type { ParsedDn } from './distinguished-name.js';
import type { FilterNode } from './filter-ast.js';
import { matchApprox, matchEquality, matchOrdering, matchSubstrings, RULE_BY_ID, type Tri } from './matching-rules.js';
import { attributeType, importedType, type AttributeType, type MatchingRule } from './schema.js';

export const IN_CHAIN = '1.2.840.113556.1.4.1941';
export const BIT_AND = '1.2.840.113556.1.4.803';
export const BIT_OR = '1.2.840.113556.1.4.804';

export interface EvalEntry {
  /** The directory object id behind the entry (users and groups), for IN_CHAIN. */
  id?: string | undefined;
  dn?: ParsedDn | undefined;
  /** Keyed by lower-cased attribute name. */
  attributes: ReadonlyMap<string, LdapAttribute>;
}

export interface EvalContext {
  /**
   * For IN_CHAIN on `memberof` (value: a group DN): ids of every object in that group,
   * transitively. On `member` (value: any DN): ids of every group that object is in,
   * transitively. Undefined when the DN names nothing.
   */
  inChain(attribute: 'memberof' | 'member', valueDn: string): ReadonlySet<string> | undefined;
}

export function evaluate(node: FilterNode, entry: EvalEntry, ctx: EvalContext): Tri {
  switch (node.op) {
    case 'and': {
      let result: Tri = true;
      for (const item of node.items) {
        const r = evaluate(item, entry, ctx);
        if (r === false) return false;
        if (r === undefined) result = undefined;
      }
      return result;
    }
    case 'or': {
      let result: Tri = false;
      for (const item of node.items) {
        const r = evaluate(item, entry, ctx);
        if (r === true) return true;
        if (r === undefined) result = undefined;
      }
      return result;
    }
    case 'not': {
      const r = evaluate(node.item, entry, ctx);
      return r === undefined ? undefined : !r;
    }
    case 'present':
      // An entry without the attribute (a defined type or not) simply does not have it.
      return (entry.attributes.get(node.attr.toLowerCase())?.values.length ?? 0) > 0;
    case 'eq':
    case 'ge':
    case 'le':
    case 'approx':
    case 'sub':
      return evaluateItem(node, entry);
    case 'ext':
      return evaluateExtensible(node, entry, ctx);
  }
}

/** The type of an attribute description on this entry: the schema's, an imported attribute's, or undefined. */
function typeOn(entry: EvalEntry, description: string): { type: AttributeType; values: (string | Buffer)[] } | undefined {
  const attr = entry.attributes.get(description.toLowerCase());
  const known = attributeType(description);
  if (known) {
    // Aliases (`commonName`, `surname`) and OIDs reach the value under its served name.
    const values = attr?.values ?? entry.attributes.get(known.name.toLowerCase())?.values ?? [];
    return { type: known, values };
  }
  if (!attr) return undefined;
  return { type: importedType(attr.name, attr.values.some((v) => Buffer.isBuffer(v))), values: attr.values };
}

function evaluateItem(node: Extract<FilterNode, { op: 'eq' | 'ge' | 'le' | 'approx' | 'sub' }>, entry: EvalEntry): Tri {
  const on = typeOn(entry, node.attr);
  if (!on) return undefined;
  const { type, values } = on;
  const assertion = type.binary ? (node.op === 'sub' ? undefined : node.value) : node.op === 'sub' ? undefined : node.value.toString('utf8');
  switch (node.op) {
    case 'eq': {
      if (type.name.toLowerCase() === 'objectcategory') {
        // AD's short form: (objectCategory=person) names the class's category (object-category.ts).
        const category = categoryOfShortName(String(assertion));
        if (category === null) return false;
        if (category !== undefined) return values.some((v) => String(v).toLowerCase().startsWith(`cn=${category.toLowerCase()},cn=schema,`));
      }
      return matchEquality(type.equality, values, assertion!);
    }
    case 'approx':
      return matchApprox(type.equality, values, assertion!);
    case 'ge':
    case 'le':
      return type.ordering ? matchOrdering(type.ordering, values, assertion!, node.op === 'ge') : undefined;
    case 'sub':
      return type.substrings ? matchSubstrings(type.equality === 'caseExact' ? 'caseExact' : 'caseIgnore', values, node) : undefined;
  }
}

function evaluateExtensible(node: Extract<FilterNode, { op: 'ext' }>, entry: EvalEntry, ctx: EvalContext): Tri {
  const rule = node.rule?.toLowerCase();
  if (rule === IN_CHAIN) {
    const attr = node.attr?.toLowerCase();
    if (attr !== 'memberof' && attr !== 'member') return undefined;
    if (entry.id === undefined) return false;
    const chain = ctx.inChain(attr, node.value);
    return chain === undefined ? false : chain.has(entry.id);
  }
  if (rule === BIT_AND || rule === BIT_OR) {
    if (node.attr === undefined) return undefined;
    const on = typeOn(entry, node.attr);
    if (!on || on.type.equality !== 'integer') return undefined;
    if (!/^-?\d{1,20}$/.test(node.value.trim())) return undefined;
    const mask = BigInt.asUintN(64, BigInt(node.value.trim()));
    return on.values.some((v) => {
      const t = String(v).trim();
      if (!/^-?\d{1,20}$/.test(t)) return false;
      const bits = BigInt.asUintN(64, BigInt(t)) & mask;
      return rule === BIT_AND ? bits === mask : bits !== 0n;
    });
  }
  let matching: MatchingRule | undefined;
  if (rule !== undefined) {
    matching = RULE_BY_ID.get(rule);
    if (matching === undefined) return undefined; // a rule we do not implement: Undefined (RFC 4511 §4.5.1.7.7)
  }
  const acc: { result: Tri } = { result: false };
  const consider = (r: Tri) => {
    if (r === true) acc.result = true;
    else if (r === undefined && acc.result === false) acc.result = undefined;
  };
  if (node.attr !== undefined) {
    const on = typeOn(entry, node.attr);
    if (!on) return undefined;
    consider(matchEquality(matching ?? on.type.equality, on.values, node.value));
  } else {
    if (matching === undefined) return undefined; // RFC 4515: a rule is required when no type is given
    for (const attr of entry.attributes.values()) {
      const type = attributeType(attr.name) ?? importedType(attr.name, attr.values.some((v) => Buffer.isBuffer(v)));
      if (!compatible(type.equality, matching)) continue;
      consider(matchEquality(matching, attr.values, node.value));
      if (acc.result === true) return true;
    }
  }
  // `:dn:` — the attribute values of the entry's own RDNs take part too (RFC 4511 §4.5.1.7.7).
  if (node.dnAttributes && acc.result !== true && entry.dn) {
    for (const rdn of entry.dn.rdns) {
      for (const [type, value] of rdn.pairs) {
        if (node.attr !== undefined && (attributeType(node.attr)?.name.toLowerCase() ?? node.attr.toLowerCase()) !== (attributeType(type)?.name.toLowerCase() ?? type)) continue;
        consider(matchEquality(matching ?? attributeType(type)?.equality ?? 'caseIgnore', [value], node.value));
      }
    }
  }
  return acc.result;
}

/** Whether a rule applies to values of a syntax whose equality rule is `equality` (RFC 4512 §4.1.3 matchingRuleUse, loosely). */
function compatible(equality: MatchingRule, rule: MatchingRule): boolean {
  if (rule === 'caseIgnore' || rule === 'caseExact') return equality === 'caseIgnore' || equality === 'caseExact';
  return equality === rule;
}

/** Every attribute type a filter names (lower-cased), to know which costly attributes an evaluation needs. */
export function filterAttributes(node: FilterNode, into = new Set<string>()): Set<string> {
  switch (node.op) {
    case 'and':
    case 'or':
      for (const i of node.items) filterAttributes(i, into);
      break;
    case 'not':
      filterAttributes(node.item, into);
      break;
    case 'ext':
      if (node.attr === undefined) into.add('*');
      else into.add(canonical(node.attr));
      if (node.dnAttributes) into.add('*');
      break;
    default:
      into.add(canonical(node.attr));
  }
  return into;
}

function canonical(name: string): string {
  return attributeType(name)?.name.toLowerCase() ?? name.toLowerCase();
}

/** The IN_CHAIN assertions in a filter, to resolve once per search. */
export function inChainAssertions(node: FilterNode, into: { attribute: 'memberof' | 'member'; value: string }[] = []): { attribute: 'memberof' | 'member'; value: string }[] {
  if (node.op === 'and' || node.op === 'or') for (const i of node.items) inChainAssertions(i, into);
  else if (node.op === 'not') inChainAssertions(node.item, into);
  else if (node.op === 'ext' && node.rule === IN_CHAIN) {
    const attr = node.attr?.toLowerCase();
    if (attr === 'memberof' || attr === 'member') into.push({ attribute: attr, value: node.value });
  }
  return into;
}

/**
 * Equality assertions every matching entry must satisfy (the filter itself, or parts of a
 * top-level AND), attribute lower-cased and canonical: a search can look these up directly
 * instead of reading every entry. An OR of equalities on one attribute counts as a set.
 */
export function requiredEqualities(node: FilterNode): { attribute: string; values: string[] }[] {
  const one = (n: FilterNode): { attribute: string; values: string[] } | undefined => {
    if (n.op === 'eq') return { attribute: canonical(n.attr), values: [n.value.toString('utf8')] };
    if (n.op === 'or' && n.items.length > 0 && n.items.length <= 32) {
      const parts = n.items.map(one);
      if (parts.every((p) => p !== undefined && p.attribute === parts[0]!.attribute)) {
        return { attribute: parts[0]!.attribute, values: parts.flatMap((p) => p!.values) };
      }
    }
    return undefined;
  };
  if (node.op === 'and') return node.items.map(one).filter((x): x is { attribute: string; values: string[] } => x !== undefined);
  const single = one(node);
  return single ? [single] : [];
}

