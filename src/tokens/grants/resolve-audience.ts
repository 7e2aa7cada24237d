// The "resolve audience" step shared by the grants: which resource the token is for.
//  - v1 (`/{tenant}/oauth2/token`): `resource=` (Entra's v1 endpoint).
//  - v2 (`/{tenant}/oauth2/v2.0/token`): `scope={resource}/.default`.
//  - `/adfs/oauth2/token`: either. ADFS takes `resource=`; MSAL-based clients (Python
//    azure-identity, the Azure CLI, @azure/identity with the tenant `adfs`) send `scope=`,
//    with the resource id's own trailing slash doubled (`https://localhost:8443//.default`,
//    as Entra accepts `https://management.core.windows.net//.default`). When both come,
//    `scope` wins, as MSAL means it.
import { InvalidInputError } from '../../errors.js';
import type { Audiences, ResolvedAudience } from '../audiences.js';
import type { GrantRequest } from './grant.js';

export async function resolveAudience(audiences: Audiences, request: GrantRequest): Promise<ResolvedAudience> {
  const resource = request.params.get('resource');
  const scope = request.params.get('scope');
  if (request.endpoint === 'v1' || (request.endpoint === 'adfs' && !scope)) {
    if (!resource) throw new InvalidInputError('KH_OAUTH_MISSING_RESOURCE', "the request body must contain the parameter 'resource'");
    return audiences.resolveResource(resource);
  }
  if (!scope) throw new InvalidInputError('KH_OAUTH_MISSING_SCOPE', "the request body must contain the parameter 'scope'");
  return audiences.resolveScope(scope);
}
