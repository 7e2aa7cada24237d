// The device authorization grant (RFC 8628). A device asks for a device code and a user code
// (§3.1–3.2); the user types the user code on the device page in any browser, signs in and
// approves (§3.3); meanwhile the device polls the token endpoint (§3.4–3.5), told
// `authorization_pending` until then, `slow_down` when it polls faster than `interval`,
// `expired_token` once the codes have expired and `access_denied` if the user declined.
//
// User codes are 8 characters from BCDFGHJKLMNPQRSTVWXZ (§6.1: no vowels, so no words, and
// no digits, so no 0/O or 1/I to confuse), shown as XXXX-XXXX, compared ignoring case, dashes
// and spaces: 20^8 ≈ 2.6 × 10^10 codes, and wrong guesses are counted per guessing address
// (guess-limiter.ts) (§5.1 asks for rate limiting). Both codes are stored as SHA-256 and
// are single use: an approved code is redeemed once, a used user code is no longer found.
import { randomInt } from 'node:crypto';
import { InvalidInputError } from '../../errors.js';
import type { DeviceCodeRow } from '../../storage/repos/device-code-repo.js';
import type { Storage } from '../../storage/storage.js';
import type { GuessLimiter } from './guess-limiter.js';
import { newOpaqueSecret, secretHash } from './opaque-secrets.js';

export const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
const USER_CODE_LENGTH = 8;
const DEVICE_CODE = /^khdc\.[A-Za-z0-9_-]{43}$/;

export interface DeviceAuthorizationOptions {
  storage: Storage;
  /** Wrong user codes are counted per source. */
  guesses: GuessLimiter;
  lifetimeSeconds: number;
  intervalSeconds: number;
  now?: () => number;
}

export interface StartedDeviceAuthorization {
  deviceCode: string;
  /** As shown to the user: XXXX-XXXX. */
  userCode: string;
  expiresIn: number;
  interval: number;
}

export interface PendingDeviceAuthorization {
  deviceCodeHash: string;
  clientId: string;
  scope: string;
  /** The user code as the user should see it. */
  userCode: string;
}

export type PollOutcome = { userId: string; authTime: number; amr: string[]; scope: string };

export class DeviceAuthorizations {
  readonly #o: DeviceAuthorizationOptions;
  readonly #now: () => number;
  #started = 0;

