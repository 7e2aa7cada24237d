// Extended operations (RFC 4511 §4.12): WhoAmI (RFC 4532) and Password Modify (RFC 3062).
// StartTLS (RFC 4511 §4.14) changes the connection itself and lives in start-tls.ts. An
// unknown request name is answered protocolError, as §4.12 requires.
import { LDAP_RESULT, LdapResultError } from '../../ldap-directory.js';
import { BER, BerError, BerReader, decodeUtf8, encodeString, tlv } from '../ber.js';
import { credentialsNeedTls, type OperationContext } from '../operation-context.js';
import type { LdapRequest } from '../request-decoder.js';
import { encodeExtendedResponse } from '../response-encoder.js';

type ExtendedRequest = Extract<LdapRequest, { type: 'extended' }>;

const SUCCESS = { resultCode: LDAP_RESULT.success };

export const EXTENDED = {
  startTls: '1.3.6.1.4.1.1466.20037',
  whoAmI: '1.3.6.1.4.1.4203.1.11.3',
  passwordModify: '1.3.6.1.4.1.4203.1.11.1',
} as const;

export async function extended(ctx: OperationContext, request: ExtendedRequest): Promise<void> {
  switch (request.oid) {
    case EXTENDED.whoAmI:
      return whoAmI(ctx);
    case EXTENDED.passwordModify:
      return passwordModify(ctx, request.value);
    default:
      throw new LdapResultError(LDAP_RESULT.protocolError, `unsupported extended operation ${request.oid.slice(0, 100)}`);
  }
}

/** RFC 4532 §2: the authzId `dn:<dn>`, or an empty value for an anonymous connection. */
async function whoAmI(ctx: OperationContext): Promise<void> {
  const viewer = ctx.connection.viewer;
  const authzId = viewer.kind === 'anonymous' ? '' : `dn:${viewer.dn}`;
  await ctx.replyResult(encodeExtendedResponse(SUCCESS, undefined, Buffer.from(authzId, 'utf8')), SUCCESS);
}

/**
 * RFC 3062 §2: PasswdModifyRequestValue ::= SEQUENCE { userIdentity [0], oldPasswd [1],
 * newPasswd [2] } all optional; the value itself may be absent. The response carries a
 * generated password ([0] genPasswd) when the view made one.
 */
async function passwordModify(ctx: OperationContext, value: Buffer | undefined): Promise<void> {
  if (credentialsNeedTls(ctx)) {
    throw new LdapResultError(LDAP_RESULT.confidentialityRequired, 'changing a password needs TLS: use LDAPS or StartTLS');
  }
  let userIdentity: string | undefined;
  let oldPassword: string | undefined;
  let newPassword: string | undefined;
  if (value !== undefined) {
    try {
      const r = new BerReader(value).sub(BER.sequence);
      userIdentity = optionalString(r, 0x80);
      oldPassword = optionalString(r, 0x81);
      newPassword = optionalString(r, 0x82);
      if (!r.done) throw new BerError('unexpected element');
    } catch {
      throw new LdapResultError(LDAP_RESULT.protocolError, 'malformed password modify request');
    }
  }
  if (userIdentity !== undefined) ctx.outcome.target = userIdentity;
  const generated = await ctx.directory.changePassword(ctx.connection.viewer, userIdentity, oldPassword, newPassword, ctx.connection.source);
  const responseValue = generated === undefined ? undefined : tlv(BER.sequence, encodeString(generated, 0x80));
  await ctx.replyResult(encodeExtendedResponse(SUCCESS, undefined, responseValue), SUCCESS);
}

function optionalString(r: BerReader, tag: number): string | undefined {
  const el = r.optional(tag);
  return el === undefined ? undefined : decodeUtf8(el.content);
}
