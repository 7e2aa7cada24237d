// The other OData query options Graph's directory collections take: $select (a comma list of
// property names; unknown ones are an error, as Graph answers 400 "Could not find a property
// named 'x' on type 'microsoft.graph.user'"), $top (1..999, Graph's maximum page for users
// and groups) and $skiptoken (the opaque paging token Graph puts in @odata.nextLink). Our
// token is base64url JSON of a keyset position that is checked strictly on the way back in —
// a kind tag, an ISO timestamp, an object id — and only ever bound as SQL parameters, so an
// edited token is refused (400) and can never become SQL. It carries no filter: a client
// that changes $filter between pages simply continues from the same position.
import { InvalidInputError, PreconditionFailedError } from '../errors.js';

export const DEFAULT_TOP = 100;
export const MAX_TOP = 999;

const OBJECT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const MAX_TOKEN_LENGTH = 256;

/** Query options as a face received them (strings from the URL, or already typed). */
export interface ListOptions {
  filter?: string | undefined;
  select?: string | readonly string[] | undefined;
  top?: number | string | undefined;
  skipToken?: string | undefined;
}

/** One page of a collection: Graph's `value`, and the token for @odata.nextLink if more follow. */
export interface ListResult<T> {
  value: T[];
  nextSkipToken?: string;
}

export function isObjectId(value: unknown): value is string {
  return typeof value === 'string' && OBJECT_ID.test(value);
}

export function parseTop(top: number | string | undefined): number {
  if (top === undefined || top === '') return DEFAULT_TOP;
  const n = typeof top === 'number' ? top : /^\d{1,4}$/.test(top) ? Number(top) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_TOP) {
    throw new InvalidInputError('KH_ODATA_TOP_INVALID', `Invalid page size specified: $top must be an integer from 1 to ${MAX_TOP}.`);
  }
  return n;
}

/** The selected property names, each checked against `allowed`; undefined selects everything. */
export function parseSelect(select: string | readonly string[] | undefined, allowed: readonly string[], typeName: string): string[] | undefined {
  if (select === undefined) return undefined;
  const names = (typeof select === 'string' ? select.split(',') : [...select]).map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length === 0 || names.length > 64) {
    throw new InvalidInputError('KH_ODATA_SELECT_INVALID', 'Invalid $select: give between 1 and 64 property names.');
  }
  for (const name of names) {
    if (!allowed.includes(name)) {
      throw new InvalidInputError('KH_ODATA_SELECT_INVALID', `Could not find a property named '${name.slice(0, 64)}' on type '${typeName}'.`);
    }
  }
  return [...new Set(names)];
}

/** Keeps the selected properties; OData annotations (`@odata.type`, `@odata.etag`) always stay. */
export function project<T extends object>(object: T, select: readonly string[] | undefined): Partial<T> {
  if (select === undefined) return object;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) {
    if (key.startsWith('@odata.') || select.includes(key)) out[key] = value;
  }
  return out as Partial<T>;
}

export interface CreationPosition {
  createdAt: string;
  id: string;
}

export function encodeCreationToken(pos: CreationPosition): string {
  return Buffer.from(JSON.stringify(['c', pos.createdAt, pos.id])).toString('base64url');
}

export function encodeIdToken(id: string): string {
  return Buffer.from(JSON.stringify(['i', id])).toString('base64url');
}

export function decodeCreationToken(token: string | undefined): CreationPosition | undefined {
  if (token === undefined) return undefined;
  const parts = decode(token);
  if (parts.length !== 3 || parts[0] !== 'c' || !ISO_TIME.test(parts[1]!) || !OBJECT_ID.test(parts[2]!)) throw badToken();
  return { createdAt: parts[1]!, id: parts[2]! };
}

export function decodeIdToken(token: string | undefined): string | undefined {
  if (token === undefined) return undefined;
  const parts = decode(token);
  if (parts.length !== 2 || parts[0] !== 'i' || !OBJECT_ID.test(parts[1]!)) throw badToken();
  return parts[1]!;
}

function decode(token: string): string[] {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+$/.test(token)) throw badToken();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw badToken();
  }
  if (!Array.isArray(parsed) || !parsed.every((p) => typeof p === 'string')) throw badToken();
  return parsed as string[];
}

function badToken(): InvalidInputError {
  return new InvalidInputError('KH_ODATA_SKIPTOKEN_INVALID', 'The $skiptoken is not valid. Start again from the first page.');
}

/** A weak entity tag for an object's version, as HTTP faces send it in ETag / @odata.etag. */
export function etagOf(version: number): string {
  return `W/"${version}"`;
}

/** The version an If-Match header names (`W/"3"`, `"3"` or `3`); anything else is refused. */
export function parseEtag(ifMatch: string): number {
  const m = /^(?:W\/)?"?(\d{1,9})"?$/.exec(ifMatch.trim());
  if (!m) throw new PreconditionFailedError('KH_ETAG_INVALID', 'The If-Match header does not name a version of this resource.');
  return Number(m[1]);
}
