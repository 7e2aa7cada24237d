// The device authorization endpoint (RFC 8628 §3.1–3.2; Entra's /oauth2/v2.0/devicecode):
// checks the client and the scope before handing out codes, so an error reaches the device at
// once and not after the user has typed the code. A client without a credential must be one
// Entra would let run public flows: the Azure CLI's or PowerShell's well-known ids, or an
// application marked isFallbackPublicClient or with mobile/desktop redirect URIs.
import { UnauthenticatedError } from '../../errors.js';
import type { Audiences } from '../audiences.js';
import { PUBLIC_CLIENTS, type ClientAuthContext, type ClientAuthenticator, type PresentedClient } from '../client-authentication.js';
import type { TokenEndpoint } from '../grants/grant.js';
import { userScope } from '../grants/resolve-audience.js';
import type { TokenPrincipals } from '../token-principals.js';
import type { DeviceAuthorizations, StartedDeviceAuthorization } from './device-authorizations.js';

export interface DeviceCodeEndpointOptions {
  clients: ClientAuthenticator;
  principals: TokenPrincipals;
  audiences: Audiences;
  devices: DeviceAuthorizations;
}

export class DeviceCodeEndpoint {
  constructor(private readonly o: DeviceCodeEndpointOptions) {}

  async start(endpoint: TokenEndpoint, params: ReadonlyMap<string, string>, presented: PresentedClient, ctx: ClientAuthContext): Promise<StartedDeviceAuthorization & { clientId: string }> {
    const client = await this.o.clients.authenticate(presented, ctx, 'registered');
    if (client.method === 'none' && !PUBLIC_CLIENTS.has(client.appId)) {
      const registration = await this.o.principals.clientRegistration(client.appId);
      if (!registration || !(registration.isFallbackPublicClient || registration.publicClient.length > 0)) {
        throw new UnauthenticatedError('KH_CLIENT_SECRET_REQUIRED', "The request body must contain the parameter 'client_assertion' or 'client_secret'.");
      }
    }
    const resource = params.get('resource');
    const requested = params.get('scope') ?? '';
    let scope = requested;
    if (endpoint !== 'v2' && resource && !requested.split(' ').some((s) => s.includes('/'))) {
      const audience = await this.o.audiences.resolveResource(resource);
      scope = [`${audience.audience}/.default`, ...requested.split(' ').filter(Boolean)].join(' ');
    }
    await userScope(this.o.audiences, scope);
    return { ...(await this.o.devices.start(client.appId, scope)), clientId: client.appId };
  }
}
