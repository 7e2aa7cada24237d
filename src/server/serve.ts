// `keyhaven serve`: home → core services (storage, KEK, keys, audit) → TLS → bootstrap
// admin → listeners. Any failure before the server listens undoes what this start opened
// and surfaces as a one-line StartupError. SIGTERM/SIGINT drain in-flight requests
// (Fastify close) and close storage cleanly.
import { readFileSync } from 'node:fs';
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
import { LdapServer } from '../ldap/server/ldap-server.js';
import type { LdapLimits } from '../ldap/server/operation-context.js';
import { LdapView } from '../ldap/view/ldap-view.js';
import { ldapViewConfig } from '../ldap/view/view-config.js';
import { startAgent, type RunningAgent } from '../agent/agent-runner.js';
import { instanceOf } from '../agent/instance-metadata.js';
import { ServerUpstream } from '../agent/server-upstream.js';
import { ensureHostMachine } from './host-machine.js';
import { startMetricsListener } from './metrics-listener.js';
import { openCore, type CoreServices } from './core.js';
import { Readiness } from './readiness.js';
import { buildServices } from './services.js';
import { BackupScheduler, scheduleIntervalMs } from './backup-schedule.js';
import { ensureHome } from './home.js';

export interface RunningServer {
  core: CoreServices;
  httpsUrl: string;
  httpsPort: number;
  ldapPort: number;
  ldapsPort: number;
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
  const core = await openCore(config, { createMasterKey: true, processMetrics: true, auditStream: { onError: (err) => logger.error({ err: { message: err.message } }, 'the audit stream file cannot be written') } });
  let http: HttpApp | undefined;
  let ldap: LdapServer | undefined;
  let agent: RunningAgent | undefined;
  let metricsListener: { close(): Promise<void> } | undefined;
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
    // Tokens are counted by the kind of API they are for (bounded: never the audience string).
    const kinds = new Map<string, 'management' | 'directory' | 'vault'>();
    for (const kind of ['management', 'directory', 'vault'] as const) for (const a of services.audiences.aliases(kind)) kinds.set(a.toLowerCase().replace(/\/+$/, ''), kind);
    core.metrics.audienceKind = (audience) => kinds.get(audience.toLowerCase().replace(/\/+$/, '')) ?? (audience.startsWith('api://') || /^[0-9a-f-]{36}$/i.test(audience) ? 'application' : 'other');
    const readiness = new Readiness(core.storage);
    http = await buildHttpServer({ services, tls, logger, readiness });
    const httpsPort = await listen(http, config.httpsPort, config.bindAddress, 'HTTPS');
    ldap = new LdapServer({
      directory: new LdapView({ directory: services.directory, config: ldapViewConfig(config) }),
      tls,
      limits: ldapLimits(config),
      logger,
      accessLog: config.ldapAccessLog,
      observeOperation: (op, result, seconds) => core.metrics.ldapOperation(op, result, seconds),
    });
    // Port 0 (tests) listens on any free port; nothing else names the LDAP ports, so the
    // actual ones are simply read back and logged.
    const ldapPort = await ldap.listenLdap(config.ldapPort, config.bindAddress);
    const ldapsPort = await ldap.listenLdaps(config.ldapsPort, config.bindAddress);
    // After the ports are ours, so that a start that cannot listen shows no password.
    const admin = await ensureBootstrapAdmin(core);
    // The default subscription, with the admin as its Owner, once (issue 10: a fresh server is never locked).
    const adminUser = await core.storage.read.users.byUsername('admin');
    if (config.metricsPort !== 0) {
      try {
        metricsListener = await startMetricsListener(core.metrics, config.metricsPort);
      } catch (err) {
        throw new StartupError('KH_METRICS_LISTEN_FAILED', `cannot listen for metrics on 127.0.0.1:${config.metricsPort}: ${(err as Error).message}`);
      }
    }
    const defaultSubscription = adminUser ? await services.resources.ensureDefaultSubscription(adminUser.id) : undefined;
    // The embedded metadata agent for this machine (issue 11): its own identity, its own port.
    if (config.agentEnabled && config.agentPort !== 0 && defaultSubscription !== undefined) {
      const stateDir = join(config.home, 'agent');
      await ensureHostMachine(services, { stateDir, subscriptionId: defaultSubscription, caPem: readFileSync(tls.caFile, 'utf8'), logger });
      const upstream = new ServerUpstream(stateDir);
      agent = await startAgent({
        address: config.agentAddress, port: config.agentPort, upstream, logger,
        ratePerSecond: config.agentRatePerSecond, burst: config.agentBurst, concurrency: config.agentConcurrency,
        instance: () => instanceOf(upstream.state()),
        status: () => {
          const st = upstream.state();
          return { server: st.server, machine: { id: st.machineId, resourceId: st.resourceId, clientId: st.clientId } };
        },
      });
    }
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
    const hostPart = host.includes(':') ? `[${host}]` : host;
    const httpsUrl = `https://${hostPart}:${httpsPort}`;
    const ldapUrl = `ldap://${hostPart}:${ldapPort}`;
    const ldapsUrl = `ldaps://${hostPart}:${ldapsPort}`;
    // Only now is every part a client may use in place: /readyz says so from here on.
    readiness.markReady();
    const backups = config.backupSchedule
      ? new BackupScheduler(core, { intervalMs: scheduleIntervalMs(config.backupSchedule), dir: config.backupDir, keep: config.backupKeep, logger })
      : undefined;
    backups?.start();
    logger.info({ https: httpsUrl, ldap: ldapUrl, ldaps: ldapsUrl, publicUrl: config.publicUrl, storage: core.storage.description, tenantId: core.tenantId, ca: tls.caFile }, 'listening');
    const app = http;
    const directoryServer = ldap;
    const embeddedAgent = agent;
    const metricsServer = metricsListener;
    let closing: Promise<void> | undefined;
    return {
      core,
      httpsUrl,
      httpsPort,
      ldapPort,
      ldapsPort,
      caFile: tls.caFile,
      close: () => (closing ??= (async () => {
        readiness.markStopping();
        await backups?.stop();
        await embeddedAgent?.close();
        await metricsServer?.close();
        await shutdown(app, directoryServer, core, config.shutdownTimeoutMs, logger);
      })()),
    };
  } catch (err) {
    await agent?.close().catch(() => undefined);
    await metricsListener?.close().catch(() => undefined);
    await ldap?.close().catch(() => undefined);
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

/** The LDAP face's limits, from the configuration (src/config/schema.ts, `ldap*` keys). */
function ldapLimits(config: ResolvedConfig): LdapLimits {
  return {
    // Allowing anonymous searches means allowing the anonymous bind they start with.
    anonymousBind: config.ldapAnonymousBind || config.ldapAnonymousSearch,
    requireTlsForBind: config.ldapRequireTlsForBind,
    maxMessageBytes: config.ldapMaxMessageBytes,
    maxConnections: config.ldapMaxConnections,
    maxOperationsPerConnection: config.ldapMaxOperationsPerConnection,
    idleTimeoutMs: config.ldapIdleTimeoutSeconds * 1000,
    sizeLimit: config.ldapSizeLimit,
    timeLimitMs: config.ldapTimeLimitSeconds * 1000,
    adminWrites: config.ldapAdminWrites,
  };
}

async function shutdown(app: HttpApp, ldap: LdapServer, core: CoreServices, timeoutMs: number, logger: Logger): Promise<void> {
  logger.info('shutting down: draining in-flight requests');
  // LDAP clients get a Notice of Disconnection (RFC 4511 §4.4.1) and reconnect elsewhere.
  await ldap.close();
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
