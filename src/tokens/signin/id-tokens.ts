// ID tokens (OpenID Connect Core §2, §3.1.3.6) as Entra issues them: signed like access tokens
// (RS256, the current key, JWKS-published), `aud` the client id, `sub` the same pairwise
// subject as the access token (so userinfo's `sub` matches, Core §5.3.2), the request's `nonce`
// (§3.1.2.1), `at_hash` over the access token issued beside it (§3.1.3.6), `auth_time` and the
// user's names. v1 ID tokens carry `upn`/`unique_name`/`amr` as Entra's v1 ones do.
import { createHash, randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import type { SigningKeys } from '../signing-keys.js';
import type { TokenVersion } from '../token-claims.js';
import { pairwiseSubject } from '../token-issuer.js';
import type { UserPrincipal } from '../token-principals.js';
import { tokenIssuers, type TokenIssuers } from '../token-claims.js';

export interface IdTokenRequest {
  version: TokenVersion;
  clientId: string;
  user: UserPrincipal;
  authTime: number;
  amr: string[];
  nonce?: string;
  /** The access token issued in the same response, for `at_hash`. */
  accessToken?: string;
  /** OpenID scopes granted: `email` and `profile` add claims. */
  scopes: readonly string[];
}

export interface IdTokenOptions {
  keys: SigningKeys;
  publicUrl: string;
  tenantId: string;
  lifetimeSeconds?: number;
  now?: () => number;
}

export class IdTokens {
  readonly #o: IdTokenOptions;
  readonly #issuers: TokenIssuers;
  readonly #tenantId: string;
  readonly #now: () => number;

  constructor(options: IdTokenOptions) {
    this.#o = options;
    this.#tenantId = options.tenantId.toLowerCase();
    this.#issuers = tokenIssuers(options.publicUrl, this.#tenantId);
    this.#now = options.now ?? Date.now;
  }

  async issue(request: IdTokenRequest): Promise<string> {
    const iat = Math.floor(this.#now() / 1000);
    const { user } = request;
    const claims: Record<string, unknown> = {
      iss: request.version === '1.0' ? this.#issuers.v1 : this.#issuers.v2,
      aud: request.clientId,
      iat,
      nbf: iat,
      exp: iat + (this.#o.lifetimeSeconds ?? 3600),
      sub: pairwiseSubject(this.#tenantId, request.clientId, user.objectId),
      oid: user.objectId,
      tid: this.#tenantId,
      ver: request.version,
      auth_time: Math.floor(request.authTime / 1000),
      uti: randomBytes(16).toString('base64url'),
    };
    if (request.nonce !== undefined) claims.nonce = request.nonce;
    if (request.accessToken !== undefined) claims.at_hash = atHash(request.accessToken);
    if (user.displayName) claims.name = user.displayName;
    if (request.version === '1.0') {
      claims.upn = user.userPrincipalName;
      claims.unique_name = user.userPrincipalName;
      claims.amr = [...request.amr];
      if (user.givenName) claims.given_name = user.givenName;
      if (user.surname) claims.family_name = user.surname;
    } else {
      claims.preferred_username = user.userPrincipalName;
    }
    if (request.scopes.includes('email') && user.mail) claims.email = user.mail;
    const { kid, privateKey } = await this.#o.keys.current();
    return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid }).sign(privateKey);
  }
}

/** OpenID Connect Core §3.1.3.6: base64url of the left half of SHA-256 over the ASCII access token. */
export function atHash(accessToken: string): string {
  const digest = createHash('sha256').update(accessToken, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}
