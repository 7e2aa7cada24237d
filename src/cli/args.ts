// Argument helpers shared by the client commands, following az's conventions.
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';

/**
 * az (knack) reads an argument value `@path` from that file, which keeps secrets out of the
 * process list and shell history; `keyhaven` does the same for passwords and secrets. One
 * trailing newline is dropped, since editors and `echo` add it.
 */
export function expandAtFile(value: string): string {
  if (!value.startsWith('@') || value.length === 1) return value;
  const file = value.slice(1);
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new InvalidArgumentError(`cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** az's three-state flags take `true`/`false` (any case). */
export function parseBool(value: string): boolean {
  const v = value.toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new InvalidArgumentError("allowed values: 'true', 'false'");
}

export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

/** An https:// server base URL, without a trailing slash, query or fragment. */
export function parseServerUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError(`'${value}' is not a URL`);
  }
  if (url.protocol !== 'https:') throw new InvalidArgumentError('the server must be an https:// URL');
  if (url.search || url.hash || url.username || url.password) {
    throw new InvalidArgumentError('the server URL must not have credentials, a query or a fragment');
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}
