// What a sign-in page carries from one form to the next, signed so it cannot be forged: HMAC
// with the server's CSRF key, under a label per kind so one kind never opens as another.
//   device ticket   the device code's hash, after its user code was typed: the later steps are
//                   not counted as more guesses at the code (RFC 8628 §5.1)
//   second-factor   the user whose password was just proven, when, and the enrolment begun for
//   ticket          them: the code page needs no password again (it is never put in a page), and
//                   the ticket opens only with the CSRF cookie of the browser it was made for,
//                   only until `maxAgeMs` after the password — then the user signs in again.
import { createHmac } from 'node:crypto';
import { sameSecret } from '../../tokens/signin/opaque-secrets.js';

function mac(key: Buffer, label: string, ...parts: string[]): string {
  return createHmac('sha256', key).update(`keyhaven/${label}/v1|${parts.join('|')}`).digest('base64url');
}

export function makeDeviceTicket(key: Buffer, deviceCodeHash: string): string {
  return `${deviceCodeHash}.${mac(key, 'device-ticket', deviceCodeHash)}`;
}

/** The device code hash a ticket carries, or undefined when it was not made here. */
export function openDeviceTicket(key: Buffer, ticket: string): string | undefined {
  const [hash, tag, extra] = ticket.split('.');
  if (!hash || !tag || extra !== undefined || hash.length > 64) return undefined;
  return sameSecret(makeDeviceTicket(key, hash), ticket) ? hash : undefined;
}

export interface SecondFactorTicket {
  userId: string;
  /** When the password was proven (ms since the epoch). */
  passwordAt: number;
  /** The enrolment begun in this sign-in (proof-up), if any. */
  methodId?: string;
}

const ID = /^[0-9a-f-]{36}$/;

export function makeSecondFactorTicket(key: Buffer, csrfCookie: string, t: SecondFactorTicket): string {
  const fields = [t.userId, String(t.passwordAt), t.methodId ?? ''];
  return `${fields.join('.')}.${mac(key, 'mfa-ticket', csrfCookie, ...fields)}`;
}

/** The ticket's contents, or undefined when forged, for another browser, or older than `maxAgeMs`. */
export function openSecondFactorTicket(key: Buffer, csrfCookie: string | undefined, ticket: string, nowMs: number, maxAgeMs: number): SecondFactorTicket | undefined {
  if (csrfCookie === undefined || ticket.length > 256) return undefined;
  const [userId, at, methodId, tag, extra] = ticket.split('.');
  if (userId === undefined || at === undefined || methodId === undefined || !tag || extra !== undefined) return undefined;
  if (!ID.test(userId) || !/^\d{1,15}$/.test(at) || (methodId !== '' && !ID.test(methodId))) return undefined;
  const parsed: SecondFactorTicket = { userId, passwordAt: Number(at), ...(methodId !== '' ? { methodId } : {}) };
  if (!sameSecret(makeSecondFactorTicket(key, csrfCookie, parsed), ticket)) return undefined;
  if (parsed.passwordAt > nowMs || nowMs - parsed.passwordAt > maxAgeMs) return undefined;
  return parsed;
}
