// `keyhaven agent join|run|status|job create|job delete`: the machine identity agent, part of the
// one `keyhaven` command (issue 11). `join` enrolls the machine (as `keyhaven machine join`);
// `run` serves the IMDS-compatible metadata endpoint in the foreground until SIGTERM/SIGINT
// (as a systemd service: ExecStart=keyhaven agent run), logging JSON like the server; `status`
// and `job …` talk to a running agent over its loopback address.
import { Option, type Command } from 'commander';
import { startAgent } from '../../agent/agent-runner.js';
import { instanceOf } from '../../agent/instance-metadata.js';
import { ServerUpstream } from '../../agent/server-upstream.js';
import { createLogger } from '../../log/logger.js';
import { expandAtFile, parseServerUrl } from '../args.js';
import type { CliContext } from '../context.js';
import { defaultStateDir, joinMachine, machineSummary, type KeyType } from '../machine-credential.js';
import { UsageError } from '../usage-error.js';

interface AgentOptions {
  stateDir?: string;
  address: string;
  port: number;
  rate: number;
  burst: number;
  concurrency: number;
  logLevel: string;
}

const integer = (name: string, min: number, max: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`usage error: ${name} takes a whole number from ${min} to ${max}, not '${value}'`);
  return n;
};

export function register(program: Command, ctx: CliContext): void {
  const agent = program.command('agent').description('The machine identity agent: an Azure IMDS-compatible metadata endpoint for this machine.');
  const stateDir = () => new Option('--state-dir <dir>', 'Where the machine credential lives (default /var/lib/keyhaven-agent for root, ~/.keyhaven-agent otherwise).');
  const address = () => new Option('--address <ip>', 'Loopback or link-local address to listen on (169.254.169.254 when it is configured).').default('127.0.0.1');
  const port = () => new Option('--port <port>', 'Port (50342, the MSI extension\'s; 80 on 169.254.169.254).').default(50342).argParser(integer('--port', 0, 65535));

  agent
    .command('join')
    .description('Enroll this machine with a join token (`keyhaven vm join-token create`): the key pair is made here; only the public key is sent.')
    .requiredOption('--server <url>', 'The Keyhaven server, https://host:port.', parseServerUrl)
    .requiredOption('--token <token>', 'The join token; @file reads it from a file.')
    .option('--ca-file <pem>', "The server's CA certificate; pinned for every later request.")
    .addOption(stateDir())
    .addOption(new Option('--key-type <type>', 'Key pair to generate.').choices(['EC', 'RSA']).default('EC'))
    .action(async (opts: { server: string; token: string; caFile?: string; stateDir?: string; keyType: KeyType }) => {
      const dir = opts.stateDir ?? defaultStateDir(ctx.env);
      const state = await joinMachine({ server: opts.server, token: expandAtFile(opts.token).trim(), stateDir: dir, keyType: opts.keyType, ...(opts.caFile ? { caFile: opts.caFile } : {}) });
      ctx.print(machineSummary(state, dir));
    });

  agent
    .command('run')
    .description('Serve the metadata endpoint in the foreground until SIGTERM or SIGINT.')
    .addOption(stateDir())
    .addOption(address())
    .addOption(port())
    .addOption(new Option('--rate <n>', 'Requests per second per caller (0: unlimited; IMDS allows 20).').default(1000).argParser(integer('--rate', 0, 1_000_000)))
    .addOption(new Option('--burst <n>', 'Requests a caller may send at once above the rate.').default(2000).argParser(integer('--burst', 1, 1_000_000)))
    .addOption(new Option('--concurrency <n>', 'Requests of one caller in progress at once (0: unlimited; IMDS allows 5).').default(256).argParser(integer('--concurrency', 0, 100_000)))
    .addOption(new Option('--log-level <level>', 'Log level.').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'))
    .action(async (opts: AgentOptions) => {
      const dir = opts.stateDir ?? defaultStateDir(ctx.env);
      const upstream = new ServerUpstream(dir);
      const state = upstream.state(); // no credential: say so now, not at the first request
      const logger = createLogger({ level: opts.logLevel, name: 'keyhaven-agent' });
      const running = await startAgent({
        address: opts.address, port: opts.port, upstream, logger, ratePerSecond: opts.rate, burst: opts.burst, concurrency: opts.concurrency,
        instance: () => instanceOf(upstream.state()),
        status: () => {
          const s = upstream.state();
          return { server: s.server, machine: { id: s.machineId, resourceId: s.resourceId, clientId: s.clientId } };
        },
      });
      // The one line a supervisor or a test waits for.
      ctx.stdout(`${JSON.stringify({ listening: running.url, machine: state.machineId, resourceId: state.resourceId })}\n`);
      const signal = await new Promise<string>((resolve) => {
        process.once('SIGTERM', () => resolve('SIGTERM'));
        process.once('SIGINT', () => resolve('SIGINT'));
      });
      logger.info({ face: 'agent', signal }, 'metadata agent stopping');
      await running.close();
    });

  agent
    .command('status')
    .description('What a running agent serves: its server, machine, cached tokens and job endpoints.')
    .addOption(address())
    .addOption(port())
    .action(async (opts: { address: string; port: number }) => ctx.print(await call(opts, 'GET', '/keyhaven/status')));

  const job = agent.command('job').description('Per-job identity endpoints (App Service / Azure ML shape) for processes that cannot reach the metadata address.');
  job
    .command('create')
    .description("Mint a job endpoint; prints the environment to give the job (IDENTITY_ENDPOINT/IDENTITY_HEADER, MSI_ENDPOINT/MSI_SECRET).")
    .option('--client-id <id>', 'Limit the job to this user-assigned identity (default: any of the machine\'s).')
    .addOption(new Option('--ttl <seconds>', 'Lifetime of the endpoint.').default(3600).argParser(integer('--ttl', 1, 86_400)))
    .addOption(address())
    .addOption(port())
    .action(async (opts: { clientId?: string; ttl: number; address: string; port: number }) =>
      ctx.print(await call(opts, 'POST', '/keyhaven/jobs', { ttlSeconds: opts.ttl, ...(opts.clientId ? { client_id: opts.clientId } : {}) })));
}

async function call(opts: { address: string; port: number }, method: string, path: string, body?: unknown): Promise<unknown> {
  const host = opts.address.includes(':') ? `[${opts.address}]` : opts.address;
  let res: Response;
  try {
    res = await fetch(`http://${host}:${opts.port}${path}`, {
      method, headers: { Metadata: 'true', ...(body ? { 'content-type': 'application/json' } : {}) }, signal: AbortSignal.timeout(10_000),
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
  } catch (err) {
    throw new Error(`no agent answers on ${host}:${opts.port} (${(err as Error).message}); is 'keyhaven agent run' running?`);
  }
  const answer = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`the agent answered ${res.status}: ${String(answer['error_description'] ?? answer['error'] ?? '')}`);
  return answer;
}
