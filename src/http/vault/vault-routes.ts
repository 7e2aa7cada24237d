// The Key Vault data plane (Azure Key Vault REST API, secrets), as one Fastify plugin under
// /vaults/{vault}. The host form `https://{vault}.{vaultDnsSuffix}:{port}/…` — the vaultUri,
// which the Azure SDKs need for their challenge check — reaches it too: the server rewrites
// such a request's URL to the path form before routing (vaultHostRewrite).
// Every request: authenticate (401 with the bearer challenge before the body is read; the
// SDKs first send the request without its body to get it) → split and check the path →
// api-version → find the vault → the secret service authorizes, acts and audits → answer in
// Key Vault's shapes and errors.
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { SecretValue } from '../../crypto/secret-value.js';
import { InvalidInputError, NotFoundError, UnauthenticatedError } from '../../errors.js';
import type { OpenVault, SecretAttributesInput, SecretService } from '../../vault/secret-service.js';
import type { VaultCaller } from '../../vault/vault-access.js';
import { echo, isSecretName, isSecretVersion, isVaultName } from '../../vault/vault-names.js';
import type { Authenticate } from '../bearer-auth.js';
import { vaultErrorHandler } from './vault-errors.js';
import { deletedSecretBundle, deletedSecretItem, secretBundle, secretItem } from './vault-shapes.js';

export interface VaultRoutesOptions {
  secrets: SecretService;
  authenticate: Authenticate;
  audiences: readonly string[];
  /** The canonical vault audience (`https://{vaultDnsSuffix}:{port}`), named in the challenge. */
  vaultAudience: string;
  /** `{publicUrl}` without a trailing slash, and the tenant: the challenge's authority. */
  publicUrl: string;
  tenantId: string;
  vaultDnsSuffix: string;
}

/** Secret api-versions: 2016-10-01 and 7.0–7.6 (and the 2025-07-01 that @azure/keyvault-secrets 4.11 sends by default). */
export const VAULT_API_VERSIONS = ['2016-10-01', '7.0', '7.1', '7.2', '7.3', '7.4', '7.5', '7.6', '2025-07-01'];
const MAX_RESULTS = 25;
const TAGS_MAX = 15;

/**
 * Fastify's rewriteUrl: a request whose Host is `{vault}.{vaultDnsSuffix}[:port]` goes to
 * /vaults/{vault}{path}. Anything else is left alone.
 */
export function vaultHostRewrite(vaultDnsSuffix: string): (req: { url?: string; headers: Record<string, string | string[] | undefined> }) => string {
  const suffix = `.${vaultDnsSuffix.toLowerCase()}`;
  return (req) => {
    const url = req.url ?? '/';
    const host = req.headers['host'];
    if (typeof host !== 'string') return url;
    const name = host.toLowerCase().replace(/:\d{1,5}$/, '');
    if (!name.endsWith(suffix)) return url;
    const vault = name.slice(0, -suffix.length);
    return isVaultName(vault) ? `/vaults/${vault}${url.startsWith('/') ? url : `/${url}`}` : url;
  };
}

function badParameter(message: string): InvalidInputError {
  return new InvalidInputError('KH_VAULT_BAD_PARAMETER', message);
}

function noRoute(): NotFoundError {
  return new NotFoundError('KH_VAULT_NO_SUCH_PATH', 'The requested URI does not name a Key Vault operation this service has.');
}

function methodNotAllowed(method: string): never {
  throw new InvalidInputError('KH_VAULT_METHOD_NOT_ALLOWED', `The requested resource does not support http method '${method.replace(/[^A-Z]/g, '').slice(0, 10)}'.`);
}

/** Path segments after /vaults, from the raw URL, each percent-decoded once. */
function segments(rawUrl: string): string[] {
  const path = rawUrl.split('?')[0]!;
  if (path.length > 2048) throw badParameter('The request URI is too long.');
  return path.split('/').slice(2).map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw badParameter('The request URI holds an invalid percent-encoding.');
    }
  });
}

function secretName(name: string): string {
  if (!isSecretName(name)) throw new InvalidInputError('KH_VAULT_SECRET_NAME_INVALID', `The request URI contains an invalid name: ${echo(name)}`);
  return name;
}

function versionOf(version: string): string | undefined {
  if (version === '') return undefined;
  if (!isSecretVersion(version)) throw new InvalidInputError('KH_VAULT_SECRET_NAME_INVALID', `The request URI contains an invalid version: ${echo(version)}`);
  return version.toLowerCase();
}

function checkApiVersion(query: Record<string, unknown>): string {
  const v = query['api-version'];
  if (v === undefined) throw new InvalidInputError('KH_VAULT_API_VERSION', 'The api-version query parameter is missing. Supported versions: ' + VAULT_API_VERSIONS.join(', ') + '.');
  if (typeof v !== 'string' || !VAULT_API_VERSIONS.includes(v)) {
    throw new InvalidInputError('KH_VAULT_API_VERSION', `The specified version (${echo(String(v))}) is not recognized. Consider using the latest supported version (${VAULT_API_VERSIONS.at(-1)}).`);
  }
  return v;
}

