// Starts the metadata agent: the cache over an upstream, the limits, the job endpoints and the
// HTTP face, listening only on loopback or the configured link-local address (IMDS's
// 169.254.169.254 when the admin has given the machine that address). Used by
// `keyhaven agent run` and by `keyhaven serve`'s embedded agent.
import type { Logger } from 'pino';
import { StartupError } from '../errors.js';
import { buildAgentApp, type AgentStatus, type InstanceCompute } from './agent-app.js';
import { JobEndpoints } from './job-endpoints.js';
import { CallerLimits } from './rate-limit.js';
import { TokenCache, type TokenUpstream } from './token-cache.js';

export interface AgentOptions {
  address: string;
  port: number;
  upstream: TokenUpstream;
  instance: () => InstanceCompute;
  status: () => AgentStatus;
  logger: Logger;
  ratePerSecond: number;
  burst: number;
  concurrency: number;
  now?: () => number;
}

export interface RunningAgent {
  url: string;
  port: number;
  cache: TokenCache;
  close(): Promise<void>;
}

/** Loopback, or a link-local address (169.254.0.0/16): never an address other hosts can reach. */
export function isAgentAddress(address: string): boolean {
  return address === '::1' || /^127(\.\d{1,3}){3}$/.test(address) || /^169\.254(\.\d{1,3}){2}$/.test(address);
}

export async function startAgent(o: AgentOptions): Promise<RunningAgent> {
  if (!isAgentAddress(o.address)) {
    throw new StartupError('KH_AGENT_ADDRESS_INVALID', `agentAddress ${o.address} is not a loopback or link-local address: the metadata endpoint must not be reachable from other hosts`);
  }
  const now = o.now ?? Date.now;
  const cache = new TokenCache({ upstream: o.upstream, now });
  const limits = new CallerLimits({ ratePerSecond: o.ratePerSecond, burst: o.burst, concurrency: o.concurrency, now });
  const jobs = new JobEndpoints({ now });
  let url = '';
  const app = await buildAgentApp({ cache, limits, jobs, instance: o.instance, status: o.status, logger: o.logger, baseUrl: () => url, now });
  try {
    await app.listen({ host: o.address, port: o.port });
  } catch (err) {
    await app.close();
    throw new StartupError('KH_AGENT_LISTEN_FAILED', `the metadata agent cannot listen on ${o.address}:${o.port}: ${(err as Error).message}`);
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : o.port;
  url = `http://${o.address.includes(':') ? `[${o.address}]` : o.address}:${port}`;
  o.logger.info({ face: 'agent', url }, 'metadata agent listening');
  return { url, port, cache, close: () => app.close() };
}
