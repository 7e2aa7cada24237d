// Issues access tokens as Microsoft Entra ID does: a JWS (RFC 7515) in compact form carrying a
// JWT claims set (RFC 7519), signed RS256 with the current signing key, header
// `{ alg: 'RS256', typ: 'JWT', kid }`. Claims follow Entra's access-token reference for v1.0 and
// v2.0 tokens; see token-claims.ts.
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { SignJWT } from 'jose';
import type { SigningKeys } from './signing-keys.js';
import { normalizePublicUrl, tokenIssuers, type AccessTokenClaims, type TokenIssuers, type TokenVersion } from './token-claims.js';

/** How the client proved itself: Entra's `appidacr`/`azpacr` ('0' public, '1' secret, '2' certificate). */
export type ClientAuthMethod = 'none' | 'secret' | 'certificate';

interface TokenRequestBase {
  version: TokenVersion;
  /** From Audiences.resolveResource / resolveScope. */
  audience: string;
  /** The client application's appId (`appid` in v1, `azp` in v2). */
  clientAppId: string;
  clientAuth: ClientAuthMethod;
  roles?: readonly string[];
}

/** A service principal or managed identity acting as itself (client credentials, IMDS). */
export interface AppTokenRequest extends TokenRequestBase {
  kind: 'app';
  /** Object id of the service principal or managed identity. */
  objectId: string;
  /** A joined machine asked (src/machines/): `kh_machine` and `xms_mirid`, so its revocation stops the token. */
  machine?: { id: string; resourceId: string };
}

/** A user, through a client application (password grant, later the code and device flows). */
export interface UserTokenRequest extends TokenRequestBase {
  kind: 'user';
  user: {
    objectId: string;
    userPrincipalName: string;
    displayName?: string;
    givenName?: string;
    surname?: string;
  };
  /** Delegated scopes, space-separated, e.g. `user_impersonation` as Entra grants the Azure CLI. */
  scp?: string;
  groups?: readonly string[];
  /** RFC 8176 authentication method references (`pwd`, `mfa`), v1 tokens. */
  amr?: readonly string[];
}

export type TokenRequest = AppTokenRequest | UserTokenRequest;

export interface IssuedToken {
  token: string;
  expiresOn: Date;
  /** Seconds from now to `exp`, for the OAuth `expires_in` (RFC 6749 §5.1). */
  expiresIn: number;
  notBefore: Date;
  /** The claims signed, for the audit record (the token itself is never logged). */
  claims: AccessTokenClaims;
}

export interface TokenIssuerOptions {
  keys: SigningKeys;
  publicUrl: string;
  tenantId: string;
  /** Entra gives access tokens a random lifetime of 60–90 minutes, so a fleet does not refresh in step. */
  lifetimeSeconds?: { min: number; max: number };
  /** How far back `nbf` is set, absorbing clock skew on the resource side (Entra: 5 minutes). */
  notBeforeSkewSeconds?: number;
  /** Entra's JWT groups limit: past it the token names a source instead of listing groups. */
  maxGroups?: number;
  /** Base of the directory (Graph-shaped) API, for the groups overage claim. Default `{publicUrl}/graph/`. */
  directoryBaseUrl?: string;
  now?: () => number;
}

/** Entra's access-token lifetime: 60–90 minutes, random. Signing keys are retained past the longest. */
export const DEFAULT_TOKEN_LIFETIME_SECONDS = { min: 60 * 60, max: 90 * 60 } as const;

const ACR: Record<ClientAuthMethod, '0' | '1' | '2'> = { none: '0', secret: '1', certificate: '2' };

export class TokenIssuer {
  readonly #keys: SigningKeys;
  readonly #tenantId: string;
  readonly #issuers: TokenIssuers;
  readonly #lifetime: { min: number; max: number };
  readonly #nbfSkew: number;
  readonly #maxGroups: number;
  readonly #directoryBase: string;
  readonly #now: () => number;

