// Client authentication at the token endpoint (RFC 6749 §2.3.1): client_secret_basic (HTTP
// Basic with the form-urlencoded id and secret) or client_secret_post (both in the body).
// A client must not use more than one method in a request.
import { InvalidInputError } from '../../errors.js';
import type { FormBody } from './form-body.js';

export interface ClientCredentials {
  clientId: string;
  clientSecret?: string;
  method: 'client_secret_basic' | 'client_secret_post' | 'none';
}

function decodeBasic(header: string): { id: string; secret: string } {
  const encoded = header.slice('basic '.length).trim();
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) {
    throw new InvalidInputError('KH_OAUTH_BAD_REQUEST', 'the Authorization header is not valid HTTP Basic credentials');
  }
  try {
    // RFC 6749 §2.3.1: each part is application/x-www-form-urlencoded before base64.
    const part = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    return { id: part(decoded.slice(0, colon)), secret: part(decoded.slice(colon + 1)) };
  } catch {
    throw new InvalidInputError('KH_OAUTH_BAD_REQUEST', 'the Authorization header is not valid HTTP Basic credentials');
  }
}

export function clientCredentials(form: FormBody, authorization: string | undefined): ClientCredentials {
  const bodyId = form.get('client_id');
  const bodySecret = form.get('client_secret');
  if (authorization !== undefined && authorization.toLowerCase().startsWith('basic ')) {
    if (bodySecret !== undefined) {
      throw new InvalidInputError('KH_OAUTH_CLIENT_AUTH_CONFLICT', 'the client authenticated with more than one method (HTTP Basic and client_secret)');
    }
    const { id, secret } = decodeBasic(authorization);
    if (bodyId !== undefined && bodyId !== id) {
      throw new InvalidInputError('KH_OAUTH_CLIENT_AUTH_CONFLICT', 'client_id in the body differs from the one in the Authorization header');
    }
    return { clientId: id, clientSecret: secret, method: 'client_secret_basic' };
  }
  if (bodyId === undefined || bodyId === '') {
    throw new InvalidInputError('KH_OAUTH_MISSING_PARAMETER', "the request body must contain the parameter 'client_id'");
  }
  return bodySecret === undefined
    ? { clientId: bodyId, method: 'none' }
    : { clientId: bodyId, clientSecret: bodySecret, method: 'client_secret_post' };
}
