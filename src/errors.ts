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

/**
 * An answer in LDAP's own terms (RFC 4511 §4.1.9): a result code, a diagnostic message written
 * for the client, and the matchedDN of a noSuchObject. The LDAP face throws it for what only
 * LDAP can say (a malformed DN, an unsupported control); core errors become one in a single
 * place, src/ldap/ldap-errors.ts. Its kind follows the result code, so code that handles
 * KeyhavenErrors by kind treats it as any other error of that kind.
 */
export class LdapResultError extends KeyhavenError {
  readonly kind: ErrorKind;
  readonly status: number;
  readonly resultCode: number;
  readonly matchedDn: string;

  constructor(resultCode: number, message: string, matchedDn = '', options: KeyhavenErrorOptions = {}) {
    super('KH_LDAP_RESULT', message, options);
    this.resultCode = resultCode;
    this.matchedDn = matchedDn;
    this.kind = kindOfResultCode(resultCode);
    this.status = STATUS_OF_KIND[this.kind];
  }
}

const STATUS_OF_KIND: Record<ErrorKind, number> = {
  NotFound: 404, Conflict: 409, PreconditionFailed: 412, Forbidden: 403, Unauthenticated: 401,
  InvalidInput: 400, Throttled: 429, Unavailable: 503, Internal: 500,
};

/** The error kind an LDAP result code (RFC 4511 Appendix A) stands for. */
function kindOfResultCode(code: number): ErrorKind {
  switch (code) {
    case 32: // noSuchObject
    case 16: // noSuchAttribute
      return 'NotFound';
    case 20: // attributeOrValueExists
    case 68: // entryAlreadyExists
      return 'Conflict';
    case 7: case 8: case 13: case 48: case 49: // authentication and confidentiality
      return 'Unauthenticated';
    case 50: // insufficientAccessRights
      return 'Forbidden';
    case 3: case 4: case 11: case 51: // limits, busy
      return 'Throttled';
    case 52: // unavailable
      return 'Unavailable';
    case 1: case 80: // operationsError, other
      return 'Internal';
    default:
      return 'InvalidInput';
  }
}
