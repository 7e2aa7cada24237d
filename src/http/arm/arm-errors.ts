// Errors as Azure Resource Manager renders them ("Azure REST API guidelines", error response;
// ARM's own codes such as AuthorizationFailed, InvalidApiVersionParameter, ResourceGroupNotFound):
//   { "error": { "code", "message", "details": [] } }
// with ARM's 401 challenge (WWW-Authenticate: Bearer authorization_uri=…, error="invalid_token").
// One table keyed by Keyhaven's code, then one by error kind — never by message text.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorKind } from '../../errors.js';
import { logIfServerError, toKeyhavenError } from '../error-handler.js';

interface ArmShape {
  status: number;
  code: string;
  text?: string;
}

const INVALID_CONTENT = { status: 400, code: 'InvalidRequestContent' };

export const ARM_BY_CODE: Record<string, ArmShape> = {
  KH_AUTHORIZATION_FAILED: { status: 403, code: 'AuthorizationFailed' },
  KH_ARM_TOKEN_MISSING: { status: 401, code: 'AuthenticationFailed', text: "Authentication failed. The 'Authorization' header is missing." },
  KH_TOKEN_MALFORMED: { status: 401, code: 'AuthenticationFailed', text: "Authentication failed. The 'Authorization' header is provided in an invalid format." },
  KH_TOKEN_EXPIRED: { status: 401, code: 'ExpiredAuthenticationToken', text: 'The access token has expired.' },
  KH_TOKEN_NOT_YET_VALID: { status: 401, code: 'InvalidAuthenticationToken', text: 'The access token is not yet valid.' },
  KH_TOKEN_WRONG_AUDIENCE: { status: 401, code: 'InvalidAuthenticationTokenAudience', text: 'The access token has been obtained for wrong audience or resource. It should match one of the management audiences.' },
  KH_TOKEN_WRONG_ISSUER: { status: 401, code: 'InvalidAuthenticationTokenTenant', text: 'The access token is from the wrong issuer.' },
  KH_TOKEN_WRONG_TENANT: { status: 401, code: 'InvalidAuthenticationTokenTenant', text: 'The access token is from the wrong tenant.' },
  KH_ARM_API_VERSION_MISSING: { status: 400, code: 'MissingApiVersionParameter' },
  KH_ARM_API_VERSION_INVALID: { status: 400, code: 'InvalidApiVersionParameter' },
  KH_ARM_NO_REGISTERED_PROVIDER: { status: 400, code: 'NoRegisteredProviderFound' },
  KH_ARM_INVALID_NAMESPACE: { status: 400, code: 'InvalidResourceNamespace' },
  KH_ARM_INVALID_RESOURCE_TYPE: { status: 400, code: 'InvalidResourceType' },
  KH_ARM_INVALID_RESOURCE_ID: { status: 400, code: 'InvalidResourceId' },
  KH_ARM_INVALID_SUBSCRIPTION_ID: { status: 400, code: 'InvalidSubscriptionId' },
  KH_ARM_INVALID_RESOURCE_GROUP_NAME: { status: 400, code: 'InvalidResourceGroupName' },
  KH_ARM_INVALID_RESOURCE_NAME: { status: 400, code: 'InvalidResourceName' },
  KH_ARM_SUBSCRIPTION_NOT_FOUND: { status: 404, code: 'SubscriptionNotFound' },
  KH_ARM_RESOURCE_GROUP_NOT_FOUND: { status: 404, code: 'ResourceGroupNotFound' },
  KH_ARM_RESOURCE_NOT_FOUND: { status: 404, code: 'ResourceNotFound' },
  KH_ARM_PARENT_RESOURCE_NOT_FOUND: { status: 404, code: 'ParentResourceNotFound' },
  KH_ARM_ROLE_ASSIGNMENT_NOT_FOUND: { status: 404, code: 'RoleAssignmentNotFound' },
  KH_ARM_ROLE_DEFINITION_NOT_FOUND: { status: 404, code: 'RoleDefinitionDoesNotExist' },
  KH_ARM_NO_SUCH_PATH: { status: 404, code: 'NotFound' },
  KH_ARM_METHOD_NOT_ALLOWED: { status: 405, code: 'MethodNotAllowed' },
  KH_ARM_REQUEST_CONTENT_INVALID: INVALID_CONTENT,
  KH_ARM_ID_MISMATCH: INVALID_CONTENT,
  KH_ARM_TYPE_MISMATCH: INVALID_CONTENT,
  KH_ARM_NAME_MISMATCH: INVALID_CONTENT,
  KH_ARM_PROPERTY_INVALID: INVALID_CONTENT,
  KH_ARM_LOCATION_REQUIRED: { status: 400, code: 'LocationRequired' },
  KH_ARM_LOCATION_IMMUTABLE: { status: 409, code: 'InvalidResourceLocation' },
  KH_ARM_GROUP_LOCATION_IMMUTABLE: { status: 409, code: 'InvalidResourceGroupLocation' },
  KH_ARM_TAGS_INVALID: { status: 400, code: 'InvalidTag' },
  KH_ARM_IDENTITY_UNSUPPORTED: { status: 400, code: 'InvalidIdentityType' },
  KH_ARM_IDENTITY_TYPE_INVALID: { status: 400, code: 'InvalidIdentityType' },
  KH_ARM_IDENTITY_INVALID: { status: 400, code: 'InvalidIdentityValues' },
  KH_ARM_IDENTITY_NOT_FOUND: { status: 400, code: 'FailedIdentityOperation' },
  KH_ARM_LINKED_AUTHORIZATION_FAILED: { status: 403, code: 'LinkedAuthorizationFailed' },
  KH_ARM_PRECONDITION_FAILED: { status: 412, code: 'PreconditionFailed' },
  KH_ARM_CONCURRENT_CHANGE: { status: 409, code: 'AnotherOperationInProgress' },
  KH_ARM_FILTER_INVALID: { status: 400, code: 'InvalidFilterInQueryString' },
  KH_ARM_QUERY_INVALID: { status: 400, code: 'InvalidQueryParameterValue' },
  KH_ROLE_ASSIGNMENT_ID_INVALID: { status: 400, code: 'InvalidRoleAssignmentId' },
  KH_ROLE_DEFINITION_ID_INVALID: { status: 400, code: 'InvalidRoleDefinitionId' },
  KH_ARM_ROLE_DEFINITION_MISSING: { status: 400, code: 'RoleDefinitionDoesNotExist' },
  KH_PRINCIPAL_ID_INVALID: { status: 400, code: 'InvalidPrincipalId' },
  KH_PRINCIPAL_TYPE_INVALID: { status: 400, code: 'InvalidPrincipalType' },
  KH_ARM_PRINCIPAL_NOT_FOUND: { status: 400, code: 'PrincipalNotFound' },
  KH_PRINCIPAL_TYPE_MISMATCH: { status: 400, code: 'UnmatchedPrincipalType' },
  KH_ROLE_NOT_ASSIGNABLE_AT_SCOPE: { status: 400, code: 'InvalidCreateRoleAssignmentRequest' },
  KH_ARM_SCOPE_MISMATCH: { status: 400, code: 'InvalidCreateRoleAssignmentRequest' },
  KH_ROLE_ASSIGNMENT_EXISTS: { status: 409, code: 'RoleAssignmentExists' },
  KH_ROLE_ASSIGNMENT_UPDATE_NOT_PERMITTED: { status: 409, code: 'RoleAssignmentUpdateNotPermitted' },
  KH_ROLE_DEFINITION_INVALID: { status: 400, code: 'InvalidRoleDefinition' },
  KH_ROLE_DEFINITION_BUILT_IN: { status: 400, code: 'RoleDefinitionIsBuiltIn' },
  KH_ROLE_DEFINITION_NAME_EXISTS: { status: 409, code: 'RoleDefinitionWithSameNameExists' },
  KH_ROLE_DEFINITION_HAS_ASSIGNMENTS: { status: 409, code: 'RoleDefinitionHasAssignments' },
  KH_VAULT_NAME_INVALID: { status: 400, code: 'VaultNameNotValid' },
  KH_VAULT_PROPERTY_INVALID: { status: 400, code: 'BadRequest' },
  KH_VAULT_NAME_TAKEN: { status: 409, code: 'VaultAlreadyExists' },
  KH_VAULT_DELETED_EXISTS: { status: 409, code: 'ConflictError' },
  KH_VAULT_DELETED_NOT_FOUND: { status: 404, code: 'ResourceNotFound' },
  KH_VAULT_PURGE_PROTECTED: { status: 409, code: 'ConflictError' },
  // machine enrollment (src/machines/, routes in arm-machine-handlers.ts and machine-routes.ts)
  KH_MACHINE_REVOKED: { status: 401, code: 'InvalidAuthenticationToken', text: 'The access token was issued to a machine whose credential has been revoked.' },
  KH_MACHINE_JOIN_INVALID: INVALID_CONTENT,
  KH_MACHINE_JOIN_USES_INVALID: INVALID_CONTENT,
  KH_MACHINE_JOIN_LIFETIME_INVALID: INVALID_CONTENT,
  KH_MACHINE_RESOURCE_TYPE: { status: 400, code: 'InvalidResourceType' },
  KH_MACHINE_KEY_INVALID: { status: 400, code: 'InvalidPublicKey' },
  KH_MACHINE_KEY_TOO_SMALL: { status: 400, code: 'InvalidPublicKey' },
  KH_MACHINE_KEY_TOO_LARGE: { status: 400, code: 'InvalidPublicKey' },
  KH_MACHINE_KEY_UNSUPPORTED: { status: 400, code: 'InvalidPublicKey' },
  KH_MACHINE_KEY_UNCHANGED: { status: 400, code: 'InvalidPublicKey' },
  KH_MACHINE_KEY_PRIVATE: { status: 400, code: 'PrivateKeyNotAccepted' },
  KH_MACHINE_JOIN_TOKEN_INVALID: { status: 401, code: 'InvalidJoinToken' },
  KH_MACHINE_JOIN_TOKEN_EXPIRED: { status: 401, code: 'JoinTokenExpired' },
  KH_MACHINE_JOIN_TOKEN_USED: { status: 401, code: 'JoinTokenUsed' },
  KH_MACHINE_NOT_FOUND: { status: 404, code: 'MachineNotFound' },
  KH_MACHINE_ROTATION_INVALID: INVALID_CONTENT,
  KH_MACHINE_ROTATION_REFUSED: { status: 401, code: 'InvalidKeyRotationRequest' },
  KH_MACHINE_KEY_CHANGED: { status: 409, code: 'Conflict' },
  KH_HTTP_CTP_INVALID_JSON_BODY: { ...INVALID_CONTENT, text: 'The request content was invalid and could not be deserialized.' },
  KH_HTTP_CTP_EMPTY_JSON_BODY: { ...INVALID_CONTENT, text: 'The request content was empty: a JSON body is required.' },
  KH_HTTP_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'UnsupportedMediaType', text: "The content media type is not supported. Content-Type must be 'application/json'." },
  KH_HTTP_CTP_INVALID_CONTENT_LENGTH: { ...INVALID_CONTENT, text: 'The Content-Length header does not match the request body.' },
  KH_HTTP_CTP_BODY_TOO_LARGE: { status: 413, code: 'RequestEntityTooLarge', text: 'The request content is larger than the 1 MiB this service accepts.' },
};

