// What every grant module (RFC 6749 §4, one file per grant in this folder) is given and
// returns. A grant is a short pipeline of named steps — parse → authenticate client → check
// grant → resolve audience → issue → audit — over a request the HTTP face has already parsed
// (form parameters and the client's presented credentials, nothing HTTP-specific), so the
// rules live here and the face only renders. grant-registry.ts lists the grants.
import type { AuditLog } from '../../audit/audit-log.js';
import { InvalidInputError } from '../../errors.js';
import type { Audiences, ResolvedAudience } from '../audiences.js';
import type { ClientAuthenticator, PresentedClient } from '../client-authentication.js';
import type { TokenVersion } from '../token-claims.js';
import type { IssuedToken, TokenIssuer } from '../token-issuer.js';
import type { TokenPrincipals } from '../token-principals.js';
import type { AuthorizationCodes } from '../signin/authorization-codes.js';
import type { DeviceAuthorizations } from '../signin/device-authorizations.js';
import type { IdTokens } from '../signin/id-tokens.js';
import type { RefreshTokens } from '../signin/refresh-tokens.js';
import type { MachineIdentityResolver } from './machine-identity.js';

/** Which token endpoint a request came to: Entra's v2 and v1 paths under a tenant, or `/adfs`. */
export type TokenEndpoint = 'v2' | 'v1' | 'adfs';

export interface GrantRequest {
  grantType: string;
  endpoint: TokenEndpoint;
  /** The version of the token and response shape: v1 and `/adfs` answer as Entra's v1 endpoint. */
  version: TokenVersion;
  /** The absolute URL the request was sent to (a client assertion's `aud`, RFC 7523 §3). */
  endpointUrl: string;
  /** The form parameters (RFC 6749 §3.2: each at most once; the face refused repeats). */
  params: ReadonlyMap<string, string>;
  /** The client's credentials as presented (body, HTTP Basic or assertion); not yet checked. */
  client: PresentedClient;
  /** The caller's IP address. */
  source: string;
  correlationId: string;
}

export interface GrantResult {
  issued: IssuedToken;
  audience: ResolvedAudience;
  /** Extra members of the success response (RFC 6749 §5.1): `refresh_token`, `id_token`, `scope`. */
  extra?: Record<string, string | number>;
}

export interface Grant {
  /** The `grant_type` value this grant answers (RFC 6749 §4, or a URN as RFC 8628 §3.4 has). */
  readonly type: string;
  handle(request: GrantRequest): Promise<GrantResult>;
}

/** What the grants are built from. New grants may need more: add optional members here. */
export interface GrantDeps {
  issuer: TokenIssuer;
  audiences: Audiences;
  clients: ClientAuthenticator;
  principals: TokenPrincipals;
  audit: AuditLog;
  passwordGrantEnabled: boolean;
  /** The browser and device sign-ins' stores (authorization code, refresh, device code grants). */
  signIn?: SignInDeps;
  /** A joined machine's managed identities (client credentials with identity=…). */
  machineIdentities?: MachineIdentityResolver;
}

export interface SignInDeps {
  codes: AuthorizationCodes;
  refreshTokens: RefreshTokens;
  devices: DeviceAuthorizations;
  idTokens: IdTokens;
}

/** Builds a grant from its dependencies. */
export type GrantFactory = (deps: GrantDeps) => Grant;

/** A required form parameter (RFC 6749 §4.x "REQUIRED"); Entra answers a missing one with AADSTS900144. */
export function requiredParam(request: GrantRequest, name: string): string {
  const value = request.params.get(name);
  if (value === undefined || value === '') {
    throw new MissingParameterError(name);
  }
  return value;
}

export class MissingParameterError extends InvalidInputError {
  constructor(name: string) {
    super('KH_OAUTH_MISSING_PARAMETER', `the request body must contain the parameter '${name}'`, { detail: { parameter: name } });
  }
}

/** The sign-in stores, which the user grants cannot run without (a bug in the assembly if absent). */
export function signInDeps(deps: GrantDeps): SignInDeps {
  if (!deps.signIn) throw new Error('the browser sign-in stores were not given to the token service');
  return deps.signIn;
}
