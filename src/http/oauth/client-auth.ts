// What the client presented at the token endpoint (RFC 6749 §2.3), read from the request —
// checking it is the core's shared step (src/tokens/client-authentication.ts):
//   client_secret_basic  HTTP Basic with the form-urlencoded id and secret (RFC 6749 §2.3.1)
//   client_secret_post   client_id and client_secret in the body
//   private_key_jwt      client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer
//                        and client_assertion (RFC 7523 §2.2, OpenID Connect Core §9)
//   none                 client_id alone (a public client, RFC 6749 §2.1)
// A client must not use more than one method in a request (RFC 6749 §2.3). Secrets and
// assertions are wrapped in SecretValue at once, so no log or error can show them.
import { SecretValue } from '../../crypto/secret-value.js';
import { InvalidInputError } from '../../errors.js';
import type { PresentedClient } from '../../tokens/client-authentication.js';
import type { FormBody } from './form-body.js';

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

function decodeBasic(header: string): { id: string; secret: SecretValue } {
  const encoded = header.slice('basic '.length).trim();
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) {
    throw new InvalidInputError('KH_OAUTH_BAD_REQUEST', 'the Authorization header is not valid HTTP Basic credentials');
  }
  try {
    // RFC 6749 §2.3.1: each part is application/x-www-form-urlencoded before base64.
    const part = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    return { id: part(decoded.slice(0, colon)), secret: new SecretValue(part(decoded.slice(colon + 1))) };
  } catch {
    throw new InvalidInputError('KH_OAUTH_BAD_REQUEST', 'the Authorization header is not valid HTTP Basic credentials');
  }
}

export function presentedClient(form: FormBody, authorization: string | undefined): PresentedClient {
  const bodyId = form.get('client_id');
  const bodySecret = form.get('client_secret');
  const assertionType = form.get('client_assertion_type');
  const assertion = form.get('client_assertion');
  const basic = authorization !== undefined && authorization.toLowerCase().startsWith('basic ');
  const methods = [basic, bodySecret !== undefined, assertionType !== undefined || assertion !== undefined].filter(Boolean).length;
  if (methods > 1) {
    throw new InvalidInputError('KH_OAUTH_CLIENT_AUTH_CONFLICT', 'the client authenticated with more than one method (HTTP Basic, client_secret, client_assertion)');
  }
  if (basic) {
    const { id, secret } = decodeBasic(authorization);
    if (bodyId !== undefined && bodyId !== id) {
      throw new InvalidInputError('KH_OAUTH_CLIENT_AUTH_CONFLICT', 'client_id in the body differs from the one in the Authorization header');
    }
    return { method: 'client_secret_basic', clientId: id, secret };
  }
  if (assertionType !== undefined || assertion !== undefined) {
    if (assertionType !== JWT_BEARER_ASSERTION) {
      throw new InvalidInputError('KH_CLIENT_ASSERTION_TYPE_INVALID', `client_assertion_type must be ${JWT_BEARER_ASSERTION}`);
    }
    if (!assertion) throw new InvalidInputError('KH_OAUTH_MISSING_PARAMETER', "the request body must contain the parameter 'client_assertion'");
    return bodyId === undefined || bodyId === ''
      ? { method: 'private_key_jwt', assertion: new SecretValue(assertion) }
      : { method: 'private_key_jwt', clientId: bodyId, assertion: new SecretValue(assertion) };
  }
  if (bodyId === undefined || bodyId === '') {
    throw new InvalidInputError('KH_OAUTH_MISSING_PARAMETER', "the request body must contain the parameter 'client_id'");
  }
  return bodySecret === undefined
    ? { method: 'none', clientId: bodyId }
    : { method: 'client_secret_post', clientId: bodyId, secret: new SecretValue(bodySecret) };
}
