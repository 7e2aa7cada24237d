// OAuth 2.0 errors as Microsoft Entra ID renders them (RFC 6749 §5.2 plus Entra's fields):
//   { error, error_description: "AADSTS…: text Trace ID: … Correlation ID: … Timestamp: …",
//     error_codes: [n], timestamp, trace_id, correlation_id }
// MSAL and the Azure SDKs read `error`, `error_codes` and `error_description`.
//
// One class per wire `error` value, with its HTTP status (node-oidc-provider's lib/helpers/
// errors.js is the model): InvalidRequest, InvalidClient, InvalidGrant, … The core throws
// KeyhavenErrors with stable codes; CODE_TABLE turns a code into its wire class, AADSTS number
// and (for a few) Entra's fixed text — by code, never by message text. oauthErrorHandler is the
// one place they are rendered. docs/errors.md lists the table (test/unit/oauth-errors.test.ts
// checks both agree).
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorKind, KeyhavenError } from '../../errors.js';
import { logIfServerError, toKeyhavenError } from '../error-handler.js';

/** An OAuth error on the wire: its `error` value, status, Entra's AADSTS number and text. */
export abstract class OAuthError {
  abstract readonly error: string;
  abstract readonly status: number;
  constructor(
    readonly aadsts: number,
    /** Fixed text; when absent the (exposable) Keyhaven message is used. */
    readonly text?: string,
  ) {}
}

/** RFC 6749 §5.2 */
export class InvalidRequest extends OAuthError { readonly error = 'invalid_request'; readonly status = 400; }
/** RFC 6749 §5.2: 401 with WWW-Authenticate when the client authenticated (or should have). */
export class InvalidClient extends OAuthError { readonly error = 'invalid_client'; readonly status = 401; }
export class InvalidGrant extends OAuthError { readonly error = 'invalid_grant'; readonly status = 400; }
export class UnauthorizedClient extends OAuthError { readonly error = 'unauthorized_client'; readonly status = 400; }
export class UnsupportedGrantType extends OAuthError { readonly error = 'unsupported_grant_type'; readonly status = 400; }
export class InvalidScope extends OAuthError { readonly error = 'invalid_scope'; readonly status = 400; }
/** Entra's v1 endpoint: an unknown `resource=` (RFC 8707 calls it invalid_target). */
export class InvalidResource extends OAuthError { readonly error = 'invalid_resource'; readonly status = 400; }
/** RFC 6749 §4.1.2.1; Entra answers throttled requests with 429. */
export class TemporarilyUnavailable extends OAuthError {
  readonly error = 'temporarily_unavailable';
  constructor(aadsts: number, text?: string, readonly status = 503) {
    super(aadsts, text);
  }
}
/** RFC 6749 §4.1.2.1 (authorize, sent back to the redirect URI). */
export class UnsupportedResponseType extends OAuthError { readonly error = 'unsupported_response_type'; readonly status = 400; }
/** OpenID Connect Core §3.1.2.6: prompt=none and no session. */
export class LoginRequired extends OAuthError { readonly error = 'login_required'; readonly status = 400; }
/** OpenID Connect Core §3.1.2.6: prompt=none, and the sign-in needs the user (Entra: a second factor). */
export class InteractionRequired extends OAuthError { readonly error = 'interaction_required'; readonly status = 400; }
/** RFC 8628 §3.5: the device token endpoint's answers while polling. */
export class AuthorizationPending extends OAuthError { readonly error = 'authorization_pending'; readonly status = 400; }
export class SlowDown extends OAuthError { readonly error = 'slow_down'; readonly status = 400; }
export class ExpiredToken extends OAuthError { readonly error = 'expired_token'; readonly status = 400; }
export class AccessDenied extends OAuthError { readonly error = 'access_denied'; readonly status = 400; }
/** RFC 7009 §2.2.1. */
export class UnsupportedTokenType extends OAuthError { readonly error = 'unsupported_token_type'; readonly status = 400; }
export class ServerError extends OAuthError { readonly error = 'server_error'; readonly status = 500; }

