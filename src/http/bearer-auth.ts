// Bearer-token authentication for every API (RFC 6750): verify the access token (signature,
// issuer, audience, tenant, lifetime — token-verifier.ts), then check that the principal still
// exists and is enabled, so a disabled or deleted principal's tokens stop working on the next
// request. Roles and groups inside the token are never trusted for authorization (DESIGN.md):
// authorization reads the directory's current state.
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { UnauthenticatedError } from '../errors.js';
import type { AccessTokenClaims } from '../tokens/token-claims.js';
import { bearerToken, type TokenVerifier } from '../tokens/token-verifier.js';

export interface Principal {
  objectId: string;
  kind: 'user' | 'app';
  /** The client application (appid / azp). */
  appId: string;
  claims: AccessTokenClaims;
}

export interface PrincipalStatus {
  /** True when the user or service principal exists and is enabled. */
  isActive(objectId: string): Promise<boolean>;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** Joined machines (src/machines/machine-status.ts): a token carrying a machine needs it active. */
export interface MachineTokenStatus {
  isActive(machineId: string): Promise<boolean>;
}

export type Authenticate = (audiences: readonly string[]) => preHandlerAsyncHookHandler;

export function bearerAuthentication(verifier: TokenVerifier, status: PrincipalStatus, machines?: MachineTokenStatus): Authenticate {
  return (audiences) =>
    async function authenticate(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
      const token = bearerToken(request.headers.authorization);
      const claims = await verifier.verify(token, { audiences });
      // A token issued to a joined machine dies with the machine's revocation, at once, even
      // when it speaks for a principal the pool shares (issue 10: tokens carry the machine).
      const machine = claims.kh_machine;
      if (machine !== undefined && !(await (machines?.isActive(machine) ?? Promise.resolve(false)))) {
        throw new UnauthenticatedError('KH_MACHINE_REVOKED', 'the machine this token was issued to has been revoked');
      }
      // A machine's own token speaks for the machine, which is no directory object.
      if (!(machine !== undefined && claims.oid === machine) && !(await status.isActive(claims.oid))) {
        throw new UnauthenticatedError('KH_PRINCIPAL_INACTIVE', 'the principal of this token is disabled or no longer exists');
      }
      request.principal = {
        objectId: claims.oid,
        kind: claims.idtyp === 'user' ? 'user' : 'app',
        appId: String(claims.appid ?? claims.azp ?? ''),
        claims,
      };
    };
}
