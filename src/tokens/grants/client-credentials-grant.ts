// The client credentials grant (RFC 6749 §4.4): a confidential client — a service principal
// with a secret or a certificate — acting as itself. Entra answers a public client here with
// AADSTS7000218, so public clients are refused.
import { InvalidInputError } from '../../errors.js';
import type { ResolvedAudience } from '../audiences.js';
import type { AuthenticatedClient } from '../client-authentication.js';
import type { Grant, GrantDeps, GrantRequest, GrantResult } from './grant.js';
import { auditIssuance } from './issuance-audit.js';
import { resolveAudience } from './resolve-audience.js';

export const CLIENT_CREDENTIALS = 'client_credentials';

export function clientCredentialsGrant(deps: GrantDeps): Grant {
  return {
    type: CLIENT_CREDENTIALS,
    async handle(request: GrantRequest): Promise<GrantResult> {
      const client = await authenticateClient(deps, request);
      const principalId = checkGrant(client);
      const audience = await resolveAudience(deps.audiences, request);
      const issued = await issue(deps, request, client, principalId, audience);
      await auditIssuance(deps.audit, { request, client, audience, issued, subjectId: principalId, ...(client.machine ? { details: { machineId: client.machine.id } } : {}) });
      return { issued, audience };
    },
  };
}

function authenticateClient(deps: GrantDeps, request: GrantRequest): Promise<AuthenticatedClient> {
  return deps.clients.authenticate(request.client, request, 'refuse');
}

/** The token speaks for the client's service principal, so there must be one. */
function checkGrant(client: AuthenticatedClient): string {
  if (client.objectId === undefined) throw new InvalidInputError('KH_CLIENT_SECRET_REQUIRED', "The request body must contain the parameter 'client_assertion' or 'client_secret'.");
  return client.objectId;
}

function issue(deps: GrantDeps, request: GrantRequest, client: AuthenticatedClient, objectId: string, audience: ResolvedAudience) {
  return deps.issuer.issue({
    kind: 'app',
    version: request.version,
    audience: audience.audience,
    clientAppId: client.appId,
    clientAuth: client.auth,
    objectId,
    ...(client.machine ? { machine: client.machine } : {}),
  });
}
