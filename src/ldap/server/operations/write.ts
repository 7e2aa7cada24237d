// Add, modify, delete and modifyDN: the directory is written through the HTTPS API, where
// every write is authorized and audited; over LDAP they are refused (RFC 4511 §4.1.9, 53).
import { LDAP_RESULT } from '../../ldap-directory.js';
import type { OperationContext } from '../operation-context.js';
import type { LdapRequest } from '../request-decoder.js';
import { encodeResult } from '../response-encoder.js';

type WriteRequest = Extract<LdapRequest, { type: 'write' }>;

export async function refuseWrite(ctx: OperationContext, request: WriteRequest): Promise<void> {
  await ctx.reply(
    encodeResult(request.responseTag, {
      resultCode: LDAP_RESULT.unwillingToPerform,
      diagnosticMessage: 'the directory is read-only over LDAP; change it through the Keyhaven API or CLI',
    }),
  );
}
