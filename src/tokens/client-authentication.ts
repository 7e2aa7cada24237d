// Client authentication at the token endpoint: the one step every grant runs (RFC 6749 §2.3,
// §3.2.1). The HTTP face reads what the client presented — a secret in the body
// (client_secret_post), HTTP Basic (client_secret_basic), a signed assertion (private_key_jwt,
// RFC 7523 §2.2 / OpenID Connect Core §9) or only a client_id (a public client, RFC 6749 §2.1)
// — and this step checks it against the directory. Which of these a grant accepts is the
// grant's policy: client_credentials needs a confidential client; the password grant also takes
// the Azure CLI's well-known public client ids; browser and device grants take any registered
// application's client_id.
import type { RefusalRecorder } from '../audit/refusal-recorder.js';
import { KeyhavenError, ThrottledError, UnauthenticatedError } from '../errors.js';
import { decodeJwt } from 'jose';
import type { SecretValue } from '../crypto/secret-value.js';
import type { ClientAssertionVerifier } from './client-assertion.js';
import type { ClientAuthMethod } from './token-issuer.js';
import type { TokenMachine, TokenPrincipals } from './token-principals.js';

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
  /** A joined machine's assertion (src/machines/): the token carries the machine. */
  machine?: TokenMachine;
}

export interface ClientAuthContext {
  source: string;
  correlationId: string;
  /** The token endpoint URL the request came to (a client assertion's expected `aud`). */
  endpointUrl: string;
}

/** The login throttle (src/directory/login-throttle.ts), as client authentication uses it. */
export interface ClientThrottle {
  begin(account: string, source: string): Promise<{ succeeded(): Promise<void>; failed(): Promise<void> }>;
}

export interface ClientAuthenticatorOptions {
  principals: TokenPrincipals;
  assertions: ClientAssertionVerifier;
  /** Failed client authentications are throttled per client id and per source, as user sign-ins are. */
  throttle: ClientThrottle;
  /** Refusals are recorded aggregated per source (the first at once, then one summary per window). */
  refusals: RefusalRecorder;
}

export class ClientAuthenticator {
  readonly #o: ClientAuthenticatorOptions;

  constructor(options: ClientAuthenticatorOptions) {
    this.#o = options;
  }

  async authenticate(client: PresentedClient, ctx: ClientAuthContext, policy: PublicClientPolicy): Promise<AuthenticatedClient> {
    if (client.method === 'none') return this.#publicClient(client.clientId, policy);
    // A client id as the throttle counts it: the typed one, else the assertion's (unverified) issuer.
    const typed = client.method === 'private_key_jwt' ? (client.clientId ?? unverifiedIssuer(client.assertion)) : client.clientId;
    const account = `client:${typed.trim().toLowerCase().slice(0, 64)}`;
    let attempt;
    try {
      attempt = await this.#o.throttle.begin(account, ctx.source);
    } catch (err) {
      if (!(err instanceof ThrottledError)) throw err;
      const refused = new ThrottledError('KH_CLIENT_THROTTLED', `Too many failed client authentications; try again in ${err.retryAfterSeconds ?? 1} seconds.`, { retryAfterSeconds: err.retryAfterSeconds ?? 1 });
      await this.#refused(client, ctx, account, refused.code);
      throw refused;
    }
    try {
      const authenticated = await this.#confidential(client, ctx);
      await attempt.succeeded();
      return authenticated;
    } catch (err) {
      await attempt.failed();
      await this.#refused(client, ctx, account, err instanceof KeyhavenError ? err.code : 'KH_INTERNAL');
      throw err;
    }
  }

  async #confidential(client: Exclude<PresentedClient, { method: 'none' }>, ctx: ClientAuthContext): Promise<AuthenticatedClient> {
    if (client.method === 'private_key_jwt') {
      const sp = await this.#o.assertions.verify(client.assertion, client.clientId, ctx);
      const authenticated: AuthenticatedClient = { appId: sp.appId, displayName: sp.displayName, objectId: sp.objectId, auth: 'certificate', method: client.method, credentialKeyId: sp.credentialKeyId };
      if (sp.machine) authenticated.machine = sp.machine;
      return authenticated;
    }
    const sp = await this.#o.principals.authenticateClientSecret(client.clientId, client.secret, {
      source: ctx.source, correlationId: ctx.correlationId, deferSuccessAudit: true, deferRefusalAudit: true,
    });
    return { appId: sp.appId, displayName: sp.displayName, objectId: sp.objectId, auth: 'secret', method: client.method, credentialKeyId: sp.credentialKeyId };
  }

  #refused(client: PresentedClient, ctx: ClientAuthContext, account: string, error: string): Promise<void> {
    return this.#o.refusals.refused({
      source: ctx.source, action: 'serviceprincipal.signin', error, correlationId: ctx.correlationId,
      details: { appId: account.slice('client:'.length), method: client.method },
    });
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

/** The `iss` of an assertion not yet verified: only to key the throttle, never to trust. */
function unverifiedIssuer(assertion: SecretValue): string {
  try {
    const iss = decodeJwt(assertion.reveal()).iss;
    return typeof iss === 'string' ? iss : '';
  } catch {
    return '';
  }
}
