// Search (RFC 4511 §4.5): entries are written as the view yields them, each awaiting the
// socket's drain, so a large result never builds up in memory. The size limit is the smaller
// of the client's and the server's; a paged search (RFC 2696) is capped per page instead, and
// its iterator waits on the connection for the next page. The Root DSE (RFC 4512 §5.1) is the
// view's rootDse() entry.
import { LDAP_RESULT, type LdapEntry, type SearchParams } from '../../ldap-directory.js';
import { parseSelection, selectAttributes, type AttributeSelection } from '../attribute-selection.js';
import type { OperationContext } from '../operation-context.js';
import { SUPPORTED_CONTROLS } from '../request-controls.js';
import { EXTENDED } from './extended.js';
import { findPagedControl, pagedResponseControl, type PagedSearch } from '../paged-results-control.js';
import { OP, type LdapRequest } from '../request-decoder.js';
import { encodeResult, encodeSearchEntry, type ResponseControl } from '../response-encoder.js';

type SearchRequest = Extract<LdapRequest, { type: 'search' }>;

const TIMED_OUT = Symbol('timed out');

export async function search(ctx: OperationContext, request: SearchRequest): Promise<void> {
  const selection = parseSelection(request.attributes);
  if (request.baseDn === '' && request.scope === 'base') return searchRootDse(ctx, request, selection);

  const paged = findPagedControl(ctx.controls);
  const params: SearchParams = {
    baseDn: request.baseDn,
    scope: request.scope,
    filter: request.filter,
    attributes: request.attributes,
    typesOnly: request.typesOnly,
  };
  const fingerprint = JSON.stringify([request.baseDn, request.scope, request.filter.toString(), request.attributes, request.typesOnly, ctx.connection.viewer]);

  let state: PagedSearch;
  if (paged && paged.cookie.length > 0) {
    state = ctx.connection.paged.take(paged.cookie, fingerprint);
    if (paged.size === 0) {
      // A page size of 0 with a cookie abandons the paged search (RFC 2696 §3).
      await state.iterator.return?.();
      await done(ctx, { resultCode: LDAP_RESULT.success }, [pagedResponseControl(Buffer.alloc(0))]);
      return;
    }
  } else {
    state = { iterator: ctx.directory.search(params, ctx.connection.viewer)[Symbol.asyncIterator](), fingerprint, lookahead: undefined, returned: 0 };
  }

  const serverLimit = ctx.limits.sizeLimit;
  const clientLimit = request.sizeLimit > 0 ? request.sizeLimit : Infinity;
  // A paged search's pages are capped by the server limit; its total only by the client's.
  const pageCap = paged ? Math.min(paged.size === 0 ? serverLimit : paged.size, serverLimit) : Infinity;
  const totalCap = paged ? clientLimit : Math.min(serverLimit, clientLimit);
  const timeLimitMs = Math.min(ctx.limits.timeLimitMs, request.timeLimit > 0 ? request.timeLimit * 1000 : Infinity);
  const deadline = Date.now() + timeLimitMs;

  let sent = 0;
  let keepIterator = false;
  try {
    for (;;) {
      const next = state.lookahead ?? (await pull(state.iterator, deadline));
      state.lookahead = undefined;
      if (ctx.signal.aborted) return;
      if (next === TIMED_OUT) {
        await done(ctx, { resultCode: LDAP_RESULT.timeLimitExceeded, diagnosticMessage: 'time limit exceeded' });
        return;
      }
      if (next === undefined) {
        await done(ctx, { resultCode: LDAP_RESULT.success }, paged ? [pagedResponseControl(Buffer.alloc(0))] : []);
        return;
      }
      if (state.returned >= totalCap) {
        await done(ctx, { resultCode: LDAP_RESULT.sizeLimitExceeded, diagnosticMessage: 'size limit exceeded' });
        return;
      }
      if (sent >= pageCap) {
        // More entries than this page holds: keep the iterator for the next page.
        state.lookahead = next;
        keepIterator = true;
        const cookie = ctx.connection.paged.keep(state);
        await done(ctx, { resultCode: LDAP_RESULT.success }, [pagedResponseControl(cookie)]);
        return;
      }
      const attributes = selectAttributes(next, selection);
      await ctx.reply(encodeSearchEntry({ dn: next.dn, attributes }, request.typesOnly));
      ctx.outcome.entries++;
      sent++;
      state.returned++;
    }
  } finally {
    if (!keepIterator) await state.iterator.return?.().catch(() => undefined);
  }
}

async function done(ctx: OperationContext, result: { resultCode: number; diagnosticMessage?: string }, controls: ResponseControl[] = []): Promise<void> {
  if (ctx.signal.aborted) return;
  await ctx.replyResult(encodeResult(OP.searchResultDone, result), result, controls);
}

/** The iterator's next entry, undefined at its end, or TIMED_OUT past the deadline. */
async function pull(iterator: AsyncIterator<LdapEntry>, deadline: number): Promise<LdapEntry | undefined | typeof TIMED_OUT> {
  const remaining = deadline - Date.now();
  if (remaining <= 0) return TIMED_OUT;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), remaining);
  });
  try {
    const result = await Promise.race([iterator.next(), timeout]);
    if (result === TIMED_OUT) return TIMED_OUT;
    return result.done ? undefined : result.value;
  } finally {
    clearTimeout(timer);
  }
}

async function searchRootDse(ctx: OperationContext, request: SearchRequest, selection: AttributeSelection): Promise<void> {
  const entry = withProtocolFeatures(await ctx.directory.rootDse());
  if (matches(request, entry)) {
    await ctx.reply(encodeSearchEntry({ dn: '', attributes: selectAttributes(entry, selection, true) }, request.typesOnly));
    ctx.outcome.entries++;
  }
  await done(ctx, { resultCode: LDAP_RESULT.success });
}

/**
 * The view describes the DIT (namingContexts, subschemaSubentry); which controls and extended
 * operations exist is the face's to say (RFC 4512 §5.1), so those two attributes come from here.
 */
function withProtocolFeatures(entry: LdapEntry): LdapEntry {
  const attributes = new Map(entry.attributes);
  attributes.set('supportedcontrol', { name: 'supportedControl', values: [...SUPPORTED_CONTROLS] });
  attributes.set('supportedextension', { name: 'supportedExtension', values: Object.values(EXTENDED) });
  if (!attributes.has('supportedldapversion')) attributes.set('supportedldapversion', { name: 'supportedLDAPVersion', values: ['3'] });
  return { dn: '', attributes };
}

/** Root DSE filters are almost always (objectClass=*); @ldapjs/filter evaluates them on strings. */
function matches(request: SearchRequest, entry: LdapEntry): boolean {
  const object: Record<string, string[]> = {};
  for (const attr of entry.attributes.values()) {
    object[attr.name] = attr.values.map((v) => (typeof v === 'string' ? v : v.toString('latin1')));
  }
  try {
    return (request.filter as unknown as { matches(o: object, strict: boolean): boolean }).matches(object, false) === true;
  } catch {
    return false;
  }
}