  constructor(options: DeviceAuthorizationOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  async start(clientId: string, scope: string): Promise<StartedDeviceAuthorization> {
    const now = this.#now();
    const deviceCode = `khdc.${newOpaqueSecret()}`;
    for (let attempt = 0; ; attempt++) {
      const userCode = newUserCode();
      const row: DeviceCodeRow = {
        device_code_hash: secretHash(deviceCode), user_code_hash: secretHash(userCode), client_id: clientId.toLowerCase(), scope,
        interval_seconds: this.#o.intervalSeconds, expires_at: now + this.#o.lifetimeSeconds * 1000, last_poll_at: null,
        status: 'pending', user_id: null, auth_time: null, amr: null,
      };
      try {
        await this.#o.storage.read.deviceCodes.insert(row);
      } catch (err) {
        if (attempt < 3) continue; // a user code collision (unique index): draw another
        throw err;
      }
      if (++this.#started % 64 === 0) await this.#o.storage.read.deviceCodes.sweep(now - 86_400_000).catch(() => undefined);
      return { deviceCode, userCode: `${userCode.slice(0, 4)}-${userCode.slice(4)}`, expiresIn: this.#o.lifetimeSeconds, interval: this.#o.intervalSeconds };
    }
  }

  /**
   * The pending authorization a typed user code names. A wrong, used or expired code counts as
   * a failed guess from `source`; too many lock that source out for a while (ThrottledError).
   */
  async lookup(typed: string, source: string): Promise<PendingDeviceAuthorization> {
    await this.#o.guesses.check(source);
    const normalized = normalizeUserCode(typed);
    const row = normalized === undefined ? undefined : await this.#o.storage.read.deviceCodes.byUserCode(secretHash(normalized));
    if (!row || row.status !== 'pending' || Number(row.expires_at) <= this.#now()) {
      await this.#o.guesses.wrong(source);
      throw new InvalidInputError('KH_USER_CODE_INVALID', 'That code is not valid, or has expired or been used. Check the code on your device and try again.');
    }
    return { deviceCodeHash: row.device_code_hash, clientId: row.client_id, scope: row.scope, userCode: `${normalized!.slice(0, 4)}-${normalized!.slice(4)}` };
  }

  /** The pending authorization behind a device code hash (the device page's later steps, after the code was typed). */
  async pending(deviceCodeHash: string): Promise<PendingDeviceAuthorization | undefined> {
    const row = await this.#o.storage.read.deviceCodes.byDeviceCode(deviceCodeHash);
    if (!row || row.status !== 'pending' || Number(row.expires_at) <= this.#now()) return undefined;
    return { deviceCodeHash: row.device_code_hash, clientId: row.client_id, scope: row.scope, userCode: '' };
  }

  /** The user signed in and approved: the device's next poll gets tokens. */
  async approve(pending: PendingDeviceAuthorization, userId: string, authTime: number, amr: string[]): Promise<boolean> {
    return this.#o.storage.read.deviceCodes.transition(pending.deviceCodeHash, 'pending', { status: 'approved', user_id: userId, auth_time: authTime, amr: amr.join(' ') });
  }

  async deny(pending: PendingDeviceAuthorization): Promise<boolean> {
    return this.#o.storage.read.deviceCodes.transition(pending.deviceCodeHash, 'pending', { status: 'denied' });
  }

  /** One poll of the token endpoint (RFC 8628 §3.4–3.5) by `clientId`. */
  async poll(deviceCode: string, clientId: string): Promise<PollOutcome> {
    if (typeof deviceCode !== 'string' || !DEVICE_CODE.test(deviceCode)) throw invalid('KH_DEVICE_CODE_INVALID', 'The device_code is malformed or unknown.');
    const repo = this.#o.storage.read.deviceCodes;
    const hash = secretHash(deviceCode);
    const row = await repo.byDeviceCode(hash);
    if (!row || row.client_id !== clientId.toLowerCase()) throw invalid('KH_DEVICE_CODE_INVALID', 'The device_code is malformed or unknown.');
    const now = this.#now();
    if (row.status === 'redeemed') throw invalid('KH_DEVICE_CODE_INVALID', 'The device_code has already been redeemed.');
    if (Number(row.expires_at) <= now) throw invalid('KH_DEVICE_CODE_EXPIRED', 'The device code has expired. Start the sign-in again.');
    if (row.status === 'denied') throw invalid('KH_DEVICE_CODE_DENIED', 'The user declined the sign-in.');
    const last = row.last_poll_at === null ? undefined : Number(row.last_poll_at);
    await repo.touchPoll(hash, now);
    // A little slack for timer jitter: a client that waits `interval` between polls is never told off.
    if (last !== undefined && now - last < row.interval_seconds * 1000 - 100) {
      throw invalid('KH_DEVICE_SLOW_DOWN', `Polling too fast: wait at least ${row.interval_seconds} seconds between requests.`);
    }
    if (row.status === 'pending') throw invalid('KH_DEVICE_AUTHORIZATION_PENDING', 'The user has not yet finished signing in.');
    if (!(await repo.transition(hash, 'approved', { status: 'redeemed' }))) throw invalid('KH_DEVICE_CODE_INVALID', 'The device_code has already been redeemed.');
    return { userId: row.user_id!, authTime: Number(row.auth_time), amr: (row.amr ?? 'pwd').split(' ').filter(Boolean), scope: row.scope };
  }
}

export function newUserCode(): string {
  let code = '';
  for (let i = 0; i < USER_CODE_LENGTH; i++) code += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
  return code;
}

/** Upper-case, without dashes and spaces; undefined unless 8 letters of the alphabet. */
export function normalizeUserCode(typed: string): string | undefined {
  if (typeof typed !== 'string' || typed.length > 32) return undefined;
  const code = typed.replace(/[\s-]/g, '').toUpperCase();
  return code.length === USER_CODE_LENGTH && [...code].every((c) => USER_CODE_ALPHABET.includes(c)) ? code : undefined;
}


function invalid(code: string, message: string): InvalidInputError {
  return new InvalidInputError(code, message);
}

