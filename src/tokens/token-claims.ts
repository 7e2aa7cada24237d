// The shape of the access tokens Keyhaven issues, shared by the issuer and the verifier.
// Claim names and meanings are Microsoft Entra ID's ("Access token claims reference"), so Azure
// clients and libraries read them unchanged; the registered ones are RFC 7519 §4.1.

export type TokenVersion = '1.0' | '2.0';

export interface AccessTokenClaims {
  /** RFC 7519 §4.1.3; always a single string in tokens Keyhaven issues. */
  aud: string;
  iss: string;
  iat: number;
  nbf: number;
  exp: number;
  /** Tenant (directory) id. */
  tid: string;
  /** Object id of the principal: the user, or the service principal / managed identity. */
  oid: string;
  /** Entra: equal to `oid` for app-only tokens, a per-application pairwise id for users. */
  sub: string;
  ver: TokenVersion;
  /** Entra's optional `idtyp` claim, always emitted here: who the token speaks for. */
  idtyp: 'app' | 'user';
  /** Entra's unique token identifier (audit correlation; revocation lists). */
  uti: string;
  /** v1 tokens: the client application id. */
  appid?: string;
  /** v1: how the client authenticated — '0' public client, '1' secret, '2' certificate. */
  appidacr?: '0' | '1' | '2';
  /** v2 tokens: the client application id. */
  azp?: string;
  azpacr?: '0' | '1' | '2';
  /** v1 user tokens. */
  upn?: string;
  unique_name?: string;
  given_name?: string;
  family_name?: string;
  /** RFC 8176 authentication method references: `pwd`, and `otp` + `mfa` after a second factor (see signInAmr). */
  amr?: string[];
  /** v2 user tokens. */
  preferred_username?: string;
  name?: string;
  /** Delegated scopes, space-separated (user tokens). */
  scp?: string;
  /** App roles granted to the caller. */
  roles?: string[];
  /** Group object ids; absent when over the limit (then `_claim_names` points at the directory). */
  groups?: string[];
  _claim_names?: { groups: string };
  /** Keyhaven: the joined machine the token was issued to (src/machines/); refused once it is revoked. */
  kh_machine?: string;
  /** Entra's managed-identity resource id claim: here the machine's virtualMachines/virtualMachineScaleSets id. */
  xms_mirid?: string;
  _claim_sources?: Record<string, { endpoint: string }>;
}

/**
 * RFC 8176 §2 values Keyhaven's sign-ins produce: `pwd` (password), `otp` (a one-time password,
 * here TOTP), `mfa` (more than one factor). Entra writes `["pwd"]` for a password sign-in and
 * `["pwd", "mfa"]` after a second factor; Keyhaven adds `otp`, naming which one.
 */
export type AuthenticationMethodReference = 'pwd' | 'otp' | 'mfa';

/**
 * The `amr` of a password sign-in, with what a verified second factor adds (its
 * SecondFactorResult.amr: `otp`, `mfa`). The input issuance takes (UserTokenRequest.amr): the
 * password grant passes signInAmr(); the browser and device flows pass the second factor's.
 */
export function signInAmr(secondFactor?: { amr: readonly string[] }): AuthenticationMethodReference[] {
  const amr: AuthenticationMethodReference[] = ['pwd'];
  for (const value of secondFactor?.amr ?? []) {
    if ((value === 'otp' || value === 'mfa') && !amr.includes(value)) amr.push(value);
  }
  return amr;
}

/** Entra's v1 and v2 issuers: `https://sts.windows.net/{tid}/` and `{authority}/{tid}/v2.0`. */
export interface TokenIssuers {
  v1: string;
  v2: string;
}

/** `publicUrl` without trailing slashes. Config validates it at boot, so a bad one here is a bug (RangeError). */
export function normalizePublicUrl(publicUrl: string): string {
  let url: URL;
  try {
    url = new URL(publicUrl);
  } catch {
    throw new RangeError('publicUrl is not an absolute URL');
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search || url.hash) {
    throw new RangeError('publicUrl must be an http(s) URL without query or fragment');
  }
  return url.href.replace(/\/+$/, '');
}

/**
 * Keyhaven's issuers for one tenant. Entra's v1 issuer is `https://sts.windows.net/{tid}/`, a
 * host Keyhaven cannot serve; its own authority `{publicUrl}/{tid}/` stands in for it, and the
 * v2 form is Entra's own `{authority}/{tid}/v2.0`, which OpenID discovery advertises.
 */
export function tokenIssuers(publicUrl: string, tenantId: string): TokenIssuers {
  const base = normalizePublicUrl(publicUrl);
  const tid = tenantId.toLowerCase();
  return { v1: `${base}/${tid}/`, v2: `${base}/${tid}/v2.0` };
}
