// Add, modify, delete and modifyDN. By default the directory is written through the HTTPS API
// and LDAP writes are refused (RFC 4511 §4.1.9, 53). With `ldapAdminWrites` on, add, modify
// and delete from a bound caller over TLS or loopback go to the view, which writes through the
// directory core as that caller (role-checked and audited there); modifyDN stays refused.
import { LDAP_RESULT, LdapResultError } from '../../ldap-directory.js';
import type { OperationContext } from '../operation-context.js';
import type { LdapRequest } from '../request-decoder.js';
import { encodeResult } from '../response-encoder.js';

type WriteRequest = Extract<LdapRequest, { type: 'write' }>;

export async function write(ctx: OperationContext, request: WriteRequest): Promise<void> {
  const w = request.write;
  const directory = ctx.directory;
  const enabled = ctx.limits.adminWrites === true && w.op !== 'modDn'
    && (w.op === 'add' ? directory.add : w.op === 'modify' ? directory.modify : directory.delete) !== undefined;
  if (!enabled) {
    const refused = {
      resultCode: LDAP_RESULT.unwillingToPerform,
      diagnosticMessage: w.op === 'modDn' && ctx.limits.adminWrites === true
        ? 'renaming entries is not supported over LDAP; change the name through the Keyhaven API or CLI'
        : 'the directory is read-only over LDAP; change it through the Keyhaven API or CLI',
    };
    await ctx.replyResult(encodeResult(request.responseTag, refused), refused);
    return;
  }
  const viewer = ctx.connection.viewer;
  if (viewer.kind === 'anonymous') throw new LdapResultError(LDAP_RESULT.insufficientAccessRights, 'bind as an administrator to write');
  if (!ctx.connection.secure && !ctx.connection.loopback) {
    throw new LdapResultError(LDAP_RESULT.confidentialityRequired, 'writes need TLS: use LDAPS or StartTLS');
  }
  const writer = { viewer, source: ctx.connection.source };
  if (w.op === 'add') await directory.add!(w.dn, w.attributes, writer);
  else if (w.op === 'modify') await directory.modify!(w.dn, w.changes, writer);
  else if (w.op === 'delete') await directory.delete!(w.dn, writer);
  const success = { resultCode: LDAP_RESULT.success };
  await ctx.replyResult(encodeResult(request.responseTag, success), success);
}
