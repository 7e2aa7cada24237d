// One audit record as a JSON line, with its chain MAC: what `keyhaven audit export` writes and
// what the audit stream appends (a SIEM reads either; the database chain stays the source of
// truth, and the MAC lets a reader check a line against it).
import type { AuditRow } from '../storage/repos/audit-repo.js';

export function auditLine(r: Readonly<AuditRow>): string {
  return `${JSON.stringify({
    seq: r.seq, time: r.time, actor: r.actor, source: r.source, action: r.action, target: r.target,
    outcome: r.outcome, correlationId: r.correlation_id, details: JSON.parse(r.details) as unknown, mac: r.mac,
  })}\n`;
}
