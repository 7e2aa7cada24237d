// Verifies the bearer tokens Keyhaven issued (RFC 6750) before any API acts on them:
//   1. a compact JWS (RFC 7515 §7.1) whose `alg` is exactly RS256 — `none`, HS256 keyed with the
//      public key, and every other algorithm are refused before any key is used (RFC 8725 §3.1);
//   2. the signature, by `kid`, against the published signing keys only (never a key named in
//      the token itself: `jwk`, `jku`, `x5u` headers are ignored);
//   3. then the claims (RFC 7519 §4.1): `iss` is one of this tenant's issuers, `aud` one the
//      calling API accepts, `tid` this tenant, `exp`/`nbf` within the clock skew.
// Claims are only judged once the signature holds, so an unsigned token learns nothing about them.
// Error messages never contain the token or its claims (jose's errors carry the payload; they are
// never attached as a cause).
import { errors as joseErrors, jwtVerify, type JWTHeaderParameters } from 'jose';
import { UnauthenticatedError } from '../errors.js';
import type { SigningKeys } from './signing-keys.js';
import { tokenIssuers, type AccessTokenClaims, type TokenIssuers } from './token-claims.js';

export const TOKEN_ERRORS = {
  malformed: 'KH_TOKEN_MALFORMED',
  algorithm: 'KH_TOKEN_ALG_NOT_ALLOWED',
  unknownKey: 'KH_TOKEN_UNKNOWN_KEY',
  signature: 'KH_TOKEN_BAD_SIGNATURE',
  expired: 'KH_TOKEN_EXPIRED',
  notYetValid: 'KH_TOKEN_NOT_YET_VALID',
  issuer: 'KH_TOKEN_WRONG_ISSUER',
  audience: 'KH_TOKEN_WRONG_AUDIENCE',
  tenant: 'KH_TOKEN_WRONG_TENANT',
} as const;

/** Microsoft.IdentityModel's DefaultClockSkew (see clockSkewSeconds). */
export const DEFAULT_CLOCK_SKEW_SECONDS = 300;

export interface TokenVerifierOptions {
  keys: SigningKeys;
  publicUrl: string;
  tenantId: string;
  /**
   * Allowed clock difference for `exp` and `nbf`, in seconds. 300 s is the default of
   * Microsoft.IdentityModel (TokenValidationParameters.DefaultClockSkew) that Azure resources
   * validate Entra tokens with; replicas and clients with NTP sit well inside it, and a token
   * still dies within minutes of its `exp`.
   */
  clockSkewSeconds?: number;
  now?: () => number;
}

export interface VerifyOptions {
  /** The `aud` values the calling API answers to (Audiences.acceptedAudiences). */
  audiences: readonly string[];
}

/** Authorization header values past this are refused unparsed; Node caps all headers at 16 KiB. */
const MAX_TOKEN_LENGTH = 16 * 1024;

export class TokenVerifier {
  readonly #keys: SigningKeys;
  readonly #tenantId: string;
  readonly #issuers: TokenIssuers;
  readonly #skew: number;
  readonly #now: () => number;

  constructor(options: TokenVerifierOptions) {
    this.#keys = options.keys;
    this.#tenantId = options.tenantId.toLowerCase();
    this.#issuers = tokenIssuers(options.publicUrl, this.#tenantId);
    this.#skew = options.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
    this.#now = options.now ?? Date.now;
  }

