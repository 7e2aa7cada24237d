// Error answers of the server turned into Keyhaven's error classes, by HTTP status, so that main
// prints one line and exits as az does (404 → 3, everything else → 1). Three bodies are read:
//   Graph / ARM:    {"error": {"code", "message"}}
//   OAuth (Entra):  {"error": "invalid_grant", "error_description": "AADSTS50126: … Trace ID: …"}
//   anything else:  the status alone (a proxy's HTML page is never echoed)
import {
  ConflictError,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  PreconditionFailedError,
  ThrottledError,
  UnauthenticatedError,
  UnavailableError,
} from '../errors.js';
import type { HttpsResponse } from './https-request.js';

/** A 5xx other than 503: the server failed; its (already redacted) message is shown. */
export class ServerError extends Error {
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.name = 'ServerError';
    this.status = status;
  }
}

/** OAuth errors that mean "who you say you are did not check out", not "bad request". */
const OAUTH_AUTH_FAILURES = new Set(['invalid_grant', 'invalid_client', 'unauthorized_client']);

/**
 * Entra's error_description is "AADSTS50126: text. Trace ID: … Correlation ID: … Timestamp: …";
 * az shows the AADSTS code and the text. Keep its first sentence, which is the text proper.
 */
export function firstSentence(description: string): string {
  const text = description.split(/\s+Trace ID:/)[0]!.trim();
  const match = /^.*?[.!?](?=\s|$)/s.exec(text);
  return (match ? match[0] : text).replace(/\s+/g, ' ');
}

interface ParsedError {
  code: string;
  message: string;
  oauth: boolean;
}

function parseBody(res: HttpsResponse, origin: string): ParsedError {
  let body: unknown;
  try {
    body = JSON.parse(res.text);
  } catch {
    body = undefined;
  }
  if (typeof body === 'object' && body !== null) {
    const error = (body as { error?: unknown }).error;
    if (typeof error === 'object' && error !== null) {
      const { code, message } = error as { code?: unknown; message?: unknown };
      if (typeof message === 'string' && message !== '') {
        return { code: typeof code === 'string' ? code : `HTTP_${res.status}`, message, oauth: false };
      }
    }
    if (typeof error === 'string') {
      const description = (body as { error_description?: unknown }).error_description;
      const message = typeof description === 'string' && description !== '' ? firstSentence(description) : error;
      return { code: error, message, oauth: true };
    }
  }
  return { code: `HTTP_${res.status}`, message: `${origin} answered HTTP ${res.status}`, oauth: false };
}

export function errorFromResponse(res: HttpsResponse, origin: string): Error {
  const { code, message, oauth } = parseBody(res, origin);
  const retryAfter = Number(res.headers['retry-after']);
  const options = Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterSeconds: retryAfter } : {};
  if (oauth && OAUTH_AUTH_FAILURES.has(code)) return new UnauthenticatedError(code, message, options);
  switch (res.status) {
    case 400:
      return new InvalidInputError(code, message, options);
    case 401:
      return new UnauthenticatedError(code, message, options);
    case 403:
      return new ForbiddenError(code, message, options);
    case 404:
      return new NotFoundError(code, message, options);
    case 409:
      return new ConflictError(code, message, options);
    case 412:
      return new PreconditionFailedError(code, message, options);
    case 429:
      return new ThrottledError(code, message, options);
    case 503:
      return new UnavailableError(code, message, options);
    default:
      if (res.status >= 500) {
        const shown = message.endsWith(`HTTP ${res.status}`) ? message : `${message} (HTTP ${res.status})`;
        return new ServerError(shown, res.status);
      }
      return new InvalidInputError(code, message, options);
  }
}
