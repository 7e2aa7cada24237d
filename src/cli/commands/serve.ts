// `keyhaven serve`: runs the server until SIGTERM or SIGINT, then drains and stops.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { addServerConfigOptions, loadServerConfig } from '../server-config.js';

export function register(program: Command, ctx: CliContext): void {
  const serve = program
    .command('serve')
    .description('Run the Keyhaven server (HTTPS, and the other listeners as they are configured).');
  addServerConfigOptions(serve).action(async (opts: Record<string, unknown>) => {
    const config = loadServerConfig(opts, ctx);
    // Loaded here, not at the top: client commands should not load the whole server.
    const { createLogger } = await import('../../log/logger.js');
    const { startServer } = await import('../../server/serve.js');
    const logger = createLogger({ level: config.logLevel, name: 'keyhaven' });
    const server = await startServer(config, { logger, announce: (text) => ctx.stderr(text) });
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
    });
    logger.info({ signal }, 'signal received');
    await server.close();
  });
}
