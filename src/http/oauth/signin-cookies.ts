// The sign-in pages' cookies. Both carry the `__Host-` prefix (RFC 6265bis §4.1.3.2: Secure,
// Path=/, no Domain — no sibling host can set or shadow them), HttpOnly and SameSite=Lax (sent
// on the top-level navigation back from a client, not on cross-site subrequests).
//   __Host-kh-session  the single-sign-on session id (the database keeps its SHA-256)
//   __Host-kh-csrf     a random value; each form carries HMAC(server key, value) and a POST is
//                      accepted only when the two agree (OWASP "signed double-submit cookie"):
//                      a cross-site page can make the browser send the cookie but cannot read
//                      it, nor compute the field.
import { createHmac, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { InvalidInputError } from '../../errors.js';
import { sameSecret } from '../../tokens/signin/opaque-secrets.js';

export const SESSION_COOKIE = '__Host-kh-session';
export const CSRF_COOKIE = '__Host-kh-csrf';
export const CSRF_FIELD = 'csrf_token';

export function cookies(request: FastifyRequest): Map<string, string> {
  const jar = new Map<string, string>();
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (!jar.has(name)) jar.set(name, part.slice(eq + 1).trim());
  }
  return jar;
}

function serialize(name: string, value: string, maxAgeSeconds: number): string {
  return `${name}=${value}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}`;
}

function appendCookie(reply: FastifyReply, cookie: string): void {
  const existing = reply.getHeader('set-cookie');
  const list = existing === undefined ? [] : Array.isArray(existing) ? existing.map(String) : [String(existing)];
  void reply.header('set-cookie', [...list, cookie]);
}

export function setSessionCookie(reply: FastifyReply, id: string, maxAgeSeconds: number): void {
  appendCookie(reply, serialize(SESSION_COOKIE, id, maxAgeSeconds));
}

export function clearSessionCookie(reply: FastifyReply): void {
  appendCookie(reply, serialize(SESSION_COOKIE, '', 0));
}

const CSRF_VALUE = /^[A-Za-z0-9_-]{43}$/;

/** The form field for this browser, setting the cookie first if it has none. */
export function csrfToken(request: FastifyRequest, reply: FastifyReply, key: Buffer): string {
  let value = cookies(request).get(CSRF_COOKIE);
  if (value === undefined || !CSRF_VALUE.test(value)) {
    value = randomBytes(32).toString('base64url');
    appendCookie(reply, serialize(CSRF_COOKIE, value, 3600));
  }
  return sign(key, value);
}

/** Refuses a form POST whose field does not match its cookie. */
export function checkCsrf(request: FastifyRequest, form: ReadonlyMap<string, string>, key: Buffer): void {
  const value = cookies(request).get(CSRF_COOKIE);
  const field = form.get(CSRF_FIELD);
  if (value === undefined || !CSRF_VALUE.test(value) || field === undefined || !sameSecret(field, sign(key, value))) {
    throw new InvalidInputError('KH_SIGNIN_CSRF', 'The sign-in form has expired or did not come from this site. Go back to the application and sign in again.');
  }
}

function sign(key: Buffer, value: string): string {
  return createHmac('sha256', key).update(`keyhaven/csrf/v1|${value}`).digest('base64url');
}
