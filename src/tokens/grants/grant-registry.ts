// The token endpoint's grants, one entry per `grant_type` (RFC 6749 §4; node-oidc-provider's
// lib/actions/grants/ is the model). The route looks the request's grant_type up here; an
// unknown one is `unsupported_grant_type` (RFC 6749 §5.2, Entra AADSTS70003), and OpenID
// discovery's `grant_types_supported` is this table's keys, so it never advertises a grant
// that has no module.
//
// To add a grant:
//   1. write `src/tokens/grants/<name>-grant.ts` exporting a GrantFactory (see grant.ts): a
//      `handle(request)` that runs its named steps — parse the params → authenticate the client
//      (`deps.clients.authenticate(request.client, request, policy)`, the one shared step; the
//      policy says whether public clients are allowed) → check the grant → resolve the audience
//      (resolve-audience.ts) → issue (`deps.issuer`) → audit (issuance-audit.ts, one record);
//   2. if it needs a new dependency, add it as an optional member of GrantDeps and pass it in
//      src/server/services.ts;
//   3. add the factory to GRANT_FACTORIES below, and its error codes to docs/errors.md and
//      the code table in src/http/oauth/oauth-error.ts;
//   4. add its hostile requests to the table in test/blackbox/token-hostile.test.ts.
import type { Grant, GrantDeps, GrantFactory } from './grant.js';
import { clientCredentialsGrant } from './client-credentials-grant.js';
import { passwordGrant } from './password-grant.js';
import { authorizationCodeGrant } from './authorization-code-grant.js';
import { refreshTokenGrant } from './refresh-token-grant.js';
import { deviceCodeGrant, deviceCodeGrantMsal } from './device-code-grant.js';

export const GRANT_FACTORIES: readonly GrantFactory[] = [
  clientCredentialsGrant,
  passwordGrant,
  authorizationCodeGrant,
  refreshTokenGrant,
  deviceCodeGrant,
  deviceCodeGrantMsal,
];

export class GrantTable {
  readonly #grants = new Map<string, Grant>();

  constructor(deps: GrantDeps, factories: readonly GrantFactory[] = GRANT_FACTORIES) {
    for (const factory of factories) {
      const grant = factory(deps);
      if (this.#grants.has(grant.type)) throw new Error(`two grant modules answer grant_type ${grant.type}`);
      this.#grants.set(grant.type, grant);
    }
  }

  get(grantType: string): Grant | undefined {
    return this.#grants.get(grantType);
  }

  /** For discovery's `grant_types_supported`. */
  types(): string[] {
    return [...this.#grants.keys()];
  }
}
