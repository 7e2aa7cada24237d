// The Simple Paged Results control (RFC 2696, OID 1.2.840.113556.1.4.319), which SSSD and
// Active Directory tools send. The search's iterator stays open on the connection under a
// random cookie between pages, so a page costs only its own entries; a connection keeps a few
// such searches at most (the oldest is dropped), and closing the connection ends them all.
import { randomBytes } from 'node:crypto';
import { LDAP_RESULT, LdapResultError, type LdapEntry } from '../ldap-directory.js';
import { BER, BerError, BerReader, encodeInteger, encodeString, tlv } from './ber.js';
import { PAGED_RESULTS_OID } from './request-controls.js';
import type { RequestControl } from './request-decoder.js';
import type { ResponseControl } from './response-encoder.js';

export interface PagedRequest {
  size: number;
  cookie: Buffer;
  critical: boolean;
}

export function findPagedControl(controls: RequestControl[]): PagedRequest | undefined {
  const control = controls.find((c) => c.oid === PAGED_RESULTS_OID);
  if (!control) return undefined;
  try {
    if (!control.value) throw new BerError('missing value');
    const r = new BerReader(control.value).sub(BER.sequence);
    const size = r.integer();
    const cookie = r.octets();
    if (size < 0) throw new BerError('negative page size');
    return { size, cookie, critical: control.critical };
  } catch {
    throw new LdapResultError(LDAP_RESULT.protocolError, 'malformed paged results control');
  }
}

export function pagedResponseControl(cookie: Buffer): ResponseControl {
  // size is the server's estimate of the total; 0 means "unknown" (RFC 2696 §3).
  return { oid: PAGED_RESULTS_OID, value: tlv(BER.sequence, encodeInteger(0), encodeString(cookie)) };
}

export interface PagedSearch {
  iterator: AsyncIterator<LdapEntry>;
  /** The search's parameters: a later page must repeat them (RFC 2696 §3). */
  fingerprint: string;
  /** An entry pulled to learn whether another page exists, sent first on the next page. */
  lookahead: LdapEntry | undefined;
  /** Entries sent so far over all pages, for the client's size limit. */
  returned: number;
}

const MAX_PAGED_SEARCHES = 8;

export class PagedSearches {
  private readonly searches = new Map<string, PagedSearch>();

  /** Removes and returns the search a cookie names; an unknown cookie is an error. */
  take(cookie: Buffer, fingerprint: string): PagedSearch {
    const key = cookie.toString('hex');
    const search = this.searches.get(key);
    if (!search || search.fingerprint !== fingerprint) {
      throw new LdapResultError(LDAP_RESULT.unwillingToPerform, 'unknown or stale paged results cookie');
    }
    this.searches.delete(key);
    return search;
  }

  /** Keeps a search for its next page and returns its new cookie. */
  keep(search: PagedSearch): Buffer {
    if (this.searches.size >= MAX_PAGED_SEARCHES) {
      const [oldest] = this.searches.keys();
      if (oldest !== undefined) this.end(oldest);
    }
    const cookie = randomBytes(16);
    this.searches.set(cookie.toString('hex'), search);
    return cookie;
  }

  closeAll(): void {
    for (const key of [...this.searches.keys()]) this.end(key);
  }

  private end(key: string): void {
    const search = this.searches.get(key);
    this.searches.delete(key);
    void search?.iterator.return?.().catch(() => undefined);
  }
}