/** Keyhaven error code → wire error. Grants add their codes here (grant-registry.ts). */
export const CODE_TABLE: Readonly<Record<string, OAuthError>> = {
  KH_OAUTH_MISSING_GRANT_TYPE: new InvalidRequest(900144),
  KH_OAUTH_MISSING_PARAMETER: new InvalidRequest(900144),
  KH_OAUTH_MISSING_RESOURCE: new InvalidRequest(900144),
  KH_OAUTH_MISSING_SCOPE: new InvalidRequest(900144),
  KH_OAUTH_DUPLICATE_PARAMETER: new InvalidRequest(9000411),
  KH_OAUTH_BAD_CONTENT_TYPE: new InvalidRequest(900144),
  KH_OAUTH_BAD_REQUEST: new InvalidRequest(900144),
  KH_OAUTH_UNSUPPORTED_GRANT: new UnsupportedGrantType(70003),
  KH_OAUTH_TENANT_NOT_FOUND: new InvalidRequest(90002),
  KH_OAUTH_CLIENT_AUTH_CONFLICT: new InvalidRequest(9002313),
  KH_OAUTH_PASSWORD_GRANT_DISABLED: new UnsupportedGrantType(70003, 'The password grant is turned off on this server.'),
  KH_UNKNOWN_RESOURCE: new InvalidResource(500011),
  KH_UNKNOWN_SCOPE: new InvalidScope(500011),
  KH_INVALID_SCOPE: new InvalidScope(70011),
  KH_CLIENT_SECRET_REQUIRED: new InvalidClient(7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."),
  KH_CLIENT_NOT_FOUND: new UnauthorizedClient(700016),
  KH_CLIENT_DISABLED: new UnauthorizedClient(7000112, 'Application is disabled.'),
  KH_INVALID_CLIENT_SECRET: new InvalidClient(7000215, 'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.'),
  KH_CLIENT_SECRET_EXPIRED: new InvalidClient(7000222, 'The provided client secret keys are expired.'),
  KH_CLIENT_ASSERTION_TYPE_INVALID: new InvalidRequest(700023, 'client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer.'),
  KH_CLIENT_ASSERTION_INVALID: new InvalidClient(50013),
  KH_CLIENT_ASSERTION_ALGORITHM: new InvalidClient(700027),
  KH_CLIENT_ASSERTION_SIGNATURE: new InvalidClient(700027),
  KH_CLIENT_ASSERTION_UNKNOWN_KEY: new InvalidClient(700027),
  KH_CLIENT_CERTIFICATE_EXPIRED: new InvalidClient(700027),
  KH_CLIENT_ASSERTION_EXPIRED: new InvalidClient(700024),
  KH_CLIENT_ASSERTION_NOT_YET_VALID: new InvalidClient(700024),
  KH_CLIENT_ASSERTION_LIFETIME: new InvalidClient(700024),
  KH_CLIENT_ASSERTION_AUDIENCE: new InvalidClient(50013),
  KH_CLIENT_ASSERTION_ISSUER: new InvalidClient(700021),
  KH_CLIENT_ASSERTION_REPLAYED: new InvalidClient(50013),
  KH_MACHINE_IDENTITY_NOT_FOUND: new InvalidRequest(700016),
  KH_MACHINE_REVOKED: new InvalidClient(700027, 'The machine credential used to sign the client assertion has been revoked.'),
  KH_CLIENT_THROTTLED: new TemporarilyUnavailable(50053, 'Too many failed client authentications from this client or address. Try again later.', 429),
  KH_INVALID_CREDENTIALS: new InvalidGrant(50126, 'Error validating credentials due to invalid username or password.'),
  KH_ACCOUNT_DISABLED: new InvalidGrant(50057, 'The user account is disabled.'),
  KH_ACCOUNT_LOCKED: new InvalidGrant(50053, 'The account is locked because of too many sign-in attempts with a wrong password. Try again later.'),
  // Entra's ROPC answer for a user who must use MFA; the message names the resource.
  KH_MFA_REQUIRED: new InvalidGrant(50076),
  KH_SOURCE_THROTTLED: new InvalidGrant(50053, 'Sign-in was blocked because it came from an address with too many failed sign-ins. Try again later.'),
  KH_PASSWORD_CHANGE_REQUIRED: new InvalidGrant(50055, 'The password is expired: the user must choose a new one in an interactive sign-in.'),
  // the browser sign-in (authorize; shown on a page before the redirect URI is validated)
  KH_REDIRECT_URI_MISMATCH: new InvalidRequest(50011),
  KH_RESPONSE_MODE_UNSUPPORTED: new InvalidRequest(90023),
  KH_RESPONSE_TYPE_UNSUPPORTED: new UnsupportedResponseType(700054),
  KH_PROMPT_INVALID: new InvalidRequest(90023),
  KH_PKCE_REQUIRED: new InvalidRequest(9002325),
  KH_PKCE_METHOD_UNSUPPORTED: new InvalidRequest(50148),
  KH_PKCE_CHALLENGE_INVALID: new InvalidRequest(50148),
  KH_LOGIN_REQUIRED: new LoginRequired(50058),
  KH_MFA_INTERACTION_REQUIRED: new InteractionRequired(50076),
  KH_SIGNIN_CSRF: new InvalidRequest(90023),
  // the authorization code grant
  KH_CODE_INVALID: new InvalidGrant(9002313, 'Invalid request. The authorization code is malformed or unknown.'),
  KH_CODE_EXPIRED: new InvalidGrant(70008),
  KH_CODE_REDEEMED: new InvalidGrant(54005),
  KH_CODE_CLIENT_MISMATCH: new InvalidGrant(700005),
  KH_CODE_REDIRECT_MISMATCH: new InvalidGrant(50011),
  KH_PKCE_VERIFIER_MISSING: new InvalidGrant(9002325),
  KH_PKCE_MISMATCH: new InvalidGrant(501481),
  // the refresh token grant
  KH_REFRESH_TOKEN_INVALID: new InvalidGrant(9002313, 'Invalid request. The refresh token is malformed or unknown.'),
  KH_REFRESH_TOKEN_EXPIRED: new InvalidGrant(700082),
  KH_REFRESH_TOKEN_REUSED: new InvalidGrant(70000),
  KH_REFRESH_TOKEN_CLIENT_MISMATCH: new InvalidGrant(700005),
  KH_GRANT_REVOKED: new InvalidGrant(50173),
  // the device code grant and device page
  KH_DEVICE_AUTHORIZATION_PENDING: new AuthorizationPending(70016),
  KH_DEVICE_SLOW_DOWN: new SlowDown(70016),
  KH_DEVICE_CODE_EXPIRED: new ExpiredToken(70019),
  KH_DEVICE_CODE_DENIED: new AccessDenied(65004),
  KH_DEVICE_CODE_INVALID: new InvalidGrant(70000),
  KH_USER_CODE_INVALID: new InvalidGrant(70018),
  KH_TOKEN_TYPE_UNSUPPORTED: new UnsupportedTokenType(9002313, 'Access tokens cannot be revoked. Revoke the refresh token.'),
  KH_USER_CODE_THROTTLED: new TemporarilyUnavailable(50053, 'Too many wrong codes from this address. Try again later.', 429),
};

/** By kind, for codes the table does not name (a core error a grant lets through). */
const KIND_TABLE: Record<ErrorKind, OAuthError> = {
  InvalidInput: new InvalidRequest(900144),
  Unauthenticated: new InvalidClient(7000215),
  Forbidden: new UnauthorizedClient(700016),
  NotFound: new InvalidRequest(90002),
  Conflict: new InvalidRequest(900144),
  PreconditionFailed: new InvalidRequest(900144),
  Throttled: new TemporarilyUnavailable(50196, undefined, 429),
  Unavailable: new TemporarilyUnavailable(90033, 'A transient error has occurred. Please try again.'),
  Internal: new ServerError(90100, 'An internal error occurred.'),
};

export function oauthErrorOf(err: KeyhavenError): OAuthError {
  return CODE_TABLE[err.code] ?? KIND_TABLE[err.kind];
}

/** Entra's timestamp format: `2026-11-23 14:30:00Z`. */
const entraTime = (d: Date) => d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');

export function oauthErrorHandler(err: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const error = toKeyhavenError(err);
  logIfServerError(request, error, err);
  const wire = oauthErrorOf(error);
  const traceId = randomUUID();
  const correlationId = request.id;
  const timestamp = entraTime(new Date());
  const text = wire.text ?? (error.expose ? error.message : 'An internal error occurred.');
  // Fastify's own 4xx (body too large, unsupported media type) keep their status.
  const status = error.kind === 'InvalidInput' && error.status !== 400 ? error.status : wire.status;
  if (status === 401) reply.header('www-authenticate', `Basic realm="${request.hostname}"`);
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
  void reply
    .status(status)
    .header('cache-control', 'no-store')
    .send({
      error: wire.error,
      error_description: `AADSTS${wire.aadsts}: ${text} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      error_codes: [wire.aadsts],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
    });
}
