// The audit log and group commit. Every write runs through `write`: its work and its audit
// record share one transaction, so they succeed or fail together. Reads and authentications
// go through `record`, and the caller releases its answer only once the promise resolves,
// i.e. once the record is durable (DESIGN.md, request flow). Requests that arrive while a
// batch commits are gathered into the next one, so concurrent requests share one
// transaction and one fsync; each request's part sits in its own savepoint, so one failing
// request is undone alone. If a record cannot be written, its request gets
// UnavailableError and its work is rolled back.
import { randomUUID } from 'node:crypto';
import { KeyhavenError, UnavailableError } from '../errors.js';
import type { AuditQuery, AuditRow } from '../storage/repos/audit-repo.js';
import type { Storage, Tx } from '../storage/storage.js';
import { chainMac, GENESIS_MAC, verifyChain, type VerifyResult } from './audit-chain.js';

export type Outcome = 'success' | 'failure' | 'denied';
export type AuditDetails = Record<string, string | number | boolean>;

export interface AuditEvent {
  /** Who acted: a principal's object id, `system`, or `anonymous`. */
  actor: string;
  /** Dotted verb, e.g. `user.create`, `token.issue`, `secret.get`. */
  action: string;
  target?: string;
  outcome?: Outcome;
  source?: string;
  correlationId?: string;
  /** Non-secret facts only; keys that look secret are dropped by construction. */
  details?: AuditDetails;
}

export interface AuditRecord {
  seq: number;
  time: string;
  actor: string;
  source: string;
  action: string;
  target: string;
  outcome: Outcome;
  correlationId: string;
  details: AuditDetails;
}

interface Job {
  work?: (tx: Tx) => Promise<unknown>;
  event: (result: unknown) => AuditEvent;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

const SECRET_LOOKING_KEY = /pass|secret|token|assertion|credential|private|^value$|^key$/i;

/**
 * Told of each committed batch and of every record in it, after the commit (metrics count
 * what is durable). Records are the stored rows: no secret is in them.
 */
export interface AuditObserver {
  batch(records: number, seconds: number): void;
  record(row: Readonly<AuditRow>): void;
}

export class AuditLog {
  readonly #storage: Storage;
  readonly #key: Buffer;
  readonly #maxBatch: number;
  #queue: Job[] = [];
  #draining: Promise<void> | undefined;
  #stats = { transactions: 0, records: 0 };
  readonly #observer: AuditObserver | undefined;

  constructor(storage: Storage, key: Buffer, options: { maxBatch?: number; observer?: AuditObserver } = {}) {
    this.#storage = storage;
    this.#key = key;
    this.#maxBatch = options.maxBatch ?? 512;
    this.#observer = options.observer;
  }

  /** Requests waiting for the next batch. */
  get queueDepth(): number {
    return this.#queue.length;
  }

