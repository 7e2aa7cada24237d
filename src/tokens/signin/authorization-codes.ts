// Authorization codes (RFC 6749 §4.1.2): random, stored as SHA-256, short-lived
// (`authorizationCodeLifetimeSeconds`), bound to the client, the redirect URI, the PKCE
// challenge and the nonce of the request that made them, and good once. "If an authorization
// code is used more than once, the authorization server MUST deny the request and SHOULD
// revoke (when possible) all tokens previously issued based on that authorization code": each
// code names the refresh family its redemption starts, and a replay revokes that family.
// (Access tokens are signed JWTs and live out their hour, as Entra's do.)
import { randomUUID } from 'node:crypto';
import { InvalidInputError } from '../../errors.js';
import type { Storage } from '../../storage/storage.js';
import type { AuthorizationCodeRow } from '../../storage/repos/authorization-code-repo.js';
import { newOpaqueSecret, secretHash } from './opaque-secrets.js';
import { verifierMatches } from './pkce.js';
import type { RefreshTokens } from './refresh-tokens.js';

export interface CodeGrant {
  clientId: string;
  userId: string;
  redirectUri: string;
  scope: string;
  nonce?: string;
  codeChallenge?: string;
  authTime: number;
  amr: string[];
}

export interface RedeemedCode {
  familyId: string;
  userId: string;
  scope: string;
  nonce?: string;
  authTime: number;
  amr: string[];
  redirectUri: string;
}

export interface AuthorizationCodeOptions {
  storage: Storage;
  refreshTokens: RefreshTokens;
  lifetimeSeconds: number;
  now?: () => number;
}

const SHAPE = /^khac\.[A-Za-z0-9_-]{43}$/;

export class AuthorizationCodes {
  readonly #o: AuthorizationCodeOptions;
  readonly #now: () => number;
  #issued = 0;

  constructor(options: AuthorizationCodeOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  async issue(grant: CodeGrant): Promise<string> {
    const code = `khac.${newOpaqueSecret()}`;
    const now = this.#now();
    const row: AuthorizationCodeRow = {
      code_hash: secretHash(code), client_id: grant.clientId.toLowerCase(), user_id: grant.userId, redirect_uri: grant.redirectUri,
      scope: grant.scope, nonce: grant.nonce ?? null, code_challenge: grant.codeChallenge ?? null, auth_time: grant.authTime,
      amr: grant.amr.join(' '), family_id: randomUUID(), expires_at: now + this.#o.lifetimeSeconds * 1000, used_at: null,
    };
    await this.#o.storage.read.authorizationCodes.insert(row);
    // Dead codes are kept a day, so a late replay is still recognised as one.
    if (++this.#issued % 64 === 0) await this.#o.storage.read.authorizationCodes.sweep(now - 86_400_000).catch(() => undefined);
    return code;
  }

  /**
   * Redeems `code` for `clientId` at `redirectUri` with the PKCE verifier (RFC 7636 §4.6).
   * Checks that would fail for a stolen code (client, redirect URI, verifier) run before the
   * code is spent; a second redemption revokes what the first one started.
   */
  async redeem(code: string, clientId: string, redirectUri: string, verifier: string | undefined): Promise<RedeemedCode> {
    if (typeof code !== 'string' || !SHAPE.test(code)) throw invalid('KH_CODE_INVALID', 'The authorization code is malformed or unknown.');
    const repo = this.#o.storage.read.authorizationCodes;
    const hash = secretHash(code);
    const row = await repo.byHash(hash);
    if (!row) throw invalid('KH_CODE_INVALID', 'The authorization code is malformed or unknown.');
    const now = this.#now();
    if (row.client_id !== clientId.toLowerCase()) throw invalid('KH_CODE_CLIENT_MISMATCH', 'The authorization code was issued to another client.');
    if (row.used_at !== null) {
      await this.#o.refreshTokens.revokeFamily(row.family_id, 'code-replay');
      throw invalid('KH_CODE_REDEEMED', 'The authorization code has already been redeemed; the tokens issued for it are revoked.');
    }
    if (Number(row.expires_at) <= now) throw invalid('KH_CODE_EXPIRED', 'The authorization code has expired. Sign in again.');
    if (row.redirect_uri !== redirectUri) throw invalid('KH_CODE_REDIRECT_MISMATCH', "The redirect_uri does not match the one the authorization code was issued for.");
    if (row.code_challenge !== null) {
      if (verifier === undefined || verifier === '') throw invalid('KH_PKCE_VERIFIER_MISSING', 'The code_verifier is required: the authorization request carried a code_challenge (RFC 7636 §4.5).');
      if (!verifierMatches(verifier, row.code_challenge)) throw invalid('KH_PKCE_MISMATCH', 'The code_verifier does not match the code_challenge supplied in the authorization request.');
    } else if (verifier !== undefined) {
      throw invalid('KH_PKCE_MISMATCH', 'A code_verifier was sent, but the authorization request carried no code_challenge.');
    }
    if (!(await repo.redeem(hash, now))) {
      await this.#o.refreshTokens.revokeFamily(row.family_id, 'code-replay');
      throw invalid('KH_CODE_REDEEMED', 'The authorization code has already been redeemed; the tokens issued for it are revoked.');
    }
    const redeemed: RedeemedCode = {
      familyId: row.family_id, userId: row.user_id, scope: row.scope, authTime: Number(row.auth_time),
      amr: row.amr.split(' ').filter(Boolean), redirectUri: row.redirect_uri,
    };
    if (row.nonce !== null) redeemed.nonce = row.nonce;
    return redeemed;
  }
}

function invalid(code: string, message: string): InvalidInputError {
  return new InvalidInputError(code, message);
}