  constructor(options: TokenIssuerOptions) {
    this.#keys = options.keys;
    this.#tenantId = options.tenantId.toLowerCase();
    this.#issuers = tokenIssuers(options.publicUrl, this.#tenantId);
    this.#lifetime = options.lifetimeSeconds ?? { ...DEFAULT_TOKEN_LIFETIME_SECONDS };
    const { min, max } = this.#lifetime;
    if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max < min) {
      throw new RangeError('token lifetime must be whole seconds with 1 <= min <= max');
    }
    this.#nbfSkew = options.notBeforeSkewSeconds ?? 300;
    this.#maxGroups = options.maxGroups ?? 200;
    this.#directoryBase = (options.directoryBaseUrl ?? `${normalizePublicUrl(options.publicUrl)}/graph/`).replace(/\/*$/, '/');
    this.#now = options.now ?? Date.now;
  }

  get issuers(): TokenIssuers {
    return this.#issuers;
  }

  async issue(request: TokenRequest): Promise<IssuedToken> {
    const nowMs = this.#now();
    const iat = Math.floor(nowMs / 1000);
    const nbf = iat - this.#nbfSkew;
    const exp = iat + randomInt(this.#lifetime.min, this.#lifetime.max + 1);
    const claims = this.#claims(request, iat, nbf, exp);
    const { kid, privateKey } = await this.#keys.current();
    const token = await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid }).sign(privateKey);
    return {
      token,
      expiresOn: new Date(exp * 1000),
      expiresIn: Math.max(0, exp - Math.ceil(nowMs / 1000)),
      notBefore: new Date(nbf * 1000),
      claims,
    };
  }

  #claims(request: TokenRequest, iat: number, nbf: number, exp: number): AccessTokenClaims {
    const v1 = request.version === '1.0';
    const oid = request.kind === 'app' ? request.objectId : request.user.objectId;
    const claims: AccessTokenClaims = {
      aud: request.audience,
      iss: v1 ? this.#issuers.v1 : this.#issuers.v2,
      iat,
      nbf,
      exp,
      tid: this.#tenantId,
      oid,
      // Entra: app-only tokens carry sub = oid; user tokens a pairwise id per client application.
      sub: request.kind === 'app' ? oid : pairwiseSubject(this.#tenantId, request.clientAppId, oid),
      ver: request.version,
      idtyp: request.kind,
      // Entra's `uti`: 16 random bytes, base64url (22 characters), unique per token.
      uti: randomBytes(16).toString('base64url'),
    };
    if (v1) {
      claims.appid = request.clientAppId;
      claims.appidacr = ACR[request.clientAuth];
    } else {
      claims.azp = request.clientAppId;
      claims.azpacr = ACR[request.clientAuth];
    }
    if (request.roles && request.roles.length > 0) claims.roles = [...request.roles];
    if (request.kind === 'app' && request.machine) {
      claims.kh_machine = request.machine.id;
      claims.xms_mirid = request.machine.resourceId;
    }
    if (request.kind === 'user') this.#userClaims(claims, request);
    return claims;
  }

  /** Entra's user claims: v1 carries upn/unique_name/given_name/family_name/amr, v2 preferred_username. */
  #userClaims(claims: AccessTokenClaims, request: UserTokenRequest): void {
    const { user } = request;
    if (request.version === '1.0') {
      claims.upn = user.userPrincipalName;
      claims.unique_name = user.userPrincipalName;
      if (user.givenName) claims.given_name = user.givenName;
      if (user.surname) claims.family_name = user.surname;
      if (request.amr && request.amr.length > 0) claims.amr = [...request.amr];
    } else {
      claims.preferred_username = user.userPrincipalName;
    }
    if (user.displayName) claims.name = user.displayName;
    if (request.scp) claims.scp = request.scp;
    const groups = request.groups ?? [];
    if (groups.length > this.#maxGroups) {
      // Entra's groups overage for JWTs: the claim moves to a source the resource can query.
      claims._claim_names = { groups: 'src1' };
      claims._claim_sources = { src1: { endpoint: `${this.#directoryBase}v1.0/users/${user.objectId}/getMemberObjects` } };
    } else if (groups.length > 0) {
      claims.groups = [...groups];
    }
  }
}

/** A stable per-(tenant, client, user) subject: 32 bytes base64url, 43 characters like Entra's. */
export function pairwiseSubject(tenantId: string, clientAppId: string, objectId: string): string {
  return createHash('sha256').update(`keyhaven/sub/v1|${tenantId}|${clientAppId.toLowerCase()}|${objectId.toLowerCase()}`).digest('base64url');
}
