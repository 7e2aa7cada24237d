// The LDAP face's listeners: LDAP (StartTLS available) and LDAPS (TLS from the first byte),
// both with the server certificate, sharing one connection limit. Closing stops accepting and
// ends every connection with a Notice of Disconnection (RFC 4511 §4.4.1, unavailable).
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createSecureContext, createServer as createTlsServer } from 'node:tls';
import type { Logger } from 'pino';
import type { TlsMaterial } from '../../crypto/tls-ca.js';
import { StartupError } from '../../errors.js';
import { LDAP_RESULT, type LdapDirectory } from '../ldap-directory.js';
import { LdapAccessLog, type AccessLogLevel } from './access-log.js';
import { LdapConnection } from './ldap-connection.js';
import type { LdapLimits } from './operation-context.js';

export interface LdapServerOptions {
  directory: LdapDirectory;
  tls: Pick<TlsMaterial, 'certPem' | 'keyPem'>;
  limits: LdapLimits;
  logger: Logger;
  /** `ldapAccessLog`: the level of the per-operation access lines, or `off`. */
  accessLog?: AccessLogLevel;
  /** Every operation's type, result code and duration (metrics). */
  observeOperation?: (operation: string, resultCode: number | undefined, seconds: number) => void;
}

export class LdapServer {
  private readonly connections = new Set<LdapConnection>();
  private readonly servers: Server[] = [];
  private readonly secureContext;
  private readonly accessLog: LdapAccessLog;
  private nextConnectionId = 1;

  constructor(private readonly options: LdapServerOptions) {
    this.secureContext = createSecureContext({ cert: options.tls.certPem, key: options.tls.keyPem, minVersion: 'TLSv1.2' });
    this.accessLog = new LdapAccessLog(options.logger, options.accessLog ?? 'info', options.observeOperation);
  }

  /** Listens for plain LDAP; resolves with the port (the actual one when `port` is 0). */
  listenLdap(port: number, host: string): Promise<number> {
    const server = createNetServer({ allowHalfOpen: true }, (socket) => this.accept(socket, false));
    return this.listen(server, port, host, 'LDAP');
  }

  listenLdaps(port: number, host: string): Promise<number> {
    const server = createTlsServer({ allowHalfOpen: true, cert: this.options.tls.certPem, key: this.options.tls.keyPem, minVersion: 'TLSv1.2' }, (socket) => this.accept(socket, true));
    // A failed handshake is the client's problem, not the server's.
    server.on('tlsClientError', (_err, socket) => socket.destroy());
    return this.listen(server, port, host, 'LDAPS');
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  async close(): Promise<void> {
    const closed = this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    for (const connection of this.connections) connection.disconnect(LDAP_RESULT.unavailable, 'the server is shutting down');
    await Promise.all(closed);
  }

  private accept(socket: Socket, secure: boolean): void {
    if (this.connections.size >= this.options.limits.maxConnections) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const connection: LdapConnection = new LdapConnection(
      this.nextConnectionId++,
      socket,
      secure,
      { directory: this.options.directory, limits: this.options.limits, logger: this.options.logger, accessLog: this.accessLog, secureContext: this.secureContext },
      () => this.connections.delete(connection),
    );
    this.connections.add(connection);
  }

  private async listen(server: Server, port: number, host: string, what: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') throw new StartupError('KH_PORT_IN_USE', `${what} port ${port} on ${host} is already in use`);
      if (err.code === 'EACCES') throw new StartupError('KH_PORT_DENIED', `${what} port ${port} on ${host} needs privileges this user lacks`);
      if (err.code === 'EADDRNOTAVAIL') throw new StartupError('KH_ADDRESS_UNAVAILABLE', `${what} address ${host} is not an address of this machine`);
      throw err;
    });
    this.servers.push(server);
    server.on('error', (err) => this.options.logger.error({ err }, `${what} listener error`));
    return (server.address() as AddressInfo).port;
  }
}