function maxResults(query: Record<string, unknown>): number {
  const m = query['maxresults'];
  if (m === undefined) return MAX_RESULTS;
  const n = typeof m === 'string' && /^\d{1,3}$/.test(m) ? Number(m) : NaN;
  if (!(n >= 1 && n <= MAX_RESULTS)) throw badParameter(`maxresults must be an integer from 1 to ${MAX_RESULTS}.`);
  return n;
}

function skipToken(query: Record<string, unknown>): string | undefined {
  const t = query['$skiptoken'];
  if (t === undefined) return undefined;
  const decoded = typeof t === 'string' && t.length <= 400 ? Buffer.from(t, 'base64url').toString('utf8') : '';
  if (!/^[0-9a-z-]{1,127}$/.test(decoded)) throw badParameter('The $skiptoken is not one this vault handed out.');
  return decoded;
}

function body(request: FastifyRequest): Record<string, unknown> {
  const b = request.body;
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw badParameter('The request body must be a JSON object.');
  return b as Record<string, unknown>;
}

function optionalString(b: Record<string, unknown>, key: string, max: number): string | undefined {
  const v = b[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length > max) throw badParameter(`Property '${key}' must be a string of at most ${max} characters.`);
  return v;
}

function tags(b: Record<string, unknown>): Record<string, string> | undefined {
  const v = b['tags'];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw badParameter("Property 'tags' must be an object of string values.");
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length > TAGS_MAX) throw badParameter(`At most ${TAGS_MAX} tags may be set on a secret.`);
  const out: Record<string, string> = {};
  for (const [k, val] of entries) {
    if (k.length === 0 || k.length > 256 || typeof val !== 'string' || val.length > 256) throw badParameter('Tag names and values must be strings of 1 to 256 characters.');
    out[k] = val;
  }
  return out;
}

function attributesOf(b: Record<string, unknown>): SecretAttributesInput | undefined {
  const v = b['attributes'];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw badParameter("Property 'attributes' must be an object.");
  const a = v as Record<string, unknown>;
  const out: SecretAttributesInput = {};
  if (a['enabled'] !== undefined && a['enabled'] !== null) {
    if (typeof a['enabled'] !== 'boolean') throw badParameter("attributes.enabled must be a boolean.");
    out.enabled = a['enabled'];
  }
  for (const k of ['nbf', 'exp'] as const) {
    const t = a[k];
    if (t === undefined) continue;
    if (t !== null && (typeof t !== 'number' || !Number.isInteger(t) || t < 0 || t > 253402300799)) throw badParameter(`attributes.${k} must be a time in Unix seconds.`);
    out[k] = t;
  }
  return out;
}

interface VaultCall {
  vault: OpenVault;
  caller: VaultCaller;
  query: Record<string, unknown>;
  /** Where this client reached the vault: its host form or the path form, for nextLink. */
  base: string;
}

function nextLink(call: VaultCall, path: string, next: string | undefined, max: number): string | null {
  if (next === undefined) return null;
  const q = new URLSearchParams({ 'api-version': String(call.query['api-version']), maxresults: String(max), $skiptoken: Buffer.from(next, 'utf8').toString('base64url') });
  return `${call.base}${path}?${q.toString()}`;
}

