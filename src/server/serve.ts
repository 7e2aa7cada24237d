// `keyhaven serve`: home → core services (storage, KEK, keys, audit) → TLS → bootstrap
// admin → listeners. Any failure before the server listens undoes what this start opened
// and surfaces as a one-line StartupError. SIGTERM/SIGINT drain in-flight requests
// (Fastify close) and close storage cleanly.
import { createServer, type AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../config/load.js';
import { ensureTls } from '../crypto/tls-ca.js';
import { masterKeyModeWarning } from '../crypto/master-key.js';
import { ensureBootstrapAdmin } from '../directory/bootstrap-admin.js';
import { StartupError } from '../errors.js';
import { buildHttpServer, type HttpApp } from '../http/server.js';
import { openCore, type CoreServices } from './core.js';
import { buildServices } from './services.js';
import { ensureHome } from './home.js';

export interface RunningServer {
  core: CoreServices;
  httpsUrl: string;
  httpsPort: number;
  caFile: string;
  close(): Promise<void>;
}

export interface StartOptions {
  logger: Logger;
  /** Where a generated admin password is shown once: the terminal, never the log. */
  announce: (text: string) => void;
}

export async function startServer(configured: ResolvedConfig, options: StartOptions): Promise<RunningServer> {
  const { logger } = options;
  const config = await withEphemeralPort(configured);
  ensureHome(config.home);
  const core = await openCore(config, { createMasterKey: true });
  let http: HttpApp | undefined;
  try {
    const warning = masterKeyModeWarning(config.masterKeyFile);
    if (warning) logger.warn(warning);
    const tls = await ensureTls({
      tlsDir: join(config.home, 'tls'),
      caCertFile: config.tlsCaCertFile,
      caKeyFile: config.tlsCaKeyFile,
      certFile: config.tlsCertFile,
      keyFile: config.tlsKeyFile,
      extraNames: config.tlsNames,
      hostname: hostname(),
      vaultDnsSuffix: config.vaultDnsSuffix,
    });
    const services = await buildServices(core);
    http = await buildHttpServer({ services, tls, logger });
    const httpsPort = await listen(http, config.httpsPort, config.bindAddress, 'HTTPS');
    // After the ports are ours, so that a start that cannot listen shows no password.
    const admin = await ensureBootstrapAdmin(core);
    if (admin.generatedPassword) {
      options.announce(
        `Keyhaven created the administrator "admin" with the password:\n\n    ${admin.generatedPassword}\n\n` +
          `It is shown once and kept in ${admin.passwordFile} (mode 0600).\n`,
      );
    }
    if (admin.configuredPasswordIgnored) {
      logger.warn('the configured admin password differs from the current password of "admin" and was not applied; use `keyhaven admin reset-password` to change it');
    }
    const host = config.bindAddress === '0.0.0.0' || config.bindAddress === '::' ? 'localhost' : config.bindAddress;
    const httpsUrl = `https://${host.includes(':') ? `[${host}]` : host}:${httpsPort}`;
    logger.info({ https: httpsUrl, publicUrl: config.publicUrl, storage: core.storage.description, tenantId: core.tenantId, ca: tls.caFile }, 'listening');
    const app = http;
    let closing: Promise<void> | undefined;
    return {
      core,
      httpsUrl,
      httpsPort,
      caFile: tls.caFile,
      close: () => (closing ??= shutdown(app, core, config.shutdownTimeoutMs, logger)),
    };
  } catch (err) {
    await http?.close().catch(() => undefined);
    await core.close().catch(() => undefined);
    throw err;
  }
}

/**
 * `httpsPort: 0` (tests) means any free port. Tokens, discovery and vault URIs all name the
 * port, so it is chosen before the services are built, and the default publicUrl follows it.
 */
async function withEphemeralPort(config: ResolvedConfig): Promise<ResolvedConfig> {
  if (config.httpsPort !== 0) return config;
  const probe = createServer();
  const port = await new Promise<number>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, config.bindAddress, () => resolve((probe.address() as AddressInfo).port));
  });
  await new Promise((resolve) => probe.close(resolve));
  const defaultUrl = 'https://localhost:0';
  return { ...config, httpsPort: port, publicUrl: config.publicUrl === defaultUrl ? `https://localhost:${port}` : config.publicUrl };
}

async function listen(app: HttpApp, port: number, host: string, what: string): Promise<number> {
  try {
    await app.listen({ port, host, listenTextResolver: () => '' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new StartupError('KH_PORT_IN_USE', `${what} port ${port} on ${host} is already in use`);
    if (code === 'EACCES') throw new StartupError('KH_PORT_DENIED', `${what} port ${port} on ${host} needs privileges this user lacks`);
    if (code === 'EADDRNOTAVAIL') throw new StartupError('KH_ADDRESS_UNAVAILABLE', `${what} address ${host} is not an address of this machine`);
    throw err;
  }
  const address = app.server.address();
  return typeof address === 'object' && address ? address.port : port;
}

async function shutdown(app: HttpApp, core: CoreServices, timeoutMs: number, logger: Logger): Promise<void> {
  logger.info('shutting down: draining in-flight requests');
  // Fastify's close stops accepting, answers new requests on open connections with 503,
  // closes idle keep-alive connections and waits for in-flight requests.
  const timer = setTimeout(() => {
    logger.warn('shutdown timeout: closing remaining connections');
    app.server.closeAllConnections();
  }, timeoutMs);
  try {
    await app.close();
  } finally {
    clearTimeout(timer);
  }
  await core.close();
  logger.info('stopped');
}
