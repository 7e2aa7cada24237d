// The server's Prometheus metrics (issue 15 item 3), in a registry of its own (prom-client's
// global one would mix in whatever else loads prom-client, and break tests that start servers in
// one process). Every label takes values from a closed set — a face, a route *template*, a
// grant, an audience kind, an LDAP operation and result code, an outcome — never a user name,
// a secret's name, a DN or a token: cardinality is bounded and nothing identifying leaks into a
// scrape. The faces and the core report through the methods below; none of them sees prom-client.
import type { AuditObserver } from '../audit/audit-log.js';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export type Face = 'oauth' | 'graph' | 'arm' | 'vault' | 'health' | 'metrics' | 'signin' | 'machines' | 'other';
export type AudienceKind = 'management' | 'directory' | 'vault' | 'application' | 'other';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class Metrics {
  readonly registry = new Registry();
  readonly #httpRequests = new Counter({ name: 'keyhaven_http_requests_total', help: 'HTTPS requests by face, route template, method and status class.', labelNames: ['face', 'route', 'method', 'status'] as const, registers: [this.registry] });
  readonly #httpLatency = new Histogram({ name: 'keyhaven_http_request_duration_seconds', help: 'HTTPS request latency by face and route template.', labelNames: ['face', 'route', 'method'] as const, buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly #tokens = new Counter({ name: 'keyhaven_tokens_issued_total', help: 'Access tokens issued by grant and audience kind.', labelNames: ['grant', 'audience'] as const, registers: [this.registry] });
  readonly #signInFailures = new Counter({ name: 'keyhaven_signin_failures_total', help: 'Refused sign-ins by kind (user, client) and reason code, over every face.', labelNames: ['kind', 'reason'] as const, registers: [this.registry] });
  readonly #lockouts = new Counter({ name: 'keyhaven_lockouts_total', help: 'Sign-ins refused because the account or the source is locked out.', labelNames: ['kind'] as const, registers: [this.registry] });
  readonly #ldapOps = new Counter({ name: 'keyhaven_ldap_operations_total', help: 'LDAP operations by type and result code.', labelNames: ['op', 'result'] as const, registers: [this.registry] });
  readonly #ldapLatency = new Histogram({ name: 'keyhaven_ldap_operation_duration_seconds', help: 'LDAP operation latency by type.', labelNames: ['op'] as const, buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly #secretReads = new Counter({ name: 'keyhaven_secret_reads_total', help: 'Secret values read from vaults, by outcome.', labelNames: ['outcome'] as const, registers: [this.registry] });
  readonly #auditBatch = new Histogram({ name: 'keyhaven_audit_batch_records', help: 'Records per group-commit audit transaction.', buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512], registers: [this.registry] });
  readonly #auditCommit = new Histogram({ name: 'keyhaven_audit_commit_duration_seconds', help: 'Time to commit one audit batch (the durable write, fsync included).', buckets: LATENCY_BUCKETS, registers: [this.registry] });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'keyhaven_' });
  }

  /** A gauge read at scrape time (pool usage, cache sizes): `read` returns the current values by label. */
  gauge(name: string, help: string, labelNames: readonly string[], read: () => Iterable<[Record<string, string>, number]>): void {
    new Gauge({
      name, help, labelNames, registers: [this.registry],
      collect() {
        this.reset();
        for (const [labels, value] of read()) this.set(labels, value);
      },
    });
  }

  httpRequest(face: Face, route: string, method: string, statusCode: number, seconds: number): void {
    const status = `${Math.floor(statusCode / 100)}xx`;
    this.#httpRequests.inc({ face, route, method, status });
    this.#httpLatency.observe({ face, route, method }, seconds);
  }

  tokenIssued(grant: string, audience: AudienceKind): void {
    this.#tokens.inc({ grant: GRANTS.has(grant) ? grant : 'other', audience });
  }

  signInFailed(kind: 'user' | 'client', reason: string, count = 1): void {
    const code = /^KH_[A-Z0-9_]{1,60}$/.test(reason) ? reason : 'other';
    this.#signInFailures.inc({ kind, reason: code }, count);
    if (code === 'KH_ACCOUNT_LOCKED') this.#lockouts.inc({ kind: 'account' }, count);
    else if (code === 'KH_SOURCE_THROTTLED' || code === 'KH_CLIENT_THROTTLED') this.#lockouts.inc({ kind: 'source' }, count);
  }

  /** Which audience kind a token's audience is (set by the server once its audiences are known). */
  audienceKind: (audience: string) => AudienceKind = () => 'other';

  /**
   * Counts from the audit log's committed records, so a metric moves exactly when the fact is
   * durable: issued tokens, refused sign-ins (a refusal summary counts its `count`), the audit
   * batches themselves.
   */
  auditObserver(): AuditObserver {
    return {
      batch: (records, seconds) => this.auditBatch(records, seconds),
      record: (row) => {
        if (row.action === 'token.issue' && row.outcome === 'success') {
          this.tokenIssued(String(detailsOf(row.details).grant ?? 'other'), this.audienceKind(row.target));
        } else if ((row.action === 'user.signin' || row.action === 'serviceprincipal.signin') && row.outcome !== 'success') {
          const details = detailsOf(row.details);
          const kind = row.action === 'user.signin' ? 'user' : 'client';
          if (details.aggregated === true) {
            for (const [k, v] of Object.entries(details)) if (k.startsWith('count_') && typeof v === 'number') this.signInFailed(kind, k.slice(6), v);
          } else {
            this.signInFailed(kind, String(details.error ?? 'other'));
          }
        }
      },
    };
  }

  ldapOperation(op: string, resultCode: number | undefined, seconds: number): void {
    const kind = LDAP_OPS.has(op) ? op : 'other';
    this.#ldapOps.inc({ op: kind, result: resultCode === undefined ? 'none' : String(resultCode) });
    this.#ldapLatency.observe({ op: kind }, seconds);
  }

  secretRead(outcome: 'success' | 'denied' | 'not_found'): void {
    this.#secretReads.inc({ outcome });
  }

  auditBatch(records: number, seconds: number): void {
    this.#auditBatch.observe(records);
    this.#auditCommit.observe(seconds);
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

function detailsOf(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

const GRANTS = new Set(['client_credentials', 'password', 'authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code', 'device_code', 'urn:ietf:params:oauth:grant-type:jwt-bearer']);
const LDAP_OPS = new Set(['bind', 'search', 'compare', 'extended', 'write', 'unbind', 'abandon', 'add', 'modify', 'delete', 'modifyDN']);
