// The CLI's client of Keyhaven's HTTPS APIs, used by every verb after login: the base URL and
// the CA come from the login state, each request carries a bearer token for the API's audience
// (cached; fetched on demand with a service principal's stored secret), JSON goes in and out,
// error answers become KeyhavenError subclasses by status (api-errors.ts), Graph lists are
// followed through @odata.nextLink, and every request has a deadline.
import { randomUUID } from 'node:crypto';
import type { CliContext } from './context.js';
import { errorFromResponse } from './api-errors.js';
import { readClientCertificate } from './client-certificate.js';
import { identityToken } from './identity-login.js';
import { DEFAULT_TIMEOUT_MS, httpsRequest, type HttpsRequest } from './https-request.js';
import {
  directoryResource,
  managementResource,
  readSecrets,
  refreshUserToken,
  requestToken,
  requireProfile,
  storeToken,
  VAULT_RESOURCE,
  type CachedToken,
  type Profile,
} from './login-state.js';

/** MSAL refreshes five minutes before expiry; a token that close to its end is not handed out. */
const REFRESH_MARGIN_S = 300;
/** A password login's token cannot be renewed without the password, so it is used until nearly its end. */
const USER_MARGIN_S = 30;

/** The Azure names of Keyhaven's APIs (DESIGN.md "Audiences"); az users pass these by habit. */
const MANAGEMENT_ALIASES = new Set(['https://management.azure.com', 'https://management.core.windows.net']);
const DIRECTORY_ALIASES = new Set(['https://graph.microsoft.com']);

/** A user whose token is gone must sign in again (no refresh token, or it was refused). */
export class LoginExpiredError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LoginExpiredError';
  }
}

type Method = HttpsRequest['method'];

export interface RequestOptions {
  /** The audience whose token authorizes the request. */
  resource: string;
  body?: unknown;
}

export interface ListResult<T> {
  items: T[];
  /** More items exist beyond `limit`. */
  more: boolean;
}

export class ApiClient {
  readonly profile: Profile;
  readonly #ctx: CliContext;
  readonly #timeoutMs: number;

  constructor(ctx: CliContext, profile: Profile, timeoutMs = DEFAULT_TIMEOUT_MS) {
    this.#ctx = ctx;
    this.profile = profile;
    this.#timeoutMs = timeoutMs;
  }

  static async open(ctx: CliContext): Promise<ApiClient> {
    return new ApiClient(ctx, await requireProfile(ctx));
  }

  get tenantId(): string {
    return this.profile.tenantId;
  }

  get managementResource(): string {
    return managementResource(this.profile.publicUrl);
  }

  get directoryResource(): string {
    return directoryResource(this.profile.publicUrl);
  }

  /** The Graph-shaped directory API's base, as clients name objects in `@odata.id`. */
  get graphBase(): string {
    return `${this.profile.server}/graph/v1.0`;
  }

