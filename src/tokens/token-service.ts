// The token service: the token endpoint's grants (grants/grant-registry.ts), each a pipeline of
// named steps from client authentication to the audit record, as Microsoft Entra ID's token
// endpoint has them. No HTTP here: the face parses the form and the client's credentials into a
// GrantRequest and renders the result or the error.
import { InvalidInputError } from '../errors.js';
import type { GrantDeps, GrantFactory, GrantRequest, GrantResult } from './grants/grant.js';
import { GrantTable } from './grants/grant-registry.js';

export class TokenService {
  readonly #grants: GrantTable;

  constructor(deps: GrantDeps, factories?: readonly GrantFactory[]) {
    this.#grants = new GrantTable(deps, factories);
  }

  /** The grant types the endpoint answers (OpenID discovery's `grant_types_supported`). */
  grantTypes(): string[] {
    return this.#grants.types();
  }

  /** Throws unsupported_grant_type (RFC 6749 §5.2) unless a grant module answers `grantType`. */
  checkGrantType(grantType: string): void {
    if (!this.#grants.get(grantType)) {
      throw new InvalidInputError('KH_OAUTH_UNSUPPORTED_GRANT', `the grant type '${grantType.slice(0, 64).replace(/[^\x20-\x7e]/g, '?')}' is not supported`);
    }
  }

  async exchange(request: GrantRequest): Promise<GrantResult> {
    this.checkGrantType(request.grantType);
    return this.#grants.get(request.grantType)!.handle(request);
  }
}
