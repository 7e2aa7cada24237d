// Refresh tokens (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14.2): each use
// returns a new token and retires the old; presenting a retired one means two parties hold the
// family's tokens, so the whole family is revoked and both must sign in again. A family is one
// sign-in of one user at one client; it ends too when the user's sign-ins end
// (sign-in-validity.ts). Tokens are opaque (stored as SHA-256); they are good for any audience
// the user may ask for, as Entra's are ("multi-resource refresh tokens").
import { randomUUID } from 'node:crypto';
import { InvalidInputError, UnauthenticatedError } from '../../errors.js';
import type { Storage } from '../../storage/storage.js';
import type { TokenPrincipals, UserPrincipal } from '../token-principals.js';
import { newOpaqueSecret, secretHash } from './opaque-secrets.js';
import { stillSignedIn } from './sign-in-validity.js';

export interface RefreshTokenOptions {
  storage: Storage;
  principals: TokenPrincipals;
  lifetimeSeconds: number;
  now?: () => number;
}

export interface FamilyStart {
  /** Given when the family's id was fixed earlier (an authorization code names its family). */
  familyId?: string;
  userId: string;
  clientId: string;
  authTime: number;
  amr: string[];
  /** The client authenticated with a secret or certificate. */
  confidential: boolean;
}

export interface Rotated {
  familyId: string;
  user: UserPrincipal;
  authTime: number;
  amr: string[];
  /** The new refresh token; the presented one is retired. */
  refreshToken: string;
}

/** Refresh tokens are this prefix and 43 base64url characters; anything else is not one. */
const PREFIX = 'khrt.';
const SHAPE = /^khrt\.[A-Za-z0-9_-]{43}$/;

export class RefreshTokens {
  readonly #o: RefreshTokenOptions;
  readonly #now: () => number;

  constructor(options: RefreshTokenOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  async startFamily(start: FamilyStart): Promise<{ familyId: string; refreshToken: string }> {
    const familyId = start.familyId ?? randomUUID();
    const now = this.#now();
    const token = `${PREFIX}${newOpaqueSecret()}`;
    await this.#o.storage.transaction(async (tx) => {
      await tx.refreshTokens.insertFamily({
        id: familyId, user_id: start.userId, client_id: start.clientId, auth_time: start.authTime, amr: start.amr.join(' '),
        confidential: start.confidential ? 1 : 0, created_at: now, revoked_at: null, revoked_reason: null,
      });
      await tx.refreshTokens.insertToken({ token_hash: secretHash(token), family_id: familyId, created_at: now, expires_at: now + this.#o.lifetimeSeconds * 1000, used_at: null });
    });
    return { familyId, refreshToken: token };
  }

  /**
   * Retires `token` and returns its successor, for `clientId` only. A token used before revokes
   * its family (reuse detection); so does a family whose user's sign-ins have ended.
   */
  async rotate(token: string, clientId: string, confidential: boolean): Promise<Rotated> {
    if (typeof token !== 'string' || !SHAPE.test(token)) throw invalid('KH_REFRESH_TOKEN_INVALID', 'The refresh token is malformed or unknown.');
    const now = this.#now();
    const repo = this.#o.storage.read.refreshTokens;
    const hash = secretHash(token);
    const row = await repo.token(hash);
    if (!row) throw invalid('KH_REFRESH_TOKEN_INVALID', 'The refresh token is malformed or unknown.');
    const family = await repo.family(row.family_id);
    if (!family) throw invalid('KH_REFRESH_TOKEN_INVALID', 'The refresh token is malformed or unknown.');
    // Another client's token tells the presenter nothing and is not burnt: it was not theirs to use.
    if (family.client_id !== clientId.toLowerCase()) throw invalid('KH_REFRESH_TOKEN_CLIENT_MISMATCH', 'The refresh token was issued to another client.');
    // Not burnt either: the holder without the secret cannot have used it.
    if (family.confidential === 1 && !confidential) {
      throw new UnauthenticatedError('KH_CLIENT_SECRET_REQUIRED', "The request body must contain the parameter 'client_assertion' or 'client_secret'.");
    }
    if (family.revoked_at !== null) throw invalid('KH_GRANT_REVOKED', 'The provided grant has been revoked. Sign in again.');
    if (row.used_at !== null) {
      await repo.revokeFamily(family.id, now, 'reuse');
      throw invalid('KH_REFRESH_TOKEN_REUSED', 'The refresh token has already been used; every token of this sign-in is revoked. Sign in again.');
    }
    if (Number(row.expires_at) <= now) throw invalid('KH_REFRESH_TOKEN_EXPIRED', 'The refresh token has expired due to inactivity. Sign in again.');
    let user: UserPrincipal;
    try {
      user = await stillSignedIn(this.#o.principals, family.user_id, Number(family.auth_time));
    } catch (err) {
      await repo.revokeFamily(family.id, now, 'user');
      throw err;
    }
    const next = `${PREFIX}${newOpaqueSecret()}`;
    const rotated = await this.#o.storage.transaction(async (tx) => {
      if (!(await tx.refreshTokens.use(hash, now))) return false;
      await tx.refreshTokens.insertToken({ token_hash: secretHash(next), family_id: family.id, created_at: now, expires_at: now + this.#o.lifetimeSeconds * 1000, used_at: null });
      return true;
    });
    if (!rotated) {
      // Lost a race with another use of the same token: that is reuse too.
      await repo.revokeFamily(family.id, now, 'reuse');
      throw invalid('KH_REFRESH_TOKEN_REUSED', 'The refresh token has already been used; every token of this sign-in is revoked. Sign in again.');
    }
    return { familyId: family.id, user, authTime: Number(family.auth_time), amr: family.amr.split(' ').filter(Boolean), refreshToken: next };
  }

  /**
   * RFC 7009: revokes the family of `token` if it is `clientId`'s; undefined when the token is
   * unknown (answered as revoked all the same). Another client's token is refused.
   */
  async revokeToken(token: string, clientId: string): Promise<{ familyId: string; userId: string } | undefined> {
    if (typeof token !== 'string' || !SHAPE.test(token)) return undefined;
    const repo = this.#o.storage.read.refreshTokens;
    const row = await repo.token(secretHash(token));
    const family = row ? await repo.family(row.family_id) : undefined;
    if (!family) return undefined;
    if (family.client_id !== clientId.toLowerCase()) throw invalid('KH_REFRESH_TOKEN_CLIENT_MISMATCH', 'The refresh token was issued to another client.');
    if (family.revoked_at !== null) return undefined;
    await repo.revokeFamily(family.id, this.#now(), 'revoked');
    return { familyId: family.id, userId: family.user_id };
  }

  async revokeFamily(familyId: string, reason: string): Promise<void> {
    await this.#o.storage.read.refreshTokens.revokeFamily(familyId, this.#now(), reason);
  }
}

function invalid(code: string, message: string): InvalidInputError {
  return new InvalidInputError(code, message);
}