  /** A valid token for `resource`: from the cache, or (service principals) fetched now. */
  async accessToken(resource: string): Promise<CachedToken> {
    const now = Date.now() / 1000;
    const secrets = await readSecrets(this.#ctx, this.profile);
    const { tokens } = secrets;
    const { user, certificateFile, identity } = this.profile;
    if (identity !== undefined) {
      // A managed identity: the agent holds (and caches) its tokens.
      const hit = tokens.find((t) => t.resource === resource);
      if (hit && hit.expiresOn - REFRESH_MARGIN_S > now) return hit;
      const token = await identityToken(this.#ctx, identity, resource);
      await storeToken(this.#ctx, this.profile, token);
      return token;
    }
    if (user.type === 'servicePrincipal' && (secrets.clientSecret !== undefined || certificateFile !== undefined)) {
      const hit = tokens.find((t) => t.resource === resource);
      if (hit && hit.expiresOn - REFRESH_MARGIN_S > now) return hit;
      // A certificate login signs a new assertion with the PEM it was given (as az keeps the path).
      const grant = certificateFile !== undefined
        ? { grant_type: 'client_credentials' as const, client_id: user.name, certificate: await readClientCertificate(certificateFile) }
        : { grant_type: 'client_credentials' as const, client_id: user.name, client_secret: secrets.clientSecret! };
      const token = await requestToken(this.#ctx, this.#endpoint(), resource, grant);
      await storeToken(this.#ctx, this.profile, token);
      return token;
    }
    // A user. An Azure alias of an API is served the token for that API (the server accepts
    // either audience for it).
    const wanted = [resource, this.#canonical(resource)].filter((r): r is string => r !== undefined);
    const hit = tokens.find((t) => wanted.includes(t.resource));
    // A browser or device-code sign-in left a refresh token: any audience, renewed as MSAL does.
    if (secrets.refreshToken !== undefined) {
      if (hit && hit.expiresOn - REFRESH_MARGIN_S > now) return hit;
      return refreshUserToken(this.#ctx, this.#endpoint(), this.profile, resource, secrets.refreshToken);
    }
    // A password login: only the tokens fetched at login exist.
    if (hit && hit.expiresOn - USER_MARGIN_S > now) return hit;
    if (hit || this.#canonical(resource) !== undefined) {
      const when = hit ? ` at ${new Date(hit.expiresOn * 1000).toISOString()}` : '';
      throw new LoginExpiredError(`The sign-in of ${user.name} expired${when}; run 'keyhaven login' again.`);
    }
    throw new LoginExpiredError(
      `No token for '${resource}': a user's tokens are fetched at login for the management, directory and Key Vault (https://vault.azure.net) APIs only.`,
    );
  }

  /** One JSON request to `path` under the server; undefined for an empty answer (204). */
  async request<T>(method: Method, path: string, options: RequestOptions): Promise<T | undefined> {
    return this.#send<T>(method, `${this.profile.server}${path}`, options);
  }

  /** A request to the directory API (`/graph/v1.0` + path). */
  async graph<T>(method: Method, path: string, body?: unknown): Promise<T | undefined> {
    return this.request<T>(method, `/graph/v1.0${path}`, { resource: this.directoryResource, body });
  }

  /** A Graph collection, every page followed (az does the same), up to `limit` items. */
  async graphList<T>(path: string, limit = Infinity): Promise<ListResult<T>> {
    const items: T[] = [];
    let url: string | undefined = `${this.graphBase}${path}`;
    while (url !== undefined) {
      const page: { value?: T[]; '@odata.nextLink'?: string } | undefined = await this.#send(
        'GET',
        url,
        { resource: this.directoryResource },
      );
      if (!page || !Array.isArray(page.value)) throw new Error(`${path.split('?')[0]} did not answer a collection`);
      items.push(...page.value);
      if (items.length > limit) return { items: items.slice(0, limit), more: true };
      const next: string | undefined = page['@odata.nextLink'];
      url = next === undefined ? undefined : this.#followable(next);
    }
    return { items, more: false };
  }

  #endpoint() {
    return { server: this.profile.server, tenantId: this.profile.tenantId, publicUrl: this.profile.publicUrl, caFile: this.profile.caFile, timeoutMs: this.#timeoutMs };
  }

  #canonical(resource: string): string | undefined {
    const r = resource.replace(/\/+$/, '').toLowerCase();
    const base = this.profile.publicUrl.toLowerCase();
    if (r === base || MANAGEMENT_ALIASES.has(r)) return this.managementResource;
    if (r === `${base}/graph` || DIRECTORY_ALIASES.has(r)) return this.directoryResource;
    if (r === VAULT_RESOURCE) return VAULT_RESOURCE;
    return undefined;
  }

  /**
   * The server writes nextLinks with its public URL, which may name the host differently from
   * the URL this CLI was given; a link outside the server is never followed, so the bearer
   * token goes nowhere else.
   */
  #followable(next: string): string {
    const { server, publicUrl } = this.profile;
    const url = new URL(next, `${server}/`).href;
    if (url.startsWith(`${server}/`)) return url;
    if (url.startsWith(`${publicUrl}/`)) return `${server}${url.slice(publicUrl.length)}`;
    throw new Error(`refusing to follow @odata.nextLink outside ${server}: ${new URL(url).origin}`);
  }

  async #send<T>(method: Method, url: string, options: RequestOptions): Promise<T | undefined> {
    const token = await this.accessToken(options.resource);
    const requestId = randomUUID();
    const headers: Record<string, string> = {
      authorization: `Bearer ${token.accessToken}`,
      'x-ms-client-request-id': requestId,
      'user-agent': 'keyhaven-cli',
    };
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    this.#ctx.debug(`${method} ${url} (x-ms-client-request-id: ${requestId})`);
    const res = await httpsRequest({ method, url, headers, body, timeoutMs: this.#timeoutMs, caFile: this.profile.caFile });
    this.#ctx.debug(`Response status: ${res.status}`);
    if (res.status < 200 || res.status >= 300) throw errorFromResponse(res, new URL(url).origin);
    if (res.text.trim() === '') return undefined;
    try {
      return JSON.parse(res.text) as T;
    } catch {
      throw new Error(`${method} ${new URL(url).pathname} answered HTTP ${res.status} with a body that is not JSON`);
    }
  }
}
