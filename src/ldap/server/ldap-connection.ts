// One client connection: frames PDUs off the socket, runs each operation (several at once, up
// to a limit), writes responses with backpressure, and handles the requests that change the
// connection itself — Abandon, Unbind, StartTLS. A protocol error ends the connection with a
// Notice of Disconnection (RFC 4511 §4.4.1); so does the server shutting down.
import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import type { Logger } from 'pino';
import { LDAP_RESULT, LdapResultError, type LdapDirectory, type LdapViewer } from '../ldap-directory.js';
import type { LdapAccessLog, OperationOutcome, OperationStart } from './access-log.js';
import { BerFramer } from './ber-framing.js';
import type { ConnectionState, LdapLimits, OperationContext } from './operation-context.js';
import { bind } from './operations/bind.js';
import { compare } from './operations/compare.js';
import { EXTENDED, extended } from './operations/extended.js';
import { search } from './operations/search.js';
import { write } from './operations/write.js';
import { PagedSearches } from './paged-results-control.js';
import { checkCriticalControls } from './request-controls.js';
import { decodeMessage, OP, ProtocolError, type DecodedMessage, type LdapRequest } from './request-decoder.js';
import { encodeExtendedResponse, encodeMessage, encodeNoticeOfDisconnection, encodeResult, type LdapResult, type ResponseControl } from './response-encoder.js';
import { toLdapResult } from './result-codes.js';

export interface ConnectionDeps {
  directory: LdapDirectory;
  limits: LdapLimits;
  logger: Logger;
  accessLog: LdapAccessLog;
  secureContext: SecureContext;
}

type Answerable = Exclude<LdapRequest, { type: 'unbind' } | { type: 'abandon' }>;

export class LdapConnection implements ConnectionState {
  viewer: LdapViewer = { kind: 'anonymous' };
  secure: boolean;
  readonly loopback: boolean;
  readonly source: string;
  readonly paged = new PagedSearches();
  readonly remotePort: number | undefined;
  private readonly openedAt = performance.now();
  private operationCount = 0;
  private closeReason: string | undefined;
  private socket: Socket;
  private readonly framer: BerFramer;
  private readonly operations = new Map<number, AbortController>();
  private closed = false;
  /** Set while StartTLS waits for outstanding writes: no further PDU is read. */
  private upgrading = false;
  /** The client has finished sending (TCP FIN, or TLS close_notify): end once every answer is out. */
  private peerEnded = false;
  private readonly onData = (chunk: Buffer) => this.receive(chunk);

  constructor(
    /** The connection's number in this process, for the access log (slapd's `conn=`). */
    readonly id: number,
    socket: Socket,
    secure: boolean,
    private readonly deps: ConnectionDeps,
    private readonly onClose: () => void,
  ) {
    this.socket = socket;
    this.secure = secure;
    const address = socket.remoteAddress ?? '';
    this.source = address.startsWith('::ffff:') ? address.slice(7) : address;
    this.loopback = this.source === '::1' || this.source.startsWith('127.');
    this.remotePort = socket.remotePort;
    this.framer = new BerFramer(deps.limits.maxMessageBytes);
    this.attach(socket);
    socket.once('close', () => this.cleanup());
    deps.accessLog.connectionOpened(this);
  }

  /** Ends the connection with a Notice of Disconnection (server shutting down, protocol error). */
  disconnect(resultCode: number, message: string): void {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = `notice of disconnection (${resultCode}): ${message}`;
    this.abortAll();
    const socket = this.socket;
    if (socket.writable) socket.end(encodeNoticeOfDisconnection(resultCode, message));
    // A client that never reads must not hold the socket open.
    setTimeout(() => socket.destroy(), 2000).unref();
  }

  private attach(socket: Socket): void {
    this.socket = socket;
    socket.on('data', this.onData);
    // The listeners allow half-open sockets, so a client that sends its requests and then shuts
    // down its side (`printf … | nc`, a script that ends the stream) still gets every answer to
    // what it sent: the connection ends when the operations already received are done.
    socket.on('end', () => {
      this.peerEnded = true;
      this.endIfDrained();
    });
    socket.on('error', () => socket.destroy());
    if (this.deps.limits.idleTimeoutMs > 0) {
      socket.setTimeout(this.deps.limits.idleTimeoutMs, () => socket.destroy());
    }
    socket.on('drain', () => {
      if (!this.closed && !this.upgrading) socket.resume();
    });
  }

  private receive(chunk: Buffer): void {
    if (this.closed || this.upgrading) return;
    let pdus: Buffer[];
    try {
      pdus = this.framer.push(chunk);
    } catch (err) {
      this.disconnect(LDAP_RESULT.protocolError, err instanceof Error ? err.message : 'framing error');
      return;
    }
    for (const pdu of pdus) {
      if (this.closed || this.upgrading) return;
      let message: DecodedMessage;
      try {
        message = decodeMessage(pdu);
      } catch (err) {
        this.disconnect(LDAP_RESULT.protocolError, err instanceof ProtocolError ? err.message.slice(0, 200) : 'malformed message');
        return;
      }
      this.dispatch(message);
    }
    // Responses pile up only if the client stops reading: then stop reading its requests too.
    if (this.socket.writableNeedDrain) this.socket.pause();
  }

