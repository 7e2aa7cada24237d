// The token service's grants, as Microsoft Entra ID's token endpoint has them: it
// authenticates the client (and the user, for the password grant), resolves the requested
// resource (v1 `resource=`) or scope (v2 `scope=…/.default`), issues the access token and
// audits the issuance before the token leaves (DESIGN.md: a read's answer is released only
// once its record is durable). No HTTP here: the face parses the form and renders errors.
import { InvalidInputError, UnauthenticatedError } from '../errors.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Audiences, ResolvedAudience } from './audiences.js';
import type { IssuedToken, TokenIssuer } from './token-issuer.js';
import type { TokenVersion } from './token-claims.js';

export interface AuthenticatedClient {
  /** The service principal's object id. */
  objectId: string;
  appId: string;
  displayName: string;
}

export interface AuthenticatedUser {
  objectId: string;
  userPrincipalName: string;
  displayName?: string;
  givenName?: string;
  surname?: string;
}

/** What the grants need from the directory. */
export interface TokenPrincipals {
  authenticateClientSecret(appId: string, secret: string, source: string): Promise<AuthenticatedClient>;
  authenticateUser(name: string, password: string, source: string): Promise<AuthenticatedUser>;
}

/**
 * Public clients that may use the password grant without a secret: the Azure CLI's and Azure
 * PowerShell's well-known application ids, so az-shaped tools (and `keyhaven login`) work.
 */
export const PUBLIC_CLIENTS: ReadonlyMap<string, string> = new Map([
  ['04b07795-8ddb-461a-bbee-02f9e1bf7b46', 'Microsoft Azure CLI'],
  ['1950a258-227b-4e31-a9cf-717495945fc2', 'Microsoft Azure PowerShell'],
]);

export interface GrantContext {
  version: TokenVersion;
  /** v1 `resource` or v2 `scope`, exactly one, as the face read it. */
  resource?: string;
  scope?: string;
  source: string;
  correlationId: string;
}

export interface TokenServiceOptions {
  issuer: TokenIssuer;
  audiences: Audiences;
  principals: TokenPrincipals;
  audit: AuditLog;
  passwordGrantEnabled: boolean;
}

export class TokenService {
  readonly #o: TokenServiceOptions;

  constructor(options: TokenServiceOptions) {
    this.#o = options;
  }

  get passwordGrantEnabled(): boolean {
    return this.#o.passwordGrantEnabled;
  }

  /** RFC 6749 §4.4: a confidential client acting as itself. */
  async clientCredentials(ctx: GrantContext, clientId: string, clientSecret: string): Promise<{ issued: IssuedToken; audience: ResolvedAudience }> {
    const client = await this.#o.principals.authenticateClientSecret(clientId, clientSecret, ctx.source);
    const audience = await this.#target(ctx);
    const issued = await this.#o.issuer.issue({
      kind: 'app',
      version: ctx.version,
      audience: audience.audience,
      clientAppId: client.appId,
      clientAuth: 'secret',
      objectId: client.objectId,
    });
    await this.#auditIssue(ctx, client.objectId, 'client_credentials', audience, issued, client.appId);
    return { issued, audience };
  }

  /**
   * RFC 6749 §4.3 (resource owner password credentials): for scripts and the CLI. Entra allows it
   * for public clients and for confidential clients that also authenticate; so does Keyhaven.
   */
  async password(
    ctx: GrantContext,
    client: { clientId: string; clientSecret?: string },
    username: string,
    password: string,
  ): Promise<{ issued: IssuedToken; audience: ResolvedAudience }> {
    let clientAppId: string;
    let clientAuth: 'none' | 'secret';
    if (client.clientSecret !== undefined) {
      clientAppId = (await this.#o.principals.authenticateClientSecret(client.clientId, client.clientSecret, ctx.source)).appId;
      clientAuth = 'secret';
    } else if (PUBLIC_CLIENTS.has(client.clientId.toLowerCase())) {
      clientAppId = client.clientId.toLowerCase();
      clientAuth = 'none';
    } else {
      throw new UnauthenticatedError('KH_CLIENT_SECRET_REQUIRED', 'the client must authenticate: client_secret is missing');
    }
    const audience = await this.#target(ctx);
    const user = await this.#o.principals.authenticateUser(username, password, ctx.source);
    const issued = await this.#o.issuer.issue({
      kind: 'user',
      version: ctx.version,
      audience: audience.audience,
      clientAppId,
      clientAuth,
      user,
      scp: 'user_impersonation',
      amr: ['pwd'],
    });
    await this.#auditIssue(ctx, user.objectId, 'password', audience, issued, clientAppId);
    return { issued, audience };
  }

  async #target(ctx: GrantContext): Promise<ResolvedAudience> {
    if (ctx.version === '1.0') {
      if (!ctx.resource) throw new InvalidInputError('KH_OAUTH_MISSING_RESOURCE', "the request body must contain the parameter 'resource'");
      return this.#o.audiences.resolveResource(ctx.resource);
    }
    if (!ctx.scope) throw new InvalidInputError('KH_OAUTH_MISSING_SCOPE', "the request body must contain the parameter 'scope'");
    return this.#o.audiences.resolveScope(ctx.scope);
  }

  async #auditIssue(ctx: GrantContext, actor: string, grant: string, audience: ResolvedAudience, issued: IssuedToken, appId: string): Promise<void> {
    await this.#o.audit.record({
      actor,
      action: 'token.issue',
      target: audience.audience,
      source: ctx.source,
      correlationId: ctx.correlationId,
      details: { grant, appId, uti: String(issued.claims.uti ?? ''), version: ctx.version },
    });
  }
}
