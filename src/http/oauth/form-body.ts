// application/x-www-form-urlencoded bodies for the token endpoint (RFC 6749 §4.x, W3C URL
// standard encoding). Hand-written over URLSearchParams rather than @fastify/formbody because
// OAuth forbids repeated parameters (RFC 6749 §3.1: "Request and response parameters MUST NOT
// be included more than once") and the usual parsers merge repeats into arrays silently.
import type { FastifyInstance } from 'fastify';
import { InvalidInputError } from '../../errors.js';

export type FormBody = ReadonlyMap<string, string>;

export const FORM_BODY_LIMIT = 64 * 1024;

export function parseForm(text: string): FormBody {
  const form = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(text)) {
    if (form.has(name)) {
      throw new InvalidInputError('KH_OAUTH_DUPLICATE_PARAMETER', `the parameter '${name.slice(0, 64).replace(/[^\x20-\x7e]/g, '?')}' is duplicated`);
    }
    form.set(name, value);
  }
  return form;
}

export function registerFormParser(app: FastifyInstance): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT }, (_req, body, done) => {
    try {
      done(null, parseForm(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}
