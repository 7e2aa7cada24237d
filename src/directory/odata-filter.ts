// A strict parser for the part of OData's $filter (OData 4.01 URL Conventions §5.1.1) that
// Microsoft Graph supports on directory objects without "advanced queries":
//
//   filter   := or
//   or       := and ('or' and)*
//   and      := primary ('and' primary)*
//   primary  := '(' or ')'
//             | 'startswith' '(' property ',' string ')'
//             | property ('eq' | 'ne') literal
//             | property 'in' '(' literal (',' literal)* ')'
//   literal  := string ('' escapes a quote) | true | false | null | integer
//   property := name ('/' name)*         e.g. keyhavenPosix/uidNumber
//
// Properties are allowlisted per entity and typed; each maps to a column. The output is a
// storage RowFilter whose values are only ever bound parameters, so text such as
// `displayName eq 'x' or 1 eq 1` is an error here (a literal cannot stand where a property
// must) and `'a'') or (''1''=''1'` is just a string. Input length, nesting depth and the
// number of comparisons are bounded, so no input can make the recursive descent deep or the
// SQL large. Errors are InvalidInputError KH_ODATA_FILTER_INVALID, "Invalid filter clause"
// as Graph words it (HTTP 400, code BadRequest), with the position of the problem.
import { InvalidInputError } from '../errors.js';
import type { FilterScalar, RowFilter } from '../storage/row-filter.js';

export type FilterFieldType = 'string' | 'boolean' | 'integer' | 'id';

/** Graph property path → column and type; only these may appear in a filter. */
export type FilterFields = Readonly<Record<string, { column: string; type: FilterFieldType }>>;

export const MAX_FILTER_LENGTH = 2048;
export const MAX_FILTER_DEPTH = 16;
export const MAX_FILTER_TERMS = 64;
/** Graph's own limit for the `in` operator. */
export const MAX_IN_VALUES = 15;

type Token =
  | { t: 'name'; v: string; at: number }
  | { t: 'string'; v: string; at: number }
  | { t: 'int'; v: number; at: number }
  | { t: '(' | ')' | ','; at: number }
  | { t: 'end'; at: number };

export function parseFilter(text: string, fields: FilterFields): RowFilter {
  if (typeof text !== 'string') throw invalid('the filter must be text');
  if (text.length > MAX_FILTER_LENGTH) throw invalid(`the filter is longer than ${MAX_FILTER_LENGTH} characters`);
  if (text.trim() === '') throw invalid('the filter is empty');
  // NUL and other control characters have no place in a filter (PostgreSQL rejects NUL in text).
  if (/\p{Cc}/u.test(text.replace(/\t/g, ' '))) throw invalid('the filter contains control characters');
  return new Parser(tokenize(text), fields).parse();
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t') { i++; continue; }
    if (c === '(' || c === ')' || c === ',') { tokens.push({ t: c, at: i }); i++; continue; }
    if (c === "'") {
      const start = i;
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw invalid(`unterminated string starting at position ${start}`);
        if (text[i] === "'") {
          if (text[i + 1] === "'") { value += "'"; i += 2; continue; }
          i++;
          break;
        }
        value += text[i];
        i++;
      }
      tokens.push({ t: 'string', v: value, at: start });
      continue;
    }
    const number = /^-?\d{1,10}(?![\w.])/.exec(text.slice(i, i + 12));
    if (number) {
      tokens.push({ t: 'int', v: Number(number[0]), at: i });
      i += number[0].length;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]{0,63}(?:\/[A-Za-z_][A-Za-z0-9_]{0,63}){0,3}/.exec(text.slice(i, i + 260));
    if (name) {
      tokens.push({ t: 'name', v: name[0], at: i });
      i += name[0].length;
      continue;
    }
    throw invalid(`unexpected character at position ${i}`);
  }
  tokens.push({ t: 'end', at: text.length });
  return tokens;
}

