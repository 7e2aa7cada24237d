// Token revocation (RFC 7009): a client ends a refresh token it holds — and with it the token's
// whole family, since every member speaks for the same sign-in (`keyhaven logout` calls it, so
// a copy of the cache taken before the logout is worth nothing). Access tokens are signed JWTs
// and cannot be revoked one by one: a hint saying access_token is `unsupported_token_type`
// (§2.2.1). A token the server does not know is answered 200 as if revoked (§2.2): the caller
// learns nothing. One audit record per revocation that ended a family.
import type { AuditLog } from '../../audit/audit-log.js';
import { InvalidInputError } from '../../errors.js';
import type { ClientAuthContext, ClientAuthenticator, PresentedClient } from '../client-authentication.js';
import type { RefreshTokens } from './refresh-tokens.js';

export class TokenRevocation {
  constructor(private readonly o: { clients: ClientAuthenticator; refreshTokens: RefreshTokens; audit: AuditLog }) {}

  async revoke(params: ReadonlyMap<string, string>, presented: PresentedClient, ctx: ClientAuthContext): Promise<void> {
    const token = params.get('token');
    if (!token) throw new InvalidInputError('KH_OAUTH_MISSING_PARAMETER', "the request body must contain the parameter 'token'");
    const hint = params.get('token_type_hint');
    if (hint === 'access_token') throw new InvalidInputError('KH_TOKEN_TYPE_UNSUPPORTED', 'Access tokens cannot be revoked; they expire within 90 minutes. Revoke the refresh token.');
    const client = await this.o.clients.authenticate(presented, ctx, 'registered');
    const family = await this.o.refreshTokens.revokeToken(token, client.appId);
    if (family === undefined) return;
    await this.o.audit.record({
      actor: family.userId, action: 'token.revoke', target: client.appId, source: ctx.source, correlationId: ctx.correlationId,
      details: { appId: client.appId, family: family.familyId },
    });
  }
}