  /**
   * Runs `work` and writes its audit record in the same transaction. `work` must use only
   * `tx` (on SQLite, anything else waits for the connection the batch holds) and should be
   * short: hash passwords and encrypt values before calling.
   */
  write<T>(event: AuditEvent | ((result: T) => AuditEvent), work: (tx: Tx) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#enqueue({
        work,
        event: typeof event === 'function' ? (event as (r: unknown) => AuditEvent) : () => event,
        resolve: resolve as (v: unknown) => void,
        reject,
      });
    });
  }

  /** Appends a record on its own (a read, an authentication); resolves once it is durable. */
  record(event: AuditEvent): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#enqueue({ event: () => event, resolve: resolve as (v: unknown) => void, reject });
    });
  }

  async verify(): Promise<VerifyResult> {
    const repo = this.#storage.read.audit;
    const head = await repo.head();
    return verifyChain(this.#key, (after, limit) => repo.page(after, limit), head);
  }

  async list(query: Partial<AuditQuery>): Promise<AuditRecord[]> {
    const rows = await this.#storage.read.audit.query({ ...query, limit: Math.min(query.limit ?? 100, 10_000) });
    return rows.map(toRecord);
  }

  /** Committed batch transactions and records so far: shows how well group commit batches. */
  stats(): { transactions: number; records: number } {
    return { ...this.#stats };
  }

  /** Waits until every queued request is committed or failed. */
  async flush(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  #enqueue(job: Job): void {
    this.#queue.push(job);
    this.#draining ??= this.#drain();
  }

  async #drain(): Promise<void> {
    // Let the requests of this turn of the event loop join the first batch.
    await new Promise((r) => setImmediate(r));
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatch);
      await this.#commit(batch);
    }
    this.#draining = undefined;
  }

  async #commit(batch: Job[]): Promise<void> {
    let outcomes: (() => void)[] = [];
    let committed: AuditRow[] = [];
    let appended = 0;
    const started = performance.now();
    try {
      await this.#storage.transaction(async (tx) => {
        outcomes = [];
        committed = [];
        let head = (await tx.audit.lockHead()) ?? { seq: 0, mac: GENESIS_MAC };
        const startSeq = head.seq;
        for (const job of batch) {
          const step = await this.#runJob(tx, job, head);
          head = step.head;
          outcomes.push(step.settle);
          if (step.row) committed.push(step.row);
        }
        if (head.seq !== startSeq) await tx.audit.setHead(head.seq, head.mac);
        appended = head.seq - startSeq;
      });
      this.#stats.transactions++;
      this.#stats.records += appended;
      if (this.#observer) {
        this.#observer.batch(appended, (performance.now() - started) / 1000);
        for (const row of committed) this.#observer.record(row);
      }
    } catch (err) {
      const failure = new UnavailableError('KH_AUDIT_UNAVAILABLE', 'the audit log could not be written; nothing was changed', { cause: err });
      for (const job of batch) job.reject(failure);
      return;
    }
    for (const settle of outcomes) settle();
  }

  /** One request inside the batch transaction, in its own savepoint. */
  async #runJob(tx: Tx, job: Job, head: { seq: number; mac: string }): Promise<{ head: { seq: number; mac: string }; settle: () => void; row?: AuditRow }> {
    await tx.savepoint();
    let result: unknown;
    let error: unknown;
    let event: AuditEvent;
    try {
      result = job.work ? await job.work(tx) : undefined;
      event = job.event(result);
    } catch (err) {
      error = err;
      await tx.rollbackToSavepoint();
      event = failureEvent(job, err);
    }
    try {
      const row = this.#seal(head, event);
      await tx.audit.insert(row);
      await tx.releaseSavepoint();
      const next = { seq: row.seq, mac: row.mac };
      return error === undefined
        ? { head: next, settle: () => job.resolve(result), row }
        : { head: next, settle: () => job.reject(error), row };
    } catch (auditErr) {
      await tx.rollbackToSavepoint();
      await tx.releaseSavepoint();
      const failure = new UnavailableError('KH_AUDIT_UNAVAILABLE', 'the audit log could not be written; nothing was changed', { cause: auditErr });
      return { head, settle: () => job.reject(failure) };
    }
  }

  #seal(head: { seq: number; mac: string }, event: AuditEvent): AuditRow {
    const unsigned = {
      seq: head.seq + 1,
      time: new Date().toISOString(),
      actor: event.actor,
      source: event.source ?? '',
      action: event.action,
      target: event.target ?? '',
      outcome: event.outcome ?? 'success',
      correlation_id: event.correlationId ?? randomUUID(),
      details: JSON.stringify(safeDetails(event.details)),
    };
    return { ...unsigned, mac: chainMac(this.#key, head.mac, unsigned) };
  }
}

/** The record of a request that failed: same actor and action, the error's code, no message. */
function failureEvent(job: Job, err: unknown): AuditEvent {
  let base: AuditEvent;
  try {
    base = job.event(undefined);
  } catch {
    base = { actor: 'unknown', action: 'unknown' };
  }
  const kh = err instanceof KeyhavenError ? err : undefined;
  const outcome: Outcome = kh && (kh.kind === 'Forbidden' || kh.kind === 'Unauthenticated') ? 'denied' : 'failure';
  return { ...base, outcome, details: { ...base.details, error: kh?.code ?? 'KH_INTERNAL' } };
}

function safeDetails(details: AuditDetails | undefined): AuditDetails {
  const out: AuditDetails = {};
  for (const [k, v] of Object.entries(details ?? {})) {
    if (!SECRET_LOOKING_KEY.test(k)) out[k] = v;
  }
  return out;
}

function toRecord(row: AuditRow): AuditRecord {
  return {
    seq: row.seq,
    time: row.time,
    actor: row.actor,
    source: row.source,
    action: row.action,
    target: row.target,
    outcome: row.outcome as Outcome,
    correlationId: row.correlation_id,
    details: JSON.parse(row.details) as AuditDetails,
  };
}
