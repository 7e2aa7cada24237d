// Secrets are marked, not remembered: code that handles a secret (a password, a client secret,
// a Key Vault secret's value) passes it around as a SecretValue, and every way an object turns
// into text (JSON.stringify and so the logger, String(), template literals and `+`,
// util.inspect and so console.log) yields "[REDACTED]". Only reveal() returns the value, so each
// place that really needs it is explicit and easy to review.
import { inspect } from 'node:util';

export const REDACTED = '[REDACTED]';

export class SecretValue {
  // An ES private field: not an own enumerable property, so not copied by JSON.stringify,
  // Object.keys / spread, structuredClone or util.inspect.
  readonly #value: string;

  constructor(value: string) {
    if (typeof value !== 'string') throw new TypeError('SecretValue holds a string');
    this.#value = value;
    Object.freeze(this);
  }

  reveal(): string {
    return this.#value;
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `SecretValue(${REDACTED})`;
  }
}
