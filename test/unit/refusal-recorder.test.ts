// Refusal aggregation with an injected clock: the first refusal per source and action is
// recorded at once, the rest of the window as one summary with the count and codes, sources do
// not mix, the table of sources is bounded, and close() writes what is pending.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuditEvent } from '../../src/audit/audit-log.js';
import { RefusalRecorder } from '../../src/audit/refusal-recorder.js';

function recorder(options: { maxSources?: number } = {}) {
  const records: AuditEvent[] = [];
  let clock = 1_000_000;
  const r = new RefusalRecorder({ record: async (e) => void records.push(e) }, { windowMs: 60_000, now: () => clock, ...options });
  return { r, records, advance: (ms: number) => (clock += ms) };
}

const refusal = (source: string, error = 'KH_INVALID_CLIENT_SECRET') => ({ source, action: 'serviceprincipal.signin', error, details: { appId: 'a' } });

describe('refusal recorder', () => {
  it('records the first refusal at once and the rest of the window as one summary', async () => {
    const { r, records, advance } = recorder();
    for (let i = 0; i < 1000; i++) await r.refused(refusal('192.0.2.1', i % 2 ? 'KH_CLIENT_NOT_FOUND' : 'KH_INVALID_CLIENT_SECRET'));
    assert.equal(records.length, 1);
    assert.equal(records[0]!.details!.error, 'KH_INVALID_CLIENT_SECRET');
    advance(30_000);
    await r.sweep();
    assert.equal(records.length, 1, 'the window is still open');
    advance(30_000);
    await r.sweep();
    assert.equal(records.length, 2);
    const summary = records[1]!.details!;
    assert.equal(summary.count, 999);
    assert.equal(summary.count_KH_CLIENT_NOT_FOUND, 500);
    assert.equal(summary.count_KH_INVALID_CLIENT_SECRET, 499);
    assert.equal(records[1]!.source, '192.0.2.1');
    // A new window starts with an immediate record again.
    await r.refused(refusal('192.0.2.1'));
    assert.equal(records.length, 3);
  });

  it('keeps sources apart, bounds the table and flushes at close', async () => {
    const { r, records } = recorder({ maxSources: 3 });
    for (const s of ['192.0.2.1', '192.0.2.2', '192.0.2.1', '192.0.2.2']) await r.refused(refusal(s));
    assert.equal(records.length, 2);
    for (const s of ['192.0.2.3', '192.0.2.4']) await r.refused(refusal(s));
    // The fourth source pushed out the oldest, whose count (1) was summarised at once.
    assert.equal(records.filter((e) => e.details!.aggregated).length, 1);
    await r.close();
    const counted = records.reduce((n, e) => n + (e.details!.aggregated ? Number(e.details!.count) : 1), 0);
    assert.equal(counted, 6, 'every refusal accounted for');
  });
});
