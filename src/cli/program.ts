// The commander program: the `keyhaven` root, az's global options, and settings that every
// (sub)command must share so that no code path in commander ever calls process.exit.
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { registerAll } from './commands/index.js';
import type { CliContext, GlobalOptions } from './context.js';
import { OUTPUT_FORMATS, type OutputFormat } from './output.js';
import { parseQueryOption } from './query.js';

export type RegisterCommands = (program: Command, ctx: CliContext) => void;

/** `argv` (process.argv form) lets registerAll leave out groups the command line cannot reach. */
export async function buildProgram(
  ctx: CliContext & { globals: GlobalOptions },
  extraCommands?: RegisterCommands,
  argv?: readonly string[],
): Promise<Command> {
  const program = new Command('keyhaven')
    .description('Keyhaven: identity and secrets for your team, driven like the Azure CLI.')
    .version(packageVersion(), '--version', 'Show the version and exit.')
    .addOption(
      new Option('-o, --output <format>', 'Output format.').choices(OUTPUT_FORMATS).default('json'),
    )
    .addOption(new Option('--query <JMESPath>', 'JMESPath query string.').argParser(parseQueryOption))
    .option('--debug', 'Increase logging verbosity to show all debug logs and stack traces.')
    .option('--only-show-errors', 'Only show errors, suppressing warnings.');

  await registerAll(program, ctx, argv);
  extraCommands?.(program, ctx);
  applyToAll(program, ctx);

  // Global options may follow the subcommand (`keyhaven x list -o table`); commander parses
  // them on the root either way, so read them from there once parsing is complete.
  program.hook('preAction', () => {
    const opts = program.opts<{ output: OutputFormat; query?: string; debug?: boolean; onlyShowErrors?: boolean }>();
    ctx.globals.output = opts.output;
    ctx.globals.query = opts.query;
    ctx.globals.debug = opts.debug === true;
    ctx.globals.onlyShowErrors = opts.onlyShowErrors === true;
  });
  return program;
}

/**
 * Commander copies these settings only into subcommands made with `.command()` after they are
 * set, so they are applied to the finished tree: modules may also build groups with addCommand.
 */
function applyToAll(cmd: Command, ctx: CliContext): void {
  cmd.exitOverride();
  cmd.helpOption('-h, --help', 'Show this help message and exit.');
  cmd.configureOutput({
    writeOut: (text) => ctx.stdout(text),
    // Once outputError is taken over, commander writes here only the help of a group named
    // without a subcommand; az shows that help on stdout and succeeds.
    writeErr: (text) => ctx.stdout(text),
    // main prints parse errors itself, as one `ERROR:` line like every other error.
    outputError: () => {},
  });
  cmd.configureHelp({ showGlobalOptions: true });
  for (const sub of cmd.commands) applyToAll(sub, ctx);
}

function packageVersion(): string {
  // src/cli/ and dist/cli/ are both two levels below the package root.
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