  private dispatch(message: DecodedMessage): void {
    const { messageId, request } = message;
    this.operationCount++;
    const start: OperationStart = { messageId, request, tls: this.secure, startedAt: performance.now() };
    const bindDn = dnOf(this.viewer);
    if (request.type === 'unbind' || request.type === 'abandon') this.deps.accessLog.operation(this, start, bindDn, undefined);
    if (request.type === 'unbind') {
      // RFC 4511 §4.3: no response; the server ends the connection.
      this.closed = true;
      this.abortAll();
      this.socket.end();
      return;
    }
    if (request.type === 'abandon') {
      // RFC 4511 §4.11: no response; an unknown id is ignored.
      this.operations.get(request.targetId)?.abort();
      return;
    }
    if (this.operations.has(messageId)) {
      this.disconnect(LDAP_RESULT.protocolError, `messageID ${messageId} is already in use`);
      return;
    }
    if (this.operations.size >= this.deps.limits.maxOperationsPerConnection) {
      const busy = { resultCode: LDAP_RESULT.busy, diagnosticMessage: 'too many outstanding operations on this connection' };
      this.deps.accessLog.operation(this, start, bindDn, { ...busy, entries: 0 });
      void this.answer(messageId, request, busy);
      return;
    }
    const controller = new AbortController();
    this.operations.set(messageId, controller);
    const outcome: OperationOutcome = { entries: 0 };
    const ctx = this.context(message, controller.signal, outcome);
    void this.run(ctx, request)
      .catch((err: unknown) => {
        if (controller.signal.aborted || this.closed) return;
        const result = toLdapResult(err, this.deps.logger, request.type);
        noteResult(outcome, result);
        return this.answer(messageId, request, result);
      })
      .catch(() => undefined)
      .finally(() => {
        this.operations.delete(messageId);
        // A bind is logged with whom it bound as; everything else with who was bound when it ran.
        const who = request.type === 'bind' ? dnOf(this.viewer) : bindDn;
        this.deps.accessLog.operation(this, start, who, outcome, outcome.resultCode === undefined && controller.signal.aborted);
        this.endIfDrained();
      });
  }

  private endIfDrained(): void {
    if (!this.peerEnded || this.operations.size > 0 || this.upgrading) return;
    this.closed = true;
    this.abortAll();
    if (!this.socket.destroyed) this.socket.end();
  }

  private async run(ctx: OperationContext, request: Answerable): Promise<void> {
    checkCriticalControls(request.type, ctx.controls);
    switch (request.type) {
      case 'bind':
        return bind(ctx, request);
      case 'search':
        return search(ctx, request);
      case 'compare':
        return compare(ctx, request);
      case 'extended':
        return request.oid === EXTENDED.startTls ? this.startTls(ctx) : extended(ctx, request);
      case 'write':
        return write(ctx, request);
    }
  }

  /**
   * RFC 4511 §4.14: answer, then the next bytes are the TLS handshake. The server's own
   * certificate is used; a connection already under TLS, or with other operations still
   * outstanding, is answered operationsError and stays as it is.
   */
  private async startTls(ctx: OperationContext): Promise<void> {
    if (this.secure) throw new LdapResultError(LDAP_RESULT.operationsError, 'TLS is already established');
    if (this.operations.size > 1) throw new LdapResultError(LDAP_RESULT.operationsError, 'other operations are outstanding');
    this.upgrading = true;
    const raw = this.socket;
    raw.removeListener('data', this.onData);
    raw.pause();
    raw.setTimeout(0);
    const success = { resultCode: LDAP_RESULT.success };
    await ctx.replyResult(encodeExtendedResponse(success, EXTENDED.startTls), success);
    if (this.closed) return;
    const secured = new TLSSocket(raw, { isServer: true, secureContext: this.deps.secureContext });
    this.secure = true;
    this.upgrading = false;
    this.attach(secured);
    secured.once('close', () => raw.destroy());
  }

  private context(message: DecodedMessage, signal: AbortSignal, outcome: OperationOutcome): OperationContext {
    return {
      outcome,
      messageId: message.messageId,
      controls: message.controls,
      signal,
      connection: this,
      directory: this.deps.directory,
      limits: this.deps.limits,
      logger: this.deps.logger,
      reply: (op, controls) => this.send(encodeMessage(message.messageId, op, controls)),
      replyResult: (op, result, controls) => {
        noteResult(outcome, result);
        return this.send(encodeMessage(message.messageId, op, controls));
      },
    };
  }

  private answer(messageId: number, request: Answerable, result: LdapResult, controls: ResponseControl[] = []): Promise<void> {
    const op =
      request.type === 'extended'
        ? encodeExtendedResponse(result)
        : encodeResult(request.type === 'write' ? request.responseTag : RESPONSE_TAG[request.type], result);
    return this.send(encodeMessage(messageId, op, controls));
  }

  private send(pdu: Buffer): Promise<void> {
    const socket = this.socket;
    if (this.closed || socket.destroyed || !socket.writable) return Promise.resolve();
    if (socket.write(pdu)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      socket.on('drain', done);
      socket.on('close', done);
    });
  }

  private abortAll(): void {
    for (const controller of this.operations.values()) controller.abort();
    this.paged.closeAll();
  }

  private cleanup(): void {
    this.closed = true;
    this.abortAll();
    this.onClose();
    this.deps.accessLog.connectionClosed(this, this.operationCount, this.openedAt, this.closeReason);
  }
}

function dnOf(viewer: LdapViewer): string {
  return viewer.kind === 'anonymous' ? '' : viewer.dn;
}

function noteResult(outcome: OperationOutcome, result: LdapResult): void {
  outcome.resultCode = result.resultCode;
  if (result.diagnosticMessage) outcome.diagnosticMessage = result.diagnosticMessage;
}

const RESPONSE_TAG = {
  bind: OP.bindResponse,
  search: OP.searchResultDone,
  compare: OP.compareResponse,
} as const;
