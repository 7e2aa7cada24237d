// The Azure CLI's exit codes, which scripts written for az already test for.
import { CommanderError } from 'commander';
import { NotFoundError } from '../errors.js';
import { UsageError } from './usage-error.js';

export const ExitCode = {
  Success: 0,
  Error: 1,
  /** The command line itself was wrong (argparse's code, which az keeps). */
  Usage: 2,
  /** az's ResourceNotFoundError. */
  NotFound: 3,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Commander "errors" that are really requests for help or the version: az exits 0 on these. */
const COMMANDER_SUCCESS_CODES = new Set([
  'commander.helpDisplayed',
  'commander.version',
  // A group named without a subcommand: commander shows its help; az does the same and exits 0.
  'commander.help',
]);

export function exitCodeFor(err: unknown): ExitCode {
  if (err instanceof CommanderError) {
    return COMMANDER_SUCCESS_CODES.has(err.code) ? ExitCode.Success : ExitCode.Usage;
  }
  if (err instanceof UsageError) return ExitCode.Usage;
  if (err instanceof NotFoundError) return ExitCode.NotFound;
  return ExitCode.Error;
}
