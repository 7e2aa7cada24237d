// The LDAP access log: one structured line per operation, as slapd's `stats` log level
// (olcLogLevel 256) gives — connection, client, TLS, operation, bind DN, base, scope, filter,
// requested attributes, result code, entries sent, elapsed time — and one line per connection
// opened and closed. Lines have the shape of the HTTP face's request lines (`reqId`, `req`,
// `res`, `responseTime` in ms) plus `face: "ldap"`, so one query over the log covers both faces.
// They are written at the level `ldapAccessLog` names (`off`: none).
//
// Never a password: a bind's credentials, Password Modify's values, a compare's assertion value
// and the values of add and modify are not logged at all (only DNs and attribute names), and a
// filter's assertion on a password attribute is logged as [REDACTED], as a search on
// `(userPassword=…)` would otherwise carry a candidate password into the log.
import type { Level, Logger } from 'pino';
import { REDACTED } from '../../crypto/secret-value.js';
import type { LdapRequest } from './request-decoder.js';

export type AccessLogLevel = Level | 'off';

/** Attribute types whose values are credentials (by name and by OID), lower-cased. */
const PASSWORD_ATTRIBUTES = [
  'userpassword', '2.5.4.35', // RFC 4519 §2.41
  'unicodepwd', '1.2.840.113556.1.4.90', // Active Directory
  'authpassword', '1.3.6.1.4.1.4203.1.3.4', // RFC 3112
  'sambantpassword', 'sambalmpassword', 'clearpassword',
];
const escape = (s: string) => s.replace(/[.]/g, '\\.');
// An RFC 4515 item whose attribute (with any options) is a password attribute: equality,
// substrings, ordering, approx and extensible match (`attr:rule:=`, `attr:dn:=`). Values in a
// filter's string form have `(`, `)` and `\` escaped, so `[^)]*` ends at the item's own `)`.
const PASSWORD_ASSERTION = new RegExp(
  `\\((${PASSWORD_ATTRIBUTES.map(escape).join('|')})((?:;[^:=~<>()]*)?(?::[^:=~<>()]*)*(?::=|~=|>=|<=|=))([^)]*)\\)`,
  'gi',
);

/** A filter's string form with the assertion values of password attributes redacted (presence kept). */
export function loggableFilter(filter: string): string {
  return filter.replace(PASSWORD_ASSERTION, (all, attr: string, op: string, value: string) =>
    value === '*' && op === '=' ? all : `(${attr}${op}${REDACTED})`,
  );
}

export interface ConnectionInfo {
  readonly id: number;
  readonly source: string;
  readonly remotePort: number | undefined;
  readonly secure: boolean;
}

/** What an operation's line says about its result; filled in as the operation runs. */
export interface OperationOutcome {
  resultCode?: number;
  /** Search entries sent (search only). */
  entries: number;
  diagnosticMessage?: string;
  /** The entry an extended operation acted on, when it named one (Password Modify's userIdentity). */
  target?: string;
}

/** An operation as it arrived: what it asked, and the connection's TLS state then. */
export interface OperationStart {
  messageId: number;
  request: LdapRequest;
  tls: boolean;
  /** performance.now() at arrival. */
  startedAt: number;
}

const OPERATION_NAMES: Record<string, string> = {
  '1.3.6.1.4.1.1466.20037': 'startTLS',
  '1.3.6.1.4.1.4203.1.11.3': 'whoAmI',
  '1.3.6.1.4.1.4203.1.11.1': 'passwordModify',
};

export class LdapAccessLog {
  private readonly log: Logger | undefined;
  private readonly level: Level;

  constructor(
    logger: Logger,
    level: AccessLogLevel,
    /** Every operation, whether or not lines are written (metrics: no DN or value reaches it). */
    private readonly observe?: (operation: string, resultCode: number | undefined, seconds: number) => void,
  ) {
    // `req` and `res` here are an LDAP request and result built below from names and codes
    // only, not HTTP objects: the HTTP serializers would drop their fields.
    const asBuilt = (v: unknown) => v;
    this.log = level === 'off' ? undefined : logger.child({ face: 'ldap' }, { serializers: { req: asBuilt, res: asBuilt } });
    this.level = level === 'off' ? 'info' : level;
  }