async function dispatch(o: VaultRoutesOptions, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
  const segs = segments(request.raw.url ?? request.url);
  const vaultName = segs[0] ?? '';
  if (!isVaultName(vaultName)) throw new NotFoundError('KH_VAULT_NOT_FOUND', `The vault '${echo(vaultName)}' was not found in this deployment.`);
  const rest = segs.slice(1);
  // One trailing slash after a collection (`/secrets/`) is the collection.
  if (rest.length === 2 && rest[1] === '') rest.pop();
  const query = (request.query ?? {}) as Record<string, unknown>;
  checkApiVersion(query);
  const principal = request.principal;
  if (!principal) throw new UnauthenticatedError('KH_VAULT_TOKEN_MISSING', 'AKV10000: Request is missing a Bearer or PoP token.');
  // Validate the secret name before looking anything up, so a bad name is refused the same way everywhere.
  const kind = (rest[0] ?? '').toLowerCase();
  if (rest.length >= 2 && !(kind === 'secrets' && rest.length === 2 && rest[1] === 'restore' && request.method === 'POST')) secretName(rest[1]!);
  const vault = await o.secrets.vault(vaultName);
  const host = request.headers.host ?? '';
  const hostForm = vaultHostRewrite(o.vaultDnsSuffix)({ url: '/', headers: { host } }) !== '/';
  const safeHost = /^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(host) ? host : new URL(o.publicUrl).host;
  const call: VaultCall = {
    vault,
    query,
    base: hostForm ? `https://${safeHost}` : `https://${safeHost}/vaults/${vault.name}`,
    caller: { objectId: principal.objectId, appId: principal.appId, issuer: String(principal.claims.iss), source: request.ip, correlationId: request.id },
  };
  const m = request.method;
  const s = o.secrets;
  if (kind === 'secrets') {
    if (rest.length === 1) {
      if (m !== 'GET') methodNotAllowed(m);
      const max = maxResults(query);
      const page = await s.list(call.caller, vault, skipToken(query), max);
      return { value: page.items.map((v) => secretItem(vault, v, false)), nextLink: nextLink(call, '/secrets', page.next, max) };
    }
    const name = rest[1]!;
    if (rest.length === 2 && name === 'restore' && m === 'POST') {
      const value = body(request)['value'];
      if (typeof value !== 'string' || value.length === 0 || value.length > 4 * 1024 * 1024) throw badParameter("Property 'value' must be the backup blob (base64url).");
      return secretBundle(vault, await s.restore(call.caller, vault, value));
    }
    if (rest.length === 2 && m === 'PUT') {
      const b = body(request);
      if (typeof b['value'] !== 'string') throw badParameter("Property 'value' is required and must be a string.");
      const value = new SecretValue(b['value']);
      return secretBundle(vault, await s.set(call.caller, vault, name, { value, contentType: optionalString(b, 'contentType', 255), tags: tags(b), attributes: attributesOf(b) }));
    }
    if (rest.length === 2 && m === 'DELETE') return deletedSecretBundle(vault, await s.delete(call.caller, vault, name));
    if (rest.length === 3 && rest[2] === 'versions') {
      if (m !== 'GET') methodNotAllowed(m);
      const max = maxResults(query);
      const page = await s.versions(call.caller, vault, name, skipToken(query), max);
      return { value: page.items.map((v) => secretItem(vault, v, true)), nextLink: nextLink(call, `/secrets/${name}/versions`, page.next, max) };
    }
    if (rest.length === 3 && rest[2] === 'backup') {
      if (m !== 'POST') methodNotAllowed(m);
      return { value: await s.backup(call.caller, vault, name) };
    }
    if (rest.length === 2 || rest.length === 3) {
      const version = rest.length === 3 ? versionOf(rest[2]!) : undefined;
      if (m === 'GET') return secretBundle(vault, await s.get(call.caller, vault, name, version));
      if (m === 'PATCH') {
        const b = body(request);
        return secretBundle(vault, await s.update(call.caller, vault, name, version, { contentType: optionalString(b, 'contentType', 255), tags: tags(b), attributes: attributesOf(b) }));
      }
      methodNotAllowed(m);
    }
    throw noRoute();
  }
  if (kind === 'deletedsecrets') {
    if (rest.length === 1) {
      if (m !== 'GET') methodNotAllowed(m);
      const max = maxResults(query);
      const page = await s.listDeleted(call.caller, vault, skipToken(query), max);
      return { value: page.items.map((d) => deletedSecretItem(vault, d)), nextLink: nextLink(call, '/deletedsecrets', page.next, max) };
    }
    const name = rest[1]!;
    if (rest.length === 2 && m === 'GET') return deletedSecretBundle(vault, await s.getDeleted(call.caller, vault, name));
    if (rest.length === 2 && m === 'DELETE') {
      await s.purge(call.caller, vault, name);
      reply.status(204);
      return '';
    }
    if (rest.length === 3 && rest[2] === 'recover' && m === 'POST') return secretBundle(vault, await s.recover(call.caller, vault, name));
    if (rest.length <= 3) methodNotAllowed(m);
  }
  throw noRoute();
}

export const vaultRoutes: FastifyPluginAsync<VaultRoutesOptions> = async (app: FastifyInstance, o) => {
  const challenge = `Bearer authorization="${o.publicUrl}/${o.tenantId}", resource="${o.vaultAudience}", scope="${o.vaultAudience}/.default"`;
  app.setErrorHandler(vaultErrorHandler(challenge));
  // JSON only; an empty body is no body (the SDKs' bodiless first request, a POST …/recover).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: 4 * 1024 * 1024 + 4096 }, (_req, text, done) => {
    if (text === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text as string));
    } catch {
      // Never the parser's message: it may quote the body, and a body may hold a secret value.
      done(new InvalidInputError('KH_HTTP_CTP_INVALID_JSON_BODY', 'The request body is not valid JSON.'), undefined);
    }
  });
  const verify = o.authenticate(o.audiences);
  app.addHook('onRequest', async function authenticate(this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
    if (request.headers.authorization === undefined || request.headers.authorization.trim() === '') {
      throw new UnauthenticatedError('KH_VAULT_TOKEN_MISSING', 'AKV10000: Request is missing a Bearer or PoP token.');
    }
    await verify.call(this, request, reply);
  });
  app.route({
    method: ['GET', 'PUT', 'PATCH', 'DELETE', 'POST'],
    url: '/*',
    handler: async (request, reply) => {
      const answer = await dispatch(o, request, reply);
      if (answer === '') return reply.send();
      return reply.header('content-type', 'application/json; charset=utf-8').send(answer);
    },
  });
};
