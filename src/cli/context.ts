// What every command gets: where to write, the environment, the global options (--output,
// --query, --debug, --only-show-errors) and the login-state directory. Commands compute a
// value and hand it to `print`; they report failure by throwing, and main turns the error into
// one `ERROR:` line and az's exit code. Writers and env are injectable so tests need no process.
import { configDir, readState, removeState, writeState } from './config-dir.js';
import { formatOutput, type OutputFormat } from './output.js';
import { applyQuery } from './query.js';
import type { JSONValue } from '@jmespath-community/jmespath';

export type Writer = (text: string) => void;

export interface CliIo {
  stdout: Writer;
  stderr: Writer;
  env: NodeJS.ProcessEnv;
}

export interface GlobalOptions {
  output: OutputFormat;
  /** A JMESPath expression, already checked for syntax. */
  query: string | undefined;
  debug: boolean;
  onlyShowErrors: boolean;
}

export interface PrintOptions {
  /**
   * az's table_transformer: reshapes the result for `--output table` only, and only when no
   * --query is given (a query already chose the columns).
   */
  table?: (result: unknown) => unknown;
}

export interface CliContext extends CliIo {
  /** Filled in from the command line before any command's action runs. */
  readonly globals: GlobalOptions;
  /** Applies --query, then writes the result in the --output format. */
  print(result: unknown, options?: PrintOptions): void;
  /** `WARNING: …` on stderr, unless --only-show-errors. */
  warn(message: string): void;
  /** `DEBUG: …` on stderr, only with --debug. */
  debug(message: string): void;
  configDir(): string;
  readState<T>(name: string): Promise<T | undefined>;
  writeState(name: string, value: unknown): Promise<void>;
  removeState(name: string): Promise<void>;
}

export function defaultGlobals(): GlobalOptions {
  return { output: 'json', query: undefined, debug: false, onlyShowErrors: false };
}

export function createContext(io: CliIo): CliContext & { globals: GlobalOptions } {
  const ctx = {
    ...io,
    globals: defaultGlobals(),
    print(result: unknown, options: PrintOptions = {}): void {
      const { output, query } = ctx.globals;
      if (result === undefined) return;
      let value: unknown = toJson(result);
      if (query !== undefined) value = applyQuery(value as JSONValue, query);
      else if (output === 'table' && options.table) value = options.table(value);
      const text = formatOutput(value, output);
      if (text !== '') io.stdout(text);
    },
    warn(message: string): void {
      if (!ctx.globals.onlyShowErrors) io.stderr(`WARNING: ${message}\n`);
    },
    debug(message: string): void {
      if (ctx.globals.debug) io.stderr(`DEBUG: ${message}\n`);
    },
    configDir: () => configDir(io.env),
    readState: <T>(name: string) => readState<T>(name, io.env),
    writeState: (name: string, value: unknown) => writeState(name, value, io.env),
    removeState: (name: string) => removeState(name, io.env),
  };
  return ctx;
}

/** Plain JSON (Dates as strings, no undefined), so queries and formats see what json shows. */
function toJson(value: unknown): unknown {
  const text = JSON.stringify(value);
  return text === undefined ? undefined : JSON.parse(text);
}
