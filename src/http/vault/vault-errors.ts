// Errors as Azure Key Vault renders them (Key Vault REST API, KeyVaultError):
//   { "error": { "code", "message", "innererror": { "code" } } }
// with Azure's codes (Unauthorized, Forbidden + ForbiddenByPolicy / ForbiddenByRbac /
// SecretDisabled, SecretNotFound, Conflict + ObjectIsDeletedButRecoverable, BadParameter …),
// and on every 401 the bearer challenge the Azure SDKs follow (vault-challenge.ts). One table
// keyed by Keyhaven's code, then one by error kind — never by message text.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorKind } from '../../errors.js';
import { logIfServerError, toKeyhavenError } from '../error-handler.js';

interface VaultShape {
  status: number;
  code: string;
  inner?: string;
  text?: string;
}

const BAD = { status: 400, code: 'BadParameter' };

export const VAULT_BY_CODE: Record<string, VaultShape> = {
  KH_VAULT_TOKEN_MISSING: { status: 401, code: 'Unauthorized', text: 'AKV10000: Request is missing a Bearer or PoP token.' },
  KH_TOKEN_MALFORMED: { status: 401, code: 'Unauthorized', text: 'AKV10001: Unable to parse the token.' },
  KH_TOKEN_EXPIRED: { status: 401, code: 'Unauthorized', text: 'AKV10032: Token has expired.' },
  KH_TOKEN_NOT_YET_VALID: { status: 401, code: 'Unauthorized', text: 'AKV10032: Token is not yet valid.' },
  KH_TOKEN_WRONG_AUDIENCE: { status: 401, code: 'Unauthorized', text: 'AKV10022: Invalid audience.' },
  KH_TOKEN_WRONG_ISSUER: { status: 401, code: 'Unauthorized', text: 'AKV10032: Invalid issuer.' },
  KH_TOKEN_WRONG_TENANT: { status: 401, code: 'Unauthorized', text: 'AKV10032: Invalid issuer: the token is from another tenant.' },
  KH_PRINCIPAL_INACTIVE: { status: 401, code: 'Unauthorized', text: 'AKV10032: The principal of this token is disabled or no longer exists.' },
  KH_VAULT_FORBIDDEN_BY_POLICY: { status: 403, code: 'Forbidden', inner: 'ForbiddenByPolicy' },
  KH_VAULT_FORBIDDEN_BY_RBAC: { status: 403, code: 'Forbidden', inner: 'ForbiddenByRbac' },
  KH_VAULT_SECRET_DISABLED: { status: 403, code: 'Forbidden', inner: 'SecretDisabled' },
  KH_VAULT_SECRET_NOT_YET_VALID: { status: 403, code: 'Forbidden', inner: 'SecretNotYetValid' },
  KH_VAULT_SECRET_EXPIRED: { status: 403, code: 'Forbidden', inner: 'SecretExpired' },
  KH_VAULT_PURGE_PROTECTED: { status: 403, code: 'Forbidden', inner: 'PurgeProtectionEnabled' },
  KH_VAULT_NOT_FOUND: { status: 404, code: 'VaultNotFound' },
  KH_VAULT_SECRET_NOT_FOUND: { status: 404, code: 'SecretNotFound' },
  KH_VAULT_DELETED_SECRET_NOT_FOUND: { status: 404, code: 'SecretNotFound' },
  KH_VAULT_NO_SUCH_PATH: { status: 404, code: 'NotFound' },
  KH_VAULT_METHOD_NOT_ALLOWED: { status: 405, code: 'MethodNotAllowed' },
  KH_VAULT_SECRET_DELETED: { status: 409, code: 'Conflict', inner: 'ObjectIsDeletedButRecoverable' },
  KH_VAULT_SECRET_EXISTS: { status: 409, code: 'Conflict' },
  KH_VAULT_CONCURRENT_CHANGE: { status: 409, code: 'Conflict' },
  KH_VAULT_BAD_PARAMETER: BAD,
  KH_VAULT_SECRET_NAME_INVALID: BAD,
  KH_VAULT_API_VERSION: BAD,
  KH_VAULT_VALUE_TOO_LARGE: BAD,
  KH_VAULT_BACKUP_INVALID: BAD,
  KH_HTTP_CTP_INVALID_JSON_BODY: { ...BAD, text: 'The request body is not valid JSON.' },
  KH_HTTP_CTP_EMPTY_JSON_BODY: { ...BAD, text: 'The request body is empty: a JSON body is required.' },
  KH_HTTP_CTP_INVALID_MEDIA_TYPE: { ...BAD, text: "The content type is not supported: send 'application/json'." },
  KH_HTTP_CTP_INVALID_CONTENT_LENGTH: { ...BAD, text: 'The Content-Length header does not match the request body.' },
  KH_HTTP_CTP_BODY_TOO_LARGE: { status: 413, code: 'RequestEntityTooLarge', text: 'The request body is larger than this service accepts.' },
};

const VAULT_BY_KIND: Record<ErrorKind, VaultShape> = {
  InvalidInput: BAD,
  Conflict: { status: 409, code: 'Conflict' },
  Unauthenticated: { status: 401, code: 'Unauthorized', text: 'AKV10032: The access token is invalid.' },
  Forbidden: { status: 403, code: 'Forbidden' },
  NotFound: { status: 404, code: 'NotFound' },
  PreconditionFailed: { status: 409, code: 'Conflict' },
  Throttled: { status: 429, code: 'Throttled', text: 'Too many requests; retry after a short delay.' },
  Unavailable: { status: 503, code: 'ServiceUnavailable', text: 'The service is temporarily unavailable. Please retry after a short delay.' },
  Internal: { status: 500, code: 'InternalServerError', text: 'Encountered an internal server error.' },
};

export function vaultErrorHandler(challenge: string) {
  return function handler(err: unknown, request: FastifyRequest, reply: FastifyReply): void {
    const error = toKeyhavenError(err);
    logIfServerError(request, error, err);
    const shape = VAULT_BY_CODE[error.code] ?? VAULT_BY_KIND[error.kind];
    const message = shape.text ?? (error.expose ? error.message : `internal error (request ${request.id})`);
    if (shape.status === 401) void reply.header('www-authenticate', challenge);
    if (shape.status === 503 || shape.status === 429) void reply.header('retry-after', String(error.retryAfterSeconds ?? 1));
    const body: Record<string, unknown> = { code: shape.code, message };
    if (shape.inner) body['innererror'] = { code: shape.inner };
    void reply.status(shape.status).send({ error: body });
  };
}
