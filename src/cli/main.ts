// Entry point of the `keyhaven` command (bin/keyhaven.js). Returns the exit code instead of
// exiting, so output is flushed normally and tests can run it in-process.
import { CommanderError } from 'commander';
import { StartupError, isKeyhavenError } from '../errors.js';
import { createContext, type CliIo } from './context.js';
import { exitCodeFor } from './exit-codes.js';
import { buildProgram, type RegisterCommands } from './program.js';

export interface MainOptions extends Partial<CliIo> {
  /** Registers more commands after the built-in ones (tests use it to throw chosen errors). */
  extraCommands?: RegisterCommands;
}

/** `argv` is in process.argv form: the node binary and the script come first. */
export async function main(argv: string[], options: MainOptions = {}): Promise<number> {
  const ctx = createContext({
    stdout: options.stdout ?? ((text) => void process.stdout.write(text)),
    stderr: options.stderr ?? ((text) => void process.stderr.write(text)),
    env: options.env ?? process.env,
  });
  try {
    const program = await buildProgram(ctx, options.extraCommands, argv);
    await program.parseAsync(argv, { from: 'node' });
    return 0;
  } catch (err) {
    const code = exitCodeFor(err);
    if (code === 0) return code; // --help, --version
    // A parse error can come before the globals are read; --debug still counts then.
    const debug = ctx.globals.debug || argv.includes('--debug');
    ctx.stderr(`ERROR: ${oneLine(errorMessage(err))}\n`);
    if (debug) ctx.stderr(stackOf(err));
    return code;
  }
}

/** What may be shown of an error: its message only, never its cause, detail or other fields. */
function errorMessage(err: unknown): string {
  if (err instanceof CommanderError) return err.message.replace(/^error: /, '');
  if (isKeyhavenError(err)) {
    return err.expose ? err.message : `An internal error occurred (${err.code}).`;
  }
  if (err instanceof StartupError) return err.message;
  if (err instanceof Error) return err.message;
  return 'An unexpected error occurred.';
}

function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ').trim();
}

/** The error's name and call frames; its message is left out since it may not be showable. */
function stackOf(err: unknown): string {
  if (!(err instanceof Error) || err.stack === undefined) return '';
  const frames = err.stack.split('\n').filter((line) => /^\s+at /.test(line));
  return `${[err.name, ...frames].join('\n')}\n`;
}
