// What an operation handler receives: the request's id and controls, the connection's state
// (who is bound, whether TLS is up), the directory view, the server's limits, and a `reply`
// that honours the socket's backpressure.
import type { Logger } from 'pino';
import type { LdapDirectory, LdapViewer } from '../ldap-directory.js';
import type { OperationOutcome } from './access-log.js';
import type { PagedSearches } from './paged-results-control.js';
import type { RequestControl } from './request-decoder.js';
import type { LdapResult, ResponseControl } from './response-encoder.js';

export interface LdapLimits {
  anonymousBind: boolean;
  requireTlsForBind: boolean;
  maxMessageBytes: number;
  maxConnections: number;
  maxOperationsPerConnection: number;
  idleTimeoutMs: number;
  sizeLimit: number;
  timeLimitMs: number;
  /** `ldapAdminWrites`: add, modify and delete reach the directory (role-checked there); off, they answer 53. */
  adminWrites?: boolean;
}

export interface ConnectionState {
  viewer: LdapViewer;
  readonly secure: boolean;
  readonly loopback: boolean;
  /** The client's address, for the directory's lockout and audit. */
  readonly source: string;
  readonly paged: PagedSearches;
}

export interface OperationContext {
  messageId: number;
  controls: RequestControl[];
  /** Aborted by an Abandon request, a time limit, or the connection closing. */
  signal: AbortSignal;
  connection: ConnectionState;
  directory: LdapDirectory;
  limits: LdapLimits;
  logger: Logger;
  /** Sends one PDU for this operation; resolves once the socket can take more. */
  reply(protocolOp: Buffer, controls?: ResponseControl[]): Promise<void>;
  /** Sends the operation's final response (`protocolOp`, which encodes `result`) and notes the result for the access log. */
  replyResult(protocolOp: Buffer, result: LdapResult, controls?: ResponseControl[]): Promise<void>;
  /** What the access log will say about this operation (entries sent, result); handlers add to it. */
  outcome: OperationOutcome;
}

/** Plain-text credentials are refused until TLS is up, except from this machine (RFC 4513 §5.1.3). */
export function credentialsNeedTls(ctx: OperationContext): boolean {
  return ctx.limits.requireTlsForBind && !ctx.connection.secure && !ctx.connection.loopback;
}
