// Simple bind (RFC 4511 §4.2, RFC 4513 §5.1). A bind first returns the connection to anonymous,
// so a failed bind leaves it unauthenticated (RFC 4513 §4). The password is never logged: the
// directory core checks it through the lockout and audits the attempt.
import { LDAP_RESULT, LdapResultError } from '../../ldap-directory.js';
import { decodeUtf8 } from '../ber.js';
import { credentialsNeedTls, type OperationContext } from '../operation-context.js';
import type { LdapRequest } from '../request-decoder.js';
import { OP } from '../request-decoder.js';
import { encodeResult } from '../response-encoder.js';

type BindRequest = Extract<LdapRequest, { type: 'bind' }>;

const SUCCESS = { resultCode: LDAP_RESULT.success };

export async function bind(ctx: OperationContext, request: BindRequest): Promise<void> {
  ctx.connection.viewer = { kind: 'anonymous' };
  if (request.version !== 3) throw new LdapResultError(LDAP_RESULT.protocolError, 'only LDAPv3 is supported');
  if (request.saslMechanism !== undefined) {
    throw new LdapResultError(LDAP_RESULT.authMethodNotSupported, 'SASL mechanisms are not supported; use a simple bind over TLS');
  }
  const password = request.simple ?? Buffer.alloc(0);
  if (request.name === '' && password.length === 0) {
    // Anonymous bind (RFC 4513 §5.1.1).
    if (!ctx.limits.anonymousBind) throw new LdapResultError(LDAP_RESULT.inappropriateAuthentication, 'anonymous bind is disabled');
    await ctx.replyResult(encodeResult(OP.bindResponse, SUCCESS), SUCCESS);
    return;
  }
  if (password.length === 0) {
    // Unauthenticated bind (RFC 4513 §5.1.2): a name with no password must never authenticate,
    // or an application that forwards an empty password would let anyone in.
    throw new LdapResultError(LDAP_RESULT.unwillingToPerform, 'unauthenticated bind (name with an empty password) is not allowed');
  }
  if (credentialsNeedTls(ctx)) {
    throw new LdapResultError(LDAP_RESULT.confidentialityRequired, 'a simple bind needs TLS: use LDAPS or StartTLS');
  }
  if (request.name === '') throw new LdapResultError(LDAP_RESULT.invalidCredentials, 'invalid credentials');
  let text: string;
  try {
    text = decodeUtf8(password);
  } catch {
    throw new LdapResultError(LDAP_RESULT.invalidCredentials, 'invalid credentials');
  }
  const result = await ctx.directory.bind(request.name, text, ctx.connection.source);
  ctx.connection.viewer = result.viewer;
  await ctx.replyResult(encodeResult(OP.bindResponse, SUCCESS), SUCCESS);
}