  async verify(token: string, options: VerifyOptions): Promise<AccessTokenClaims> {
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH || token.split('.').length !== 3) {
      throw fail('malformed', 'the access token is not a signed JWT');
    }
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, (header) => this.#key(header), {
        algorithms: ['RS256'],
        issuer: [this.#issuers.v1, this.#issuers.v2],
        audience: [...options.audiences],
        clockTolerance: this.#skew,
        currentDate: new Date(this.#now()),
        requiredClaims: ['iss', 'aud', 'exp', 'nbf', 'iat', 'tid', 'oid', 'sub', 'ver'],
      }));
    } catch (err) {
      throw translate(err);
    }
    return this.#checkClaims(payload);
  }

  async #key(header: JWTHeaderParameters) {
    if (typeof header.kid !== 'string' || header.kid === '') throw fail('malformed', 'the access token names no signing key');
    const key = await this.#keys.publicKey(header.kid);
    if (!key) throw fail('unknownKey', 'the access token was signed with a key this server does not publish');
    return key;
  }

  /** The claims jose does not know: Entra's own, typed, and the tenant. */
  #checkClaims(p: Record<string, unknown>): AccessTokenClaims {
    if (typeof p.aud !== 'string') throw fail('audience', 'the access token must name exactly one audience');
    if (p.tid !== this.#tenantId) throw fail('tenant', 'the access token was issued for another tenant');
    const expectedIssuer = p.ver === '1.0' ? this.#issuers.v1 : p.ver === '2.0' ? this.#issuers.v2 : undefined;
    if (expectedIssuer === undefined) throw fail('malformed', 'the access token has an unknown version');
    if (p.iss !== expectedIssuer) throw fail('issuer', 'the access token issuer does not match its version');
    const client = p.ver === '1.0' ? p.appid : p.azp;
    if (!nonEmptyString(p.oid) || !nonEmptyString(p.sub) || !nonEmptyString(client) || !nonEmptyString(p.uti)) {
      throw fail('malformed', 'the access token lacks a required claim');
    }
    if (p.idtyp !== 'app' && p.idtyp !== 'user') throw fail('malformed', 'the access token lacks a required claim');
    for (const name of ['roles', 'groups', 'amr'] as const) {
      const value = p[name];
      if (value !== undefined && !(Array.isArray(value) && value.every((v) => typeof v === 'string'))) {
        throw fail('malformed', `the access token's ${name} claim is not a list of strings`);
      }
    }
    if (p.kh_machine !== undefined && !nonEmptyString(p.kh_machine)) throw fail('malformed', "the access token's kh_machine claim is not a string");
    if (p.scp !== undefined && typeof p.scp !== 'string') throw fail('malformed', "the access token's scp claim is not a string");
    return p as unknown as AccessTokenClaims;
  }
}

/** The token in an `Authorization: Bearer …` header (RFC 6750 §2.1; the scheme is case-insensitive). */
export function bearerToken(authorization: string | undefined): string {
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(authorization ?? '');
  if (!match) throw fail('malformed', 'expected an Authorization header with a Bearer token');
  return match[1]!;
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function fail(kind: keyof typeof TOKEN_ERRORS, message: string): UnauthenticatedError {
  return new UnauthenticatedError(TOKEN_ERRORS[kind], message);
}

/**
 * jose's errors, by class and claim, to Keyhaven's codes (any other jose error: malformed). Every
 * other error passes through unchanged: a storage outage while a key is looked up stays a 503 or
 * 500, never a 401 that would send clients to fetch new tokens.
 */
function translate(err: unknown): unknown {
  if (!(err instanceof joseErrors.JOSEError)) return err;
  if (err instanceof joseErrors.JWTExpired) return fail('expired', 'the access token has expired');
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    switch (err.claim) {
      case 'nbf':
        return err.reason === 'check_failed' ? fail('notYetValid', 'the access token is not yet valid') : fail('malformed', 'the access token has an invalid nbf claim');
      case 'iss':
        return err.reason === 'check_failed' ? fail('issuer', 'the access token was not issued by this tenant') : fail('malformed', 'the access token has no issuer');
      case 'aud':
        return err.reason === 'check_failed' ? fail('audience', 'the access token is not for this API') : fail('malformed', 'the access token has no audience');
      default:
        return fail('malformed', 'the access token lacks a required claim or has an invalid one');
    }
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed || err instanceof joseErrors.JOSENotSupported) {
    return fail('algorithm', 'the access token must be signed with RS256');
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return fail('signature', 'the access token signature is invalid');
  return fail('malformed', 'the access token is not a valid signed JWT');
}
