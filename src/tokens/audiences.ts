// Which resource a token is for (DESIGN.md, "Audiences"). A v1 token request names it with
// `resource=` and a v2 request with `scope={audience}/.default`; the API faces verify tokens
// against the audiences they answer to.
//
//   management    {publicUrl}/            aliases https://management.azure.com/, https://management.core.windows.net/
//   vault         https://{vaultDnsSuffix}:{httpsPort}               alias https://vault.azure.net
//                 (a vault host {vault}.{vaultDnsSuffix} ends with `.` + the audience's host, which
//                 the Azure SDKs' challenge policies require, as x.vault.azure.net and vault.azure.net)
//   directory     {publicUrl}/graph/      alias https://graph.microsoft.com
//   application   api://{appId}
//
// The token's `aud` is the identifier the client asked for, spelled as Keyhaven registers it
// (scheme and host lower-case) with or without the trailing slash exactly as requested: Entra
// puts the requested resource URI in `aud` (a v1 token for `https://management.core.windows.net/`
// carries that value; one for `https://management.azure.com` carries that). So each API face
// accepts every alias, in both slash forms: `acceptedAudiences(kind)`.
import { InvalidInputError } from '../errors.js';
import { normalizePublicUrl } from './token-claims.js';

export type AudienceKind = 'management' | 'vault' | 'directory' | 'application';

export interface ResolvedAudience {
  kind: AudienceKind;
  /** The value for the token's `aud` claim. */
  audience: string;
  /** For `application`: the application's appId (lower-case GUID). */
  appId?: string;
}

export interface ResolvedScope extends ResolvedAudience {
  /** OpenID Connect scopes requested beside the resource (`openid`, `profile`, `email`, `offline_access`). */
  oidcScopes: string[];
}

export interface AudiencesOptions {
  publicUrl: string;
  vaultDnsSuffix: string;
  httpsPort: number;
  /** Whether an application with this appId exists (and may be a token audience). */
  applicationExists: (appId: string) => boolean | Promise<boolean>;
}

/** Faces map these to OAuth `invalid_resource` (v1) / `invalid_scope` (v2). */
export const AUDIENCE_ERRORS = {
  unknownResource: 'KH_UNKNOWN_RESOURCE',
  unknownScope: 'KH_UNKNOWN_SCOPE',
  invalidScope: 'KH_INVALID_SCOPE',
} as const;

const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);
const DEFAULT_SUFFIX = '/.default';
const APP_ID_URI = /^api:\/\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(\/?)$/i;
const MAX_IDENTIFIER = 2048;

export class Audiences {
  readonly #applicationExists: AudiencesOptions['applicationExists'];
  readonly #aliases = new Map<AudienceKind, string[]>();
  /** lower-cased identifier (either slash form) → kind and spelling for `aud`. */
  readonly #lookup = new Map<string, { kind: AudienceKind; audience: string }>();

  constructor(options: AudiencesOptions) {
    this.#applicationExists = options.applicationExists;
    const base = normalizePublicUrl(options.publicUrl);
    if (!Number.isInteger(options.httpsPort) || options.httpsPort < 1 || options.httpsPort > 65535) {
      throw new RangeError('httpsPort must be a TCP port'); // validated at boot: a bug if reached
    }
    // The URL parser lower-cases the host and drops a default port (443), as clients do.
    const vault = new URL(`https://${options.vaultDnsSuffix}:${options.httpsPort}`).href.replace(/\/$/, '');
    this.#register('management', [`${base}/`, 'https://management.azure.com/', 'https://management.core.windows.net/']);
    this.#register('vault', [vault, 'https://vault.azure.net']);
    this.#register('directory', [`${base}/graph/`, 'https://graph.microsoft.com']);
  }

  /** The first-party audiences: the canonical identifier first, then the aliases. */
  aliases(kind: Exclude<AudienceKind, 'application'>): readonly string[] {
    return this.#aliases.get(kind)!;
  }

  /** Every `aud` value a token for this API may carry (each alias with and without trailing slash). */
  acceptedAudiences(kind: Exclude<AudienceKind, 'application'>): string[];
  acceptedAudiences(kind: 'application', appId: string): string[];
  acceptedAudiences(kind: AudienceKind, appId?: string): string[] {
    const ids = kind === 'application' ? [`api://${(appId ?? '').toLowerCase()}`] : this.#aliases.get(kind)!;
    return ids.flatMap(bothSlashForms);
  }

  /** v1 `resource=`: the identifier, with or without trailing slash, host case-insensitive. */
  async resolveResource(resource: string): Promise<ResolvedAudience> {
    const resolved = await this.#resolve(resource);
    if (!resolved) throw new InvalidInputError(AUDIENCE_ERRORS.unknownResource, `resource ${quote(resource)} is not known to this tenant`);
    return resolved;
  }

  /**
   * v2 `scope=`: exactly one `{audience}/.default`, optionally beside OpenID Connect scopes.
   * The audience may end in `/`, which doubles the slash (`https://management.azure.com//.default`),
   * as the Azure CLI sends it. Keyhaven defines no named delegated scopes, so only `.default`.
   */
  async resolveScope(scope: string): Promise<ResolvedScope> {
    const parts = scope.split(' ').filter((s) => s !== '');
    const oidcScopes = parts.filter((s) => OIDC_SCOPES.has(s));
    const resources = parts.filter((s) => !OIDC_SCOPES.has(s));
    if (resources.length !== 1) {
      throw new InvalidInputError(AUDIENCE_ERRORS.invalidScope, 'scope must name exactly one resource as {resource}/.default');
    }
    const requested = resources[0]!;
    if (!requested.toLowerCase().endsWith(DEFAULT_SUFFIX) || requested.length === DEFAULT_SUFFIX.length) {
      throw new InvalidInputError(AUDIENCE_ERRORS.invalidScope, `scope ${quote(requested)} is not of the form {resource}/.default`);
    }
    const resolved = await this.#resolve(requested.slice(0, -DEFAULT_SUFFIX.length));
    if (!resolved) throw new InvalidInputError(AUDIENCE_ERRORS.unknownScope, `scope ${quote(requested)} names a resource not known to this tenant`);
    return { ...resolved, oidcScopes };
  }

  async #resolve(identifier: string): Promise<ResolvedAudience | undefined> {
    if (identifier.length === 0 || identifier.length > MAX_IDENTIFIER || /[\s\u0000-\u001f]/.test(identifier)) return undefined;
    const known = this.#lookup.get(identifier.toLowerCase());
    if (known) return { ...known };
    const app = APP_ID_URI.exec(identifier);
    if (!app) return undefined;
    const appId = app[1]!.toLowerCase();
    if (!(await this.#applicationExists(appId))) return undefined;
    return { kind: 'application', audience: `api://${appId}${app[2]}`, appId };
  }

  #register(kind: AudienceKind, identifiers: string[]): void {
    this.#aliases.set(kind, identifiers);
    for (const id of identifiers) {
      for (const form of bothSlashForms(id)) this.#lookup.set(form.toLowerCase(), { kind, audience: form });
    }
  }
}

function bothSlashForms(identifier: string): string[] {
  const bare = identifier.replace(/\/+$/, '');
  return [bare, `${bare}/`];
}

/** Echoes a caller's identifier in an error (Entra names it too), bounded and printable. */
function quote(value: string): string {
  const printable = value.replace(/[^\x20-\x7e]/g, '?');
  return `'${printable.length > 200 ? `${printable.slice(0, 200)}…` : printable}'`;
}
