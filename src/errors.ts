// One error hierarchy for the whole core. Every error carries a stable `code` (documented in
// docs/errors.md and checked by test/unit/errors.test.ts), an HTTP-ish `status` that faces may
// use as a default, and `expose`: whether its message may be shown to the caller. Each protocol
// face maps these by class (never by message text) to its own wire format: OAuth error JSON,
// ARM / Key Vault error JSON, an LDAP result code, IMDS JSON.

export type ErrorKind =
  | 'NotFound'
  | 'Conflict'
  | 'PreconditionFailed'
  | 'Forbidden'
  | 'Unauthenticated'
  | 'InvalidInput'
  | 'Throttled'
  | 'Unavailable'
  | 'Internal';

export interface KeyhavenErrorOptions {
  cause?: unknown;
  /** Extra, non-secret detail a face may render (for example the offending parameter). */
  detail?: Record<string, string | number | boolean>;
  /** Seconds after which a throttled or unavailable request may be retried. */
  retryAfterSeconds?: number;
}

export abstract class KeyhavenError extends Error {
  abstract readonly kind: ErrorKind;
  abstract readonly status: number;
  /** Whether `message` is safe to send to the caller. Internal errors never are. */
  readonly expose: boolean = true;
  readonly code: string;
  readonly detail: Record<string, string | number | boolean> | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: string, message: string, options: KeyhavenErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.detail = options.detail;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.name = new.target.name;
  }
}

export class NotFoundError extends KeyhavenError {
  readonly kind = 'NotFound';
  readonly status = 404;
}

export class ConflictError extends KeyhavenError {
  readonly kind = 'Conflict';
  readonly status = 409;
}

/** Optimistic concurrency: the caller's etag/version no longer matches (RFC 9110 §13.1.1). */
export class PreconditionFailedError extends KeyhavenError {
  readonly kind = 'PreconditionFailed';
  readonly status = 412;
}

export class ForbiddenError extends KeyhavenError {
  readonly kind = 'Forbidden';
  readonly status = 403;
}

export class UnauthenticatedError extends KeyhavenError {
  readonly kind = 'Unauthenticated';
  readonly status = 401;
}

export class InvalidInputError extends KeyhavenError {
  readonly kind = 'InvalidInput';
  readonly status = 400;
}

export class ThrottledError extends KeyhavenError {
  readonly kind = 'Throttled';
  readonly status = 429;
}

export class UnavailableError extends KeyhavenError {
  readonly kind = 'Unavailable';
  readonly status = 503;
}

/** A bug or an unexpected failure. Its message is logged, never shown. */
export class InternalError extends KeyhavenError {
  readonly kind = 'Internal';
  readonly status = 500;
  override readonly expose = false;
}

/** A configuration or start-up problem: the server refuses to start with one line. */
export class StartupError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'StartupError';
  }
}

export function isKeyhavenError(err: unknown): err is KeyhavenError {
  return err instanceof KeyhavenError;
}