  get enabled(): boolean {
    return this.log !== undefined && this.log.isLevelEnabled(this.level);
  }

  connectionOpened(conn: ConnectionInfo): void {
    if (!this.enabled) return;
    this.log![this.level]({ reqId: `${conn.id}`, req: { connection: conn.id, remoteAddress: conn.source, remotePort: conn.remotePort, tls: conn.secure } }, 'LDAP connection opened');
  }

  connectionClosed(conn: ConnectionInfo, operations: number, openedAt: number, reason?: string): void {
    if (!this.enabled) return;
    const line: Record<string, unknown> = {
      reqId: `${conn.id}`,
      req: { connection: conn.id, remoteAddress: conn.source, remotePort: conn.remotePort, tls: conn.secure },
      res: { operations, ...(reason === undefined ? {} : { reason }) },
      responseTime: elapsed(openedAt),
    };
    this.log![this.level](line, 'LDAP connection closed');
  }

  /**
   * One operation. `bindDn` is who was bound when it ran ('' for anonymous); for a bind, who
   * the connection is bound as after it ('' when it failed). `outcome` is undefined for operations that have no
   * response (unbind, abandon) and `abandoned` for one an Abandon or the connection's end cut short.
   */
  operation(conn: ConnectionInfo, op: OperationStart, bindDn: string, outcome: OperationOutcome | undefined, abandoned = false): void {
    this.observe?.(operationName(op.request), outcome?.resultCode, (performance.now() - op.startedAt) / 1000);
    if (!this.enabled) return;
    const { messageId, request } = op;
    const operation = operationName(request);
    const req: Record<string, unknown> = {
      connection: conn.id,
      messageId,
      remoteAddress: conn.source,
      tls: op.tls,
      operation,
      bindDn,
      ...describe(request),
      ...(outcome?.target === undefined ? {} : { target: outcome.target }),
    };
    const line: Record<string, unknown> = { reqId: `${conn.id}.${messageId}`, req, responseTime: elapsed(op.startedAt) };
    if (outcome !== undefined) {
      const res: Record<string, unknown> = { resultCode: outcome.resultCode ?? null };
      if (request.type === 'search') res.entries = outcome.entries;
      if (outcome.diagnosticMessage) res.diagnosticMessage = outcome.diagnosticMessage;
      if (abandoned) res.abandoned = true;
      line.res = res;
    }
    this.log![this.level](line, `LDAP ${operation}`);
  }
}

function elapsed(since: number): number {
  return Math.round((performance.now() - since) * 1000) / 1000;
}

function operationName(request: LdapRequest): string {
  switch (request.type) {
    case 'extended':
      return OPERATION_NAMES[request.oid] ?? 'extended';
    case 'write':
      return request.write.op;
    default:
      return request.type;
  }
}

/** The request's loggable fields: names and structure only, never a credential or a written value. */
function describe(request: LdapRequest): Record<string, unknown> {
  switch (request.type) {
    case 'bind':
      return { dn: request.name, method: request.saslMechanism === undefined ? 'simple' : `sasl/${request.saslMechanism}`, version: request.version };
    case 'search':
      return {
        base: request.baseDn,
        scope: request.scope,
        filter: loggableFilter(request.filter.toString()),
        attributes: request.attributes,
        sizeLimit: request.sizeLimit,
        timeLimit: request.timeLimit,
        ...(request.typesOnly ? { typesOnly: true } : {}),
      };
    case 'compare':
      return { dn: request.dn, attribute: request.attribute };
    case 'abandon':
      return { target: request.targetId };
    case 'extended':
      return { oid: request.oid };
    case 'write': {
      const w = request.write;
      if (w.op === 'add') return { dn: w.dn, attributes: w.attributes.map((a) => a.type) };
      if (w.op === 'modify') return { dn: w.dn, changes: w.changes.map((c) => `${c.operation}:${c.type}`) };
      if (w.op === 'delete') return { dn: w.dn };
      return {};
    }
    case 'unbind':
      return {};
  }
}