const ARM_BY_KIND: Record<ErrorKind, ArmShape> = {
  InvalidInput: { status: 400, code: 'BadRequest' },
  Conflict: { status: 409, code: 'Conflict' },
  Unauthenticated: { status: 401, code: 'InvalidAuthenticationToken', text: 'The access token is invalid.' },
  Forbidden: { status: 403, code: 'AuthorizationFailed' },
  NotFound: { status: 404, code: 'NotFound' },
  PreconditionFailed: { status: 412, code: 'PreconditionFailed' },
  Throttled: { status: 429, code: 'TooManyRequests' },
  Unavailable: { status: 503, code: 'ServiceUnavailable', text: 'The service is temporarily unavailable. Please retry after a short delay.' },
  Internal: { status: 500, code: 'InternalServerError', text: 'Encountered an internal server error.' },
};

export function armErrorHandler(options: { publicUrl: string; tenantId: string }) {
  return function handler(err: unknown, request: FastifyRequest, reply: FastifyReply): void {
    const error = toKeyhavenError(err);
    logIfServerError(request, error, err);
    const shape = ARM_BY_CODE[error.code] ?? ARM_BY_KIND[error.kind];
    const message = shape.text ?? (error.expose ? error.message : `internal error (request ${request.id})`);
    if (shape.status === 401) {
      // ARM's challenge names the tenant's authority, as the Azure SDKs' challenge policies read it.
      void reply.header('www-authenticate', `Bearer authorization_uri="${options.publicUrl}/${options.tenantId}", error="invalid_token", error_description="${message.replace(/"/g, "'")}"`);
    }
    if (shape.status === 503 || shape.status === 429) void reply.header('retry-after', String(error.retryAfterSeconds ?? 1));
    void reply.status(shape.status).send({ error: { code: shape.code, message, details: [] } });
  };
}
