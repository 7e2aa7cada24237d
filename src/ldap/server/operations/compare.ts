// Compare (RFC 4511 §4.10): compareTrue (6) or compareFalse (5); the view throws for a missing
// entry or attribute, or for an entry the viewer may not see.
import { LDAP_RESULT } from '../../ldap-directory.js';
import type { OperationContext } from '../operation-context.js';
import { OP, type LdapRequest } from '../request-decoder.js';
import { encodeResult } from '../response-encoder.js';

type CompareRequest = Extract<LdapRequest, { type: 'compare' }>;

export async function compare(ctx: OperationContext, request: CompareRequest): Promise<void> {
  const equal = await ctx.directory.compare(request.dn, request.attribute, request.value, ctx.connection.viewer);
  if (ctx.signal.aborted) return;
  const result = { resultCode: equal ? LDAP_RESULT.compareTrue : LDAP_RESULT.compareFalse };
  await ctx.replyResult(encodeResult(OP.compareResponse, result), result);
}
