// The audit log's tamper evidence: record n carries
//   mac_n = HMAC-SHA-256(auditKey, mac_{n-1} || "\n" || canonical(record_n))
// (RFC 2104), starting from a fixed genesis value, and the head row holds the last seq and
// MAC. Editing a record breaks its MAC, deleting one breaks the sequence or the next MAC,
// cutting the tail leaves the head pointing past the last record. The audit key lives in the
// database only sealed under the KEK, so whoever can write the database cannot forge MACs.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AuditRow } from '../storage/repos/audit-repo.js';

export const GENESIS_MAC = '0'.repeat(64);

export type UnsignedAuditRow = Omit<AuditRow, 'mac'>;

function canonical(r: UnsignedAuditRow): string {
  // A JSON array: fixed field order, unambiguous escaping.
  return JSON.stringify([r.seq, r.time, r.actor, r.source, r.action, r.target, r.outcome, r.correlation_id, r.details]);
}

export function chainMac(key: Buffer, previousMac: string, record: UnsignedAuditRow): string {
  return createHmac('sha256', key).update(previousMac).update('\n').update(canonical(record)).digest('hex');
}

function sameMac(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface VerifyResult {
  ok: boolean;
  records: number;
  lastSeq: number;
  /** The first bad record (or where one is missing) and what is wrong, when not ok. */
  firstBad?: { seq: number; problem: string };
}

/**
 * Walks the chain in pages from the start. Stops at the first problem, which it names:
 * later records are then unverifiable anyway, since each MAC depends on all before it.
 */
export async function verifyChain(
  key: Buffer,
  page: (afterSeq: number, limit: number) => Promise<AuditRow[]>,
  head: { seq: number; mac: string } | undefined,
): Promise<VerifyResult> {
  let previousMac = GENESIS_MAC;
  let expectedSeq = 1;
  let records = 0;
  for (;;) {
    const rows = await page(expectedSeq - 1, 1000);
    if (rows.length === 0) break;
    for (const row of rows) {
      if (row.seq !== expectedSeq) {
        return { ok: false, records, lastSeq: expectedSeq - 1, firstBad: { seq: expectedSeq, problem: `record ${expectedSeq} is missing (next present is ${row.seq})` } };
      }
      if (!sameMac(chainMac(key, previousMac, row), row.mac)) {
        return { ok: false, records, lastSeq: expectedSeq - 1, firstBad: { seq: row.seq, problem: `record ${row.seq} was altered (its MAC does not match)` } };
      }
      previousMac = row.mac;
      expectedSeq++;
      records++;
    }
  }
  const lastSeq = expectedSeq - 1;
  const headSeq = head?.seq ?? 0;
  if (headSeq > lastSeq) {
    return { ok: false, records, lastSeq, firstBad: { seq: lastSeq + 1, problem: `records ${lastSeq + 1} to ${headSeq} are missing (the log was cut after record ${lastSeq})` } };
  }
  if (headSeq < lastSeq || (head && !sameMac(head.mac, previousMac))) {
    return { ok: false, records, lastSeq, firstBad: { seq: headSeq + 1, problem: `the chain head (record ${headSeq}) does not match the last record ${lastSeq}` } };
  }
  return { ok: true, records, lastSeq };
}
