// Errors as Microsoft Graph renders them for directory objects:
//   { "error": { "code", "message", "innerError": { "date", "request-id", "client-request-id" } } }
// (Microsoft Graph REST API, "Error responses and resource types"; the directory's own codes such
// as Request_BadRequest and Authorization_RequestDenied are the ones Entra answers with). The
// mapping is one table keyed by Keyhaven's error code, then one keyed by error kind — never by
// message text. Graph answers a uniqueness clash with 400 Request_BadRequest ("Another object
// with the same value for property userPrincipalName already exists.", "One or more added
// object references already exist for the following modified properties: 'members'."), so
// Keyhaven's Conflict errors are 400 here, except a lost concurrency race.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorKind, KeyhavenError } from '../../errors.js';
import { logIfServerError, toKeyhavenError } from '../error-handler.js';

export interface GraphErrorShape {
  status: number;
  code: string;
  /** Graph's fixed wording; when absent the (exposable) Keyhaven message is used. */
  text?: string;
}

/** Graph's first-party application id: the `client_id` of its 401 challenge. */
const GRAPH_CLIENT_ID = '00000003-0000-0000-c000-000000000000';

const INVALID_JSON = 'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.';

const BY_CODE: Record<string, GraphErrorShape> = {
  KH_TOKEN_WRONG_AUDIENCE: { status: 401, code: 'InvalidAuthenticationToken', text: 'Access token validation failure. Invalid audience.' },
  KH_TOKEN_EXPIRED: { status: 401, code: 'InvalidAuthenticationToken', text: 'Lifetime validation failed, the token is expired.' },
  KH_TOKEN_NOT_YET_VALID: { status: 401, code: 'InvalidAuthenticationToken', text: 'Lifetime validation failed, the token is not yet valid.' },
  KH_TOKEN_MALFORMED: { status: 401, code: 'InvalidAuthenticationToken', text: 'Access token validation failure.' },
  KH_GRAPH_TOKEN_MISSING: { status: 401, code: 'InvalidAuthenticationToken', text: 'Access token is empty.' },
  KH_ODATA_FILTER_INVALID: { status: 400, code: 'Request_BadRequest' },
  KH_GRAPH_QUERY_UNSUPPORTED: { status: 400, code: 'Request_UnsupportedQuery' },
  // A request Graph reads as a missing path segment (unknown collection or action).
  KH_GRAPH_NO_SUCH_SEGMENT: { status: 400, code: 'BadRequest' },
  KH_GRAPH_METHOD_NOT_ALLOWED: { status: 405, code: 'Request_BadRequest', text: 'Specified HTTP method is not allowed for the request target.' },
  // Fastify's own refusals while reading the body (error-handler.ts names them KH_HTTP_*); its
  // JSON parser also refuses __proto__ / constructor.prototype keys as invalid JSON.
  KH_HTTP_CTP_INVALID_JSON_BODY: { status: 400, code: 'Request_BadRequest', text: INVALID_JSON },
  KH_HTTP_CTP_EMPTY_JSON_BODY: { status: 400, code: 'Request_BadRequest', text: 'Empty Payload. JSON content expected.' },
  KH_HTTP_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'UnsupportedMediaType', text: 'The content type of the request is not supported: send application/json.' },
  KH_HTTP_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'Request_BadRequest', text: 'The Content-Length header does not match the request body.' },
  KH_HTTP_CTP_BODY_TOO_LARGE: { status: 413, code: 'RequestEntityTooLarge', text: 'The request body is larger than the 1 MiB this service accepts.' },
  // A lost race on the same object: the one conflict Graph does not fold into 400.
  KH_DIRECTORY_CONFLICT: { status: 409, code: 'Request_ConcurrencyViolation' },
  KH_VERSION_MISMATCH: { status: 412, code: 'Request_BadRequest', text: 'The resource has changed since it was read (If-Match does not match its current @odata.etag).' },
  KH_ETAG_INVALID: { status: 412, code: 'Request_BadRequest' },
  // A wrong second-factor code is a bad request body here, not a bad access token.
  KH_MFA_CODE_INVALID: { status: 400, code: 'Request_BadRequest' },
  KH_MFA_CODE_REUSED: { status: 400, code: 'Request_BadRequest' },
};

const BY_KIND: Record<ErrorKind, GraphErrorShape> = {
  InvalidInput: { status: 400, code: 'Request_BadRequest' },
  Conflict: { status: 400, code: 'Request_BadRequest' },
  Unauthenticated: { status: 401, code: 'InvalidAuthenticationToken' },
  Forbidden: { status: 403, code: 'Authorization_RequestDenied' },
  NotFound: { status: 404, code: 'Request_ResourceNotFound' },
  PreconditionFailed: { status: 412, code: 'Request_BadRequest' },
  Throttled: { status: 429, code: 'Request_ThrottledTemporarily' },
  Unavailable: { status: 503, code: 'Service_ServiceUnavailable', text: 'The service is temporarily unavailable. Please retry after a short delay.' },
  Internal: { status: 500, code: 'Service_InternalServerError', text: 'Encountered an internal server error.' },
};

export function graphErrorShape(err: KeyhavenError): GraphErrorShape {
  const byCode = BY_CODE[err.code];
  if (byCode) return byCode;
  // Any other of Fastify's client errors keeps its own status (405, 406, 414, …).
  if (/^KH_HTTP_/.test(err.code) && err.status !== 400) return { status: err.status, code: 'Request_BadRequest' };
  return BY_KIND[err.kind];
}

/** A client's own request id (Graph echoes `client-request-id`), if it looks like one. */
function clientRequestId(request: FastifyRequest): string {
  const given = request.headers['client-request-id'];
  return typeof given === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : request.id;
}

export interface GraphErrorOptions {
  publicUrl: string;
  tenantId: string;
}

export function sendGraphError(request: FastifyRequest, reply: FastifyReply, shape: GraphErrorShape, message: string, options: GraphErrorOptions): void {
  if (shape.status === 401) {
    // Graph's challenge names the authority to get a token from and Graph's own client id.
    reply.header(
      'www-authenticate',
      `Bearer realm="", authorization_uri="${options.publicUrl}/${options.tenantId}/oauth2/authorize", client_id="${GRAPH_CLIENT_ID}"`,
    );
  }
  void reply
    .status(shape.status)
    .header('cache-control', 'no-store')
    .header('content-type', 'application/json; charset=utf-8')
    .send({
      error: {
        code: shape.code,
        message,
        innerError: {
          // Graph's innerError date has no fraction and no zone designator.
          date: new Date().toISOString().slice(0, 19),
          'request-id': request.id,
          'client-request-id': clientRequestId(request),
        },
      },
    });
}

export function graphErrorHandler(options: GraphErrorOptions) {
  return function graphError(err: unknown, request: FastifyRequest, reply: FastifyReply): void {
    const error = toKeyhavenError(err);
    logIfServerError(request, error, err);
    const shape = graphErrorShape(error);
    if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
    else if (shape.status === 429 || shape.status === 503) reply.header('retry-after', '1');
    const message = shape.text ?? (error.expose ? error.message : 'Encountered an internal server error.');
    sendGraphError(request, reply, shape, message, options);
  };
}
