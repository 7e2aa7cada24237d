// The "audit" step shared by the grants: one record per issued token holding both facts — who
// signed in, with which credential, and what was issued — durable before the token leaves
// (DESIGN.md, request flow). The directory records only refusals for the token endpoint
// (deferSuccessAudit), so a success costs one record, not a sign-in record and an issuance
// record awaited in turn. Never the token, the secret or the assertion: the token's `uti`
// identifies it.
import type { AuditDetails, AuditLog } from '../../audit/audit-log.js';
import type { ResolvedAudience } from '../audiences.js';
import type { AuthenticatedClient } from '../client-authentication.js';
import type { IssuedToken } from '../token-issuer.js';
import type { GrantRequest } from './grant.js';

export interface IssuanceFacts {
  request: GrantRequest;
  client: AuthenticatedClient;
  audience: ResolvedAudience;
  issued: IssuedToken;
  /** The principal the token speaks for: the service principal (app tokens) or the user. */
  subjectId: string;
  /** Grant-specific, non-secret facts (the user's name, `amr`, a refresh family id …). */
  details?: AuditDetails;
}

export async function auditIssuance(audit: AuditLog, facts: IssuanceFacts): Promise<void> {
  const { request, client, audience, issued } = facts;
  const details: AuditDetails = {
    grant: request.grantType,
    appId: client.appId,
    clientAuth: client.method,
    uti: String(issued.claims.uti ?? ''),
    version: request.version,
    exp: issued.claims.exp,
  };
  if (client.credentialKeyId !== undefined) details.keyId = client.credentialKeyId;
  Object.assign(details, facts.details);
  await audit.record({
    actor: facts.subjectId,
    action: 'token.issue',
    target: audience.audience,
    source: request.source,
    correlationId: request.correlationId,
    details,
  });
}
