// The request path as ARM segments. Read from the raw URL, not Fastify's decoded route
// parameters, so that an encoded slash or backslash (`%2F`, `%5C`) is refused instead of
// becoming a segment boundary after routing, and `..` — plain or encoded — never names a
// parent. Each segment is then percent-decoded once and checked (resource-id.ts).
import { checkSegment, invalidId } from '../../resources/resource-id.js';

const MAX_PATH = 4096;

export function armSegments(rawUrl: string): string[] {
  const path = rawUrl.split('?')[0]!.split('#')[0]!;
  if (path.length > MAX_PATH) throw invalidId('The request path is too long.');
  if (/%(2f|5c|00)/i.test(path)) throw invalidId('The request path holds an encoded slash, backslash or NUL.');
  const raw = path.split('/').slice(1);
  // ARM tolerates one trailing slash.
  if (raw.length > 0 && raw[raw.length - 1] === '') raw.pop();
  return raw.map((segment) => {
    checkSegment(segment);
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      throw invalidId('The request path holds an invalid percent-encoding.');
    }
    checkSegment(decoded);
    return decoded;
  });
}

/** The query parameter as one string, or undefined; given twice is refused by the caller's check. */
export function queryValue(query: unknown, name: string): unknown {
  return (query as Record<string, unknown> | undefined)?.[name];
}
