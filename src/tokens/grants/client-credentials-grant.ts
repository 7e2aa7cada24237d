// The client credentials grant (RFC 6749 §4.4): a confidential client — a service principal
// with a secret or a certificate — acting as itself. Entra answers a public client here with
// AADSTS7000218, so public clients are refused.
import { InvalidInputError } from '../../errors.js';
import type { ResolvedAudience } from '../audiences.js';
import type { AuthenticatedClient } from '../client-authentication.js';
import type { Grant, GrantDeps, GrantRequest, GrantResult } from './grant.js';
import { auditIssuance } from './issuance-audit.js';
import { resolveAudience } from './resolve-audience.js';
import { machineIdentityRequest } from './machine-identity.js';

export const CLIENT_CREDENTIALS = 'client_credentials';

export function clientCredentialsGrant(deps: GrantDeps): Grant {
  return {
    type: CLIENT_CREDENTIALS,
    async handle(request: GrantRequest): Promise<GrantResult> {
      const authenticated = await authenticateClient(deps, request);
      const client = await machineIdentity(deps, request, authenticated);
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

/**
 * A joined machine may ask for a token of one of its resource's managed identities
 * (machine-identity.ts): the token then speaks for the identity and still carries the machine.
 */
async function machineIdentity(deps: GrantDeps, request: GrantRequest, client: AuthenticatedClient): Promise<AuthenticatedClient> {
  const wanted = machineIdentityRequest(request, client);
  if (wanted === undefined || !client.machine) return client;
  if (!deps.machineIdentities) throw new InvalidInputError('KH_MACHINE_IDENTITY_NOT_FOUND', 'Managed identities are not available on this server.');
  const identity = await deps.machineIdentities.resolve(client.machine.resourceId, wanted);
  return { ...client, appId: identity.appId, objectId: identity.objectId, machine: { id: client.machine.id, resourceId: identity.resourceId } };
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
