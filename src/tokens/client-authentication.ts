// Client authentication at the token endpoint: the one step every grant runs (RFC 6749 §2.3,
// §3.2.1). The HTTP face reads what the client presented — a secret in the body
// (client_secret_post), HTTP Basic (client_secret_basic), a signed assertion (private_key_jwt,
// RFC 7523 §2.2 / OpenID Connect Core §9) or only a client_id (a public client, RFC 6749 §2.1)
// — and this step checks it against the directory. Which of these a grant accepts is the
// grant's policy: client_credentials needs a confidential client; the password grant also takes
// the Azure CLI's well-known public client ids; browser and device grants take any registered
// application's client_id.
import { UnauthenticatedError } from '../errors.js';
import type { SecretValue } from '../crypto/secret-value.js';
import type { ClientAssertionVerifier } from './client-assertion.js';
import type { ClientAuthMethod } from './token-issuer.js';
import type { TokenPrincipals } from './token-principals.js';

export type PresentedClient =
  | { method: 'none'; clientId: string }
  | { method: 'client_secret_post' | 'client_secret_basic'; clientId: string; secret: SecretValue }
  /** RFC 7523 §3: client_id is optional beside an assertion; when given it must equal `sub`. */
  | { method: 'private_key_jwt'; clientId?: string; assertion: SecretValue };

/**
 * Which public clients (client_id only) a grant accepts:
 *  - `refuse`: none (client_credentials: RFC 6749 §4.4 is for confidential clients only);
 *  - `well-known`: the Azure CLI's and Azure PowerShell's application ids (the password grant);
 *  - `registered`: those, and any application registered in the directory (browser, device).
 */
export type PublicClientPolicy = 'refuse' | 'well-known' | 'registered';

/**
 * Public clients that may sign users in without a secret: the Azure CLI's and Azure
 * PowerShell's well-known application ids, so az-shaped tools (and `keyhaven login`) work.
 */
export const PUBLIC_CLIENTS: ReadonlyMap<string, string> = new Map([
  ['04b07795-8ddb-461a-bbee-02f9e1bf7b46', 'Microsoft Azure CLI'],
  ['1950a258-227b-4e31-a9cf-717495945fc2', 'Microsoft Azure PowerShell'],
]);

export interface AuthenticatedClient {
  /** The client id: a token's `appid` (v1) / `azp` (v2). */
  appId: string;
  displayName: string;
  /** The service principal's object id; absent for a public client. */
  objectId?: string;
  /** Entra's `appidacr` / `azpacr`. */
  auth: ClientAuthMethod;
  method: PresentedClient['method'];
  /** The credential that matched (secret or certificate keyId), for the audit record. */
  credentialKeyId?: string;
}

export interface ClientAuthContext {
  source: string;
  correlationId: string;
  /** The token endpoint URL the request came to (a client assertion's expected `aud`). */
  endpointUrl: string;
}

export interface ClientAuthenticatorOptions {
  principals: TokenPrincipals;
  assertions: ClientAssertionVerifier;
}

export class ClientAuthenticator {
  readonly #o: ClientAuthenticatorOptions;

  constructor(options: ClientAuthenticatorOptions) {
    this.#o = options;
  }

  async authenticate(client: PresentedClient, ctx: ClientAuthContext, policy: PublicClientPolicy): Promise<AuthenticatedClient> {
    switch (client.method) {
      case 'client_secret_post':
      case 'client_secret_basic': {
        const sp = await this.#o.principals.authenticateClientSecret(client.clientId, client.secret, {
          source: ctx.source, correlationId: ctx.correlationId, deferSuccessAudit: true,
        });
        return { appId: sp.appId, displayName: sp.displayName, objectId: sp.objectId, auth: 'secret', method: client.method, credentialKeyId: sp.credentialKeyId };
      }
      case 'private_key_jwt': {
        const sp = await this.#o.assertions.verify(client.assertion, client.clientId, ctx);
        return { appId: sp.appId, displayName: sp.displayName, objectId: sp.objectId, auth: 'certificate', method: client.method, credentialKeyId: sp.credentialKeyId };
      }
      case 'none':
        return this.#publicClient(client.clientId, policy);
    }
  }

  async #publicClient(clientId: string, policy: PublicClientPolicy): Promise<AuthenticatedClient> {
    const appId = clientId.trim().toLowerCase();
    const wellKnown = PUBLIC_CLIENTS.get(appId);
    if (policy !== 'refuse' && wellKnown !== undefined) return { appId, displayName: wellKnown, auth: 'none', method: 'none' };
    if (policy === 'registered') {
      const app = await this.#o.principals.application(appId);
      if (app) return { appId: app.appId, displayName: app.displayName, auth: 'none', method: 'none' };
    }
    // Entra's AADSTS7000218 for a confidential grant without a credential.
    throw new UnauthenticatedError('KH_CLIENT_SECRET_REQUIRED', "The request body must contain the parameter 'client_assertion' or 'client_secret'.");
  }
}
