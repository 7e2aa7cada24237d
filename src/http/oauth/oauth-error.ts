// OAuth 2.0 errors as Microsoft Entra ID renders them (RFC 6749 §5.2 plus Entra's fields):
//   { error, error_description: "AADSTS…: text Trace ID: … Correlation ID: … Timestamp: …",
//     error_codes: [n], timestamp, trace_id, correlation_id }
// MSAL and the Azure SDKs read `error`, `error_codes` and `error_description`. The mapping from
// Keyhaven's error codes to Entra's is a table keyed by code, never by message text.
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { KeyhavenError, type ErrorKind } from '../../errors.js';
import { logIfServerError, toKeyhavenError } from '../error-handler.js';

interface EntraError {
  error: string;
  aadsts: number;
  status: number;
  /** Fixed text; when absent the (exposable) Keyhaven message is used. */
  text?: string;
}

const BY_CODE: Record<string, EntraError> = {
  KH_OAUTH_MISSING_GRANT_TYPE: { error: 'invalid_request', aadsts: 900144, status: 400 },
  KH_OAUTH_MISSING_PARAMETER: { error: 'invalid_request', aadsts: 900144, status: 400 },
  KH_OAUTH_MISSING_RESOURCE: { error: 'invalid_request', aadsts: 900144, status: 400 },
  KH_OAUTH_MISSING_SCOPE: { error: 'invalid_request', aadsts: 900144, status: 400 },
  KH_OAUTH_DUPLICATE_PARAMETER: { error: 'invalid_request', aadsts: 9000411, status: 400 },
  KH_OAUTH_BAD_CONTENT_TYPE: { error: 'invalid_request', aadsts: 900144, status: 400 },
  KH_OAUTH_BAD_REQUEST: { error: 'invalid_request', aadsts: 900144, status: 400 },
  KH_OAUTH_UNSUPPORTED_GRANT: { error: 'unsupported_grant_type', aadsts: 70003, status: 400 },
  KH_OAUTH_TENANT_NOT_FOUND: { error: 'invalid_request', aadsts: 90002, status: 400 },
  KH_OAUTH_CLIENT_AUTH_CONFLICT: { error: 'invalid_request', aadsts: 9002313, status: 400 },
  KH_UNKNOWN_RESOURCE: { error: 'invalid_resource', aadsts: 500011, status: 400 },
  KH_UNKNOWN_SCOPE: { error: 'invalid_scope', aadsts: 500011, status: 400 },
  KH_INVALID_SCOPE: { error: 'invalid_scope', aadsts: 70011, status: 400 },
  KH_CLIENT_SECRET_REQUIRED: { error: 'invalid_client', aadsts: 7000218, status: 401, text: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'." },
  KH_CLIENT_NOT_FOUND: { error: 'unauthorized_client', aadsts: 700016, status: 400 },
  KH_CLIENT_DISABLED: { error: 'unauthorized_client', aadsts: 7000112, status: 400, text: 'Application is disabled.' },
  KH_INVALID_CLIENT_SECRET: { error: 'invalid_client', aadsts: 7000215, status: 401, text: 'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.' },
  KH_CLIENT_SECRET_EXPIRED: { error: 'invalid_client', aadsts: 7000222, status: 401, text: 'The provided client secret keys are expired.' },
  KH_INVALID_CREDENTIALS: { error: 'invalid_grant', aadsts: 50126, status: 400, text: 'Error validating credentials due to invalid username or password.' },
  KH_ACCOUNT_DISABLED: { error: 'invalid_grant', aadsts: 50057, status: 400, text: 'The user account is disabled.' },
  KH_ACCOUNT_LOCKED: { error: 'invalid_grant', aadsts: 50053, status: 400, text: 'The account is locked because of too many sign-in attempts with a wrong password. Try again later.' },
  KH_SOURCE_THROTTLED: { error: 'invalid_grant', aadsts: 50053, status: 400, text: 'Sign-in was blocked because it came from an address with too many failed sign-ins. Try again later.' },
  KH_OAUTH_PASSWORD_GRANT_DISABLED: { error: 'unsupported_grant_type', aadsts: 70003, status: 400, text: 'The password grant is turned off on this server.' },
};

const BY_KIND: Record<ErrorKind, EntraError> = {
  InvalidInput: { error: 'invalid_request', aadsts: 900144, status: 400 },
  Unauthenticated: { error: 'invalid_client', aadsts: 7000215, status: 401 },
  Forbidden: { error: 'unauthorized_client', aadsts: 700016, status: 400 },
  NotFound: { error: 'invalid_request', aadsts: 90002, status: 400 },
  Conflict: { error: 'invalid_request', aadsts: 900144, status: 400 },
  PreconditionFailed: { error: 'invalid_request', aadsts: 900144, status: 400 },
  Throttled: { error: 'temporarily_unavailable', aadsts: 50196, status: 429 },
  Unavailable: { error: 'temporarily_unavailable', aadsts: 90033, status: 503, text: 'A transient error has occurred. Please try again.' },
  Internal: { error: 'server_error', aadsts: 90100, status: 500, text: 'An internal error occurred.' },
};

export function entraError(err: KeyhavenError): EntraError {
  return BY_CODE[err.code] ?? BY_KIND[err.kind];
}

/** Entra's timestamp format: `2026-11-23 14:30:00Z`. */
const entraTime = (d: Date) => d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');

export function oauthErrorHandler(err: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const error = toKeyhavenError(err);
  logIfServerError(request, error, err);
  const entra = entraError(error);
  const traceId = randomUUID();
  const correlationId = request.id;
  const timestamp = entraTime(new Date());
  const text = entra.text ?? (error.expose ? error.message : 'An internal error occurred.');
  const status = error.kind === 'InvalidInput' && error.status !== 400 ? error.status : entra.status;
  if (status === 401) reply.header('www-authenticate', `Basic realm="${request.hostname}"`);
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
  void reply
    .status(status)
    .header('cache-control', 'no-store')
    .send({
      error: entra.error,
      error_description: `AADSTS${entra.aadsts}: ${text} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      error_codes: [entra.aadsts],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
    });
}
