// Refusals that anyone can cause — a wrong client secret, a forged assertion, an unknown client
// id — are audited without letting an anonymous caller grow the audit log without bound: per
// source address and action, the first refusal in a window is recorded at once (durable before
// the answer), later ones in the same window are counted, and when the window ends one summary
// record holds their number and error codes. Every refusal is accounted for; a flood costs one
// record per window per source. (NIST SP 800-92 §4.2 recommends such aggregation of repeated
// events; the first one stays immediate so an investigator sees the start at once.)
//
// Counts live in this process until their summary is written (on the next refusal after the
// window, on the periodic sweep, or at close); the tracked sources are bounded, the oldest
// summarised early when a flood from many addresses fills the table.
import type { AuditDetails, AuditEvent } from './audit-log.js';

export interface RefusalRecorderOptions {
  /** Length of one aggregation window. Default 60 s. */
  windowMs?: number;
  /** Sources tracked at once; past it the oldest is summarised early. Default 10 000. */
  maxSources?: number;
  now?: () => number;
}

export interface Refusal {
  source: string;
  action: string;
  /** The refusal's error code (KH_…), counted per code in the summary. */
  error: string;
  correlationId?: string;
  target?: string;
  /** Non-secret facts of the first refusal (client id, method). */
  details?: AuditDetails;
}

interface Window {
  source: string;
  action: string;
  startedAt: number;
  endsAt: number;
  /** Refusals after the first, not yet recorded. */
  count: number;
  codes: Map<string, number>;
}

export class RefusalRecorder {
  readonly #audit: { record(event: AuditEvent): Promise<void> };
  readonly #windowMs: number;
  readonly #maxSources: number;
  readonly #now: () => number;
  readonly #windows = new Map<string, Window>();
  #timer: NodeJS.Timeout | undefined;

  constructor(audit: { record(event: AuditEvent): Promise<void> }, options: RefusalRecorderOptions = {}) {
    this.#audit = audit;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#maxSources = options.maxSources ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /** Sweeps ended windows every window length (the timer never keeps the process alive). */
  start(): void {
    this.#timer ??= setInterval(() => void this.sweep().catch(() => undefined), this.#windowMs);
    this.#timer.unref();
  }

  /** Records or counts one refusal. Resolves once a record it had to write is durable. */
  async refused(refusal: Refusal): Promise<void> {
    const key = `${refusal.action}\u0000${refusal.source}`;
    const now = this.#now();
    const open = this.#windows.get(key);
    if (open && open.endsAt > now) {
      open.count++;
      open.codes.set(refusal.error, (open.codes.get(refusal.error) ?? 0) + 1);
      return;
    }
    if (open) await this.#summarise(key, open);
    this.#windows.set(key, { source: refusal.source, action: refusal.action, startedAt: now, endsAt: now + this.#windowMs, count: 0, codes: new Map() });
    if (this.#windows.size > this.#maxSources) {
      const [oldestKey, oldest] = this.#windows.entries().next().value as [string, Window];
      await this.#summarise(oldestKey, oldest);
    }
    await this.#audit.record({
      actor: 'anonymous', action: refusal.action, target: refusal.target ?? '', outcome: 'denied', source: refusal.source,
      correlationId: refusal.correlationId, details: { ...refusal.details, error: refusal.error },
    });
  }

  /** Writes the summary of every window that has ended. */
  async sweep(): Promise<void> {
    const now = this.#now();
    for (const [key, w] of [...this.#windows]) if (w.endsAt <= now) await this.#summarise(key, w);
  }

  /** Writes every pending summary (at shutdown, before the audit log is flushed). */
  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    for (const [key, w] of [...this.#windows]) await this.#summarise(key, w);
  }

  async #summarise(key: string, w: Window): Promise<void> {
    this.#windows.delete(key);
    if (w.count === 0) return;
    const details: AuditDetails = {
      aggregated: true, count: w.count, since: new Date(w.startedAt).toISOString(), until: new Date(Math.min(w.endsAt, this.#now())).toISOString(),
    };
    for (const [code, n] of w.codes) details[`count_${code}`] = n;
    await this.#audit.record({ actor: 'anonymous', action: w.action, outcome: 'denied', source: w.source, details });
  }
}
