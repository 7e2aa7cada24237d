// The OData system query options of one request, read from the query string. Graph's directory
// collections take $filter, $select, $top and $skiptoken (the core parses and checks their
// values: directory/odata-filter.ts and odata-query.ts); a single object takes $select. OData
// 4.01 URL Conventions §5.1 makes option names case-insensitive, so `$Top` is `$top`. Each
// option may appear once: a repeated one is refused, never merged or silently first-wins.
// Options Graph has but Keyhaven does not ($orderby, $search, $expand, $count=true, …) are
// refused with Graph's Request_UnsupportedQuery rather than ignored, so a client never reads
// an unfiltered or unordered answer as the one it asked for. Parameters without `$` (such as
// api-version) are not OData options and are ignored, as Graph does.
import type { FastifyRequest } from 'fastify';
import { InvalidInputError } from '../../errors.js';
import type { ListOptions } from '../../directory/odata-query.js';

export type ODataOption = '$filter' | '$select' | '$top' | '$skiptoken';

/** What one route accepts. */
export type Accepts = readonly ODataOption[];

export const COLLECTION: Accepts = ['$filter', '$select', '$top', '$skiptoken'];
/** Navigation collections (members, memberOf, …): Graph filters these only with advanced queries. */
export const NAVIGATION: Accepts = ['$select', '$top', '$skiptoken'];
export const ENTITY: Accepts = ['$select'];
export const NONE: Accepts = [];

const KNOWN = new Set<string>([
  '$filter', '$select', '$top', '$skiptoken', '$orderby', '$search', '$expand', '$count', '$skip', '$format', '$levels', '$apply', '$compute', '$index', '$schemaversion', '$deltatoken',
]);

export interface ODataParams {
  options: ListOptions;
  /** The options as received (canonical lower-case names), to rebuild @odata.nextLink. */
  given: ReadonlyMap<ODataOption, string>;
}

function printable(text: string): string {
  return text.slice(0, 64).replace(/[^\x20-\x7e]/g, '?');
}

export function odataParams(request: FastifyRequest, accepts: Accepts): ODataParams {
  const query = (request.query ?? {}) as Record<string, string | string[] | undefined>;
  const given = new Map<ODataOption, string>();
  const seen = new Set<string>();
  for (const [rawName, value] of Object.entries(query)) {
    if (!rawName.startsWith('$')) continue;
    const name = rawName.toLowerCase();
    if (Array.isArray(value) || seen.has(name)) {
      throw new InvalidInputError('KH_GRAPH_QUERY_INVALID', `Query option '${printable(name)}' was specified more than once, but it must be specified at most once.`);
    }
    seen.add(name);
    if (!KNOWN.has(name)) {
      throw new InvalidInputError('KH_GRAPH_QUERY_INVALID', `The query parameter '${printable(rawName)}' is not supported.`);
    }
    // $count=false asks for nothing; Graph accepts it anywhere.
    if (name === '$count' && value === 'false') continue;
    if (!(accepts as readonly string[]).includes(name)) {
      throw new InvalidInputError('KH_GRAPH_QUERY_UNSUPPORTED', `The query option '${printable(name)}' is not supported on this resource.`);
    }
    given.set(name as ODataOption, value ?? '');
  }
  const options: ListOptions = {};
  if (given.has('$filter')) options.filter = given.get('$filter');
  if (given.has('$select')) options.select = given.get('$select');
  if (given.has('$top')) options.top = given.get('$top');
  if (given.has('$skiptoken')) options.skipToken = given.get('$skiptoken');
  return { options, given };
}

/** The query string of the next page: the same options, with the new $skiptoken. */
export function nextQuery(given: ReadonlyMap<ODataOption, string>, skipToken: string): string {
  const parts: string[] = [];
  for (const [name, value] of given) {
    if (name !== '$skiptoken') parts.push(`${name}=${encodeURIComponent(value)}`);
  }
  parts.push(`$skiptoken=${encodeURIComponent(skipToken)}`);
  return parts.join('&');
}

/** The selected names as given (already checked by the core), for the @odata.context URL. */
export function selectedNames(select: string | readonly string[] | undefined): string[] | undefined {
  if (select === undefined) return undefined;
  const names = (typeof select === 'string' ? select.split(',') : [...select]).map((s) => s.trim()).filter((s) => s !== '');
  return names.length === 0 ? undefined : [...new Set(names)];
}