class Parser {
  #pos = 0;
  #depth = 0;
  #terms = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly fields: FilterFields,
  ) {}

  parse(): RowFilter {
    const tree = this.#or();
    const rest = this.#peek();
    if (rest.t !== 'end') throw invalid(`unexpected ${describe(rest)} at position ${rest.at}`);
    return tree;
  }

  #or(): RowFilter {
    const operands = [this.#and()];
    while (this.#keyword('or')) operands.push(this.#and());
    return operands.length === 1 ? operands[0]! : { kind: 'or', operands };
  }

  #and(): RowFilter {
    const operands = [this.#primary()];
    while (this.#keyword('and')) operands.push(this.#primary());
    return operands.length === 1 ? operands[0]! : { kind: 'and', operands };
  }

  #primary(): RowFilter {
    const token = this.#next();
    if (token.t === '(') {
      if (++this.#depth > MAX_FILTER_DEPTH) throw invalid(`parentheses are nested deeper than ${MAX_FILTER_DEPTH}`);
      const inner = this.#or();
      this.#expect(')');
      this.#depth--;
      return inner;
    }
    if (token.t !== 'name') throw invalid(`expected a property name at position ${token.at}, found ${describe(token)}`);
    this.#countTerm();
    if (token.v.toLowerCase() === 'startswith' && this.#peek().t === '(') {
      this.#next();
      const field = this.#field(this.#next());
      if (field.type !== 'string') throw invalid(`startswith applies to text properties only (position ${token.at})`);
      this.#expect(',');
      const prefix = this.#next();
      if (prefix.t !== 'string') throw invalid(`startswith needs a quoted string at position ${prefix.at}`);
      this.#expect(')');
      return { kind: 'startsWith', column: field.column, prefix: prefix.v };
    }
    const field = this.#field(token);
    const op = this.#next();
    const opName = op.t === 'name' ? op.v.toLowerCase() : '';
    if (opName === 'eq' || opName === 'ne') {
      return { kind: 'compare', op: opName, column: field.column, value: this.#literal(field) };
    }
    if (opName === 'in') {
      this.#expect('(');
      const values: (string | number)[] = [];
      do {
        const value = this.#literal(field);
        if (value === null || typeof value === 'boolean') throw invalid(`in takes text or numbers (position ${op.at})`);
        values.push(value);
        if (values.length > MAX_IN_VALUES) throw invalid(`in takes at most ${MAX_IN_VALUES} values`);
      } while (this.#comma());
      this.#expect(')');
      return { kind: 'in', column: field.column, values };
    }
    throw invalid(`expected eq, ne or in at position ${op.at}, found ${describe(op)}`);
  }

  #field(token: Token): { column: string; type: FilterFieldType } {
    if (token.t !== 'name') throw invalid(`expected a property name at position ${token.at}, found ${describe(token)}`);
    // Own properties only: "constructor" or "__proto__" must not resolve through the prototype.
    const field = Object.prototype.hasOwnProperty.call(this.fields, token.v) ? this.fields[token.v] : undefined;
    if (!field) throw invalid(`the property '${token.v}' does not exist or cannot be filtered on`);
    return field;
  }

  /** A literal that fits the property's type. */
  #literal(field: { type: FilterFieldType }): FilterScalar {
    const token = this.#next();
    if (token.t === 'name') {
      const word = token.v.toLowerCase();
      if (word === 'null') return null;
      if ((word === 'true' || word === 'false') && field.type === 'boolean') return word === 'true';
      throw invalid(`expected a ${field.type} value at position ${token.at}, found ${describe(token)}`);
    }
    if (token.t === 'string' && (field.type === 'string' || field.type === 'id')) {
      return field.type === 'id' ? token.v.toLowerCase() : token.v;
    }
    if (token.t === 'int' && field.type === 'integer') {
      // Integer columns are 32-bit on PostgreSQL: a larger literal would be a database error.
      if (token.v < -(2 ** 31) || token.v > 2 ** 31 - 1) throw invalid(`the number at position ${token.at} is out of range`);
      return token.v;
    }
    throw invalid(`expected a ${field.type} value at position ${token.at}, found ${describe(token)}`);
  }

  #countTerm(): void {
    if (++this.#terms > MAX_FILTER_TERMS) throw invalid(`the filter has more than ${MAX_FILTER_TERMS} conditions`);
  }

  #keyword(word: string): boolean {
    const token = this.#peek();
    if (token.t === 'name' && token.v.toLowerCase() === word) {
      this.#pos++;
      return true;
    }
    return false;
  }

  #comma(): boolean {
    if (this.#peek().t !== ',') return false;
    this.#pos++;
    return true;
  }

  #expect(t: '(' | ')' | ','): void {
    const token = this.#next();
    if (token.t !== t) throw invalid(`expected '${t}' at position ${token.at}, found ${describe(token)}`);
  }

  #peek(): Token {
    return this.tokens[this.#pos]!;
  }

  #next(): Token {
    const token = this.tokens[this.#pos]!;
    if (token.t !== 'end') this.#pos++;
    return token;
  }
}

function describe(token: Token): string {
  switch (token.t) {
    case 'end': return 'the end of the filter';
    case 'name': return `'${token.v}'`;
    case 'string': return 'a string';
    case 'int': return 'a number';
    default: return `'${token.t}'`;
  }
}

function invalid(reason: string): InvalidInputError {
  return new InvalidInputError('KH_ODATA_FILTER_INVALID', `Invalid filter clause: ${reason}.`);
}
