// The browser's single-sign-on session: after one password, a second application's sign-in
// (and the device page) needs none until the session ends — by its lifetime, by logout, or by
// anything that ends the user's sign-ins (sign-in-validity.ts). The cookie holds a random id;
// the database holds its SHA-256.
import type { Storage } from '../../storage/storage.js';
import type { TokenPrincipals, UserPrincipal } from '../token-principals.js';
import { newOpaqueSecret, secretHash } from './opaque-secrets.js';
import { stillSignedIn } from './sign-in-validity.js';

export interface SessionOptions {
  storage: Storage;
  principals: TokenPrincipals;
  lifetimeSeconds: number;
  now?: () => number;
}

export interface LiveSession {
  user: UserPrincipal;
  authTime: number;
  amr: string[];
}

export class SigninSessions {
  readonly #o: SessionOptions;
  readonly #now: () => number;
  #created = 0;

  constructor(options: SessionOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  get lifetimeSeconds(): number {
    return this.#o.lifetimeSeconds;
  }

  /** A new session for a user who just proved their password; returns the cookie value. */
  async create(userId: string, amr: string[]): Promise<{ id: string; authTime: number }> {
    const id = newOpaqueSecret();
    const now = this.#now();
    await this.#o.storage.read.signinSessions.insert({ id_hash: secretHash(id), user_id: userId, auth_time: now, amr: amr.join(' '), expires_at: now + this.#o.lifetimeSeconds * 1000 });
    if (++this.#created % 64 === 0) await this.#o.storage.read.signinSessions.sweep(now).catch(() => undefined);
    return { id, authTime: now };
  }

  /** The session behind a cookie, if it is live and its user's sign-ins still count. */
  async current(id: string | undefined): Promise<LiveSession | undefined> {
    if (typeof id !== 'string' || id.length === 0 || id.length > 128) return undefined;
    const row = await this.#o.storage.read.signinSessions.live(secretHash(id), this.#now());
    if (!row) return undefined;
    try {
      const user = await stillSignedIn(this.#o.principals, row.user_id, Number(row.auth_time));
      return { user, authTime: Number(row.auth_time), amr: row.amr.split(' ').filter(Boolean) };
    } catch {
      await this.#o.storage.read.signinSessions.delete(row.id_hash);
      return undefined;
    }
  }

  async end(id: string | undefined): Promise<void> {
    if (typeof id !== 'string' || id.length === 0 || id.length > 128) return;
    await this.#o.storage.read.signinSessions.delete(secretHash(id));
  }
}
