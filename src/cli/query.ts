// --query: a JMESPath expression applied to a command's result before it is formatted, as az
// does. The community implementation follows the JMESPath spec az's `jmespath` package does.
import { InvalidArgumentError } from 'commander';
import { compile, search, type JSONValue } from '@jmespath-community/jmespath';
import { UsageError } from './usage-error.js';

/**
 * commander argParser for --query: a syntax error stops the command before it does anything,
 * as a usage error naming the option.
 */
export function parseQueryOption(expression: string): string {
  try {
    compile(expression);
  } catch (err) {
    throw new InvalidArgumentError(messageOf(err));
  }
  return expression;
}

export function applyQuery(value: JSONValue, expression: string): JSONValue {
  try {
    return search(value, expression);
  } catch (err) {
    // Runtime failures (unknown function, wrong argument type) are still faults of the query.
    throw new UsageError(`argument --query: ${messageOf(err)}`);
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
