// What every management-plane handler gets: the core services it may ask, the caller, the
// request's ARM segments, and small helpers for ARM's query conventions.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Authorizer } from '../../authz/authorizer.js';
import type { CustomRoles } from '../../authz/custom-roles.js';
import type { RoleAssignments } from '../../authz/role-assignments.js';
import { InvalidInputError, UnauthenticatedError } from '../../errors.js';
import type { ArmActor, ResourceManager } from '../../resources/resource-manager.js';
import type { MachineService } from '../../machines/machine-service.js';
import type { Principal } from '../bearer-auth.js';
import type { DeletedVaults } from '../../vault/deleted-vaults.js';

export interface ArmDeps {
  resources: ResourceManager;
  authorizer: Authorizer;
  assignments: RoleAssignments;
  roles: CustomRoles;
  /** Whether the principal holds Entra's Global Administrator role now (elevate access). */
  isGlobalAdministrator(principalId: string): Promise<boolean>;
  tenantId: string;
  /** {publicUrl} without a trailing slash. */
  publicUrl: string;
  tenantDomain: string;
  /** Soft-deleted key vaults (Microsoft.KeyVault/deletedVaults). */
  deletedVaults?: DeletedVaults;
  /** Machine enrollment (join tokens, joined machines); absent: those paths are not served. */
  machines?: MachineService;
}

export interface ArmCall {
  request: FastifyRequest;
  reply: FastifyReply;
  segments: string[];
  /** Lower-cased segments, for ARM's case-insensitive keywords. */
  lower: string[];
  principal: Principal;
  actor: ArmActor;
  query: Record<string, unknown>;
}

export function armCall(request: FastifyRequest, reply: FastifyReply, segments: string[]): ArmCall {
  const principal = request.principal;
  if (!principal) throw new UnauthenticatedError('KH_ARM_TOKEN_MISSING', "Authentication failed. The 'Authorization' header is missing.");
  const claims = principal.claims as unknown as Record<string, unknown>;
  const name = String(claims['upn'] ?? claims['preferred_username'] ?? principal.appId ?? principal.objectId);
  return {
    request,
    reply,
    segments,
    lower: segments.map((s) => s.toLowerCase()),
    principal,
    actor: { id: principal.objectId, source: request.ip, correlationId: request.id, name, principalType: principal.kind === 'user' ? 'User' : 'Application' },
    query: (request.query ?? {}) as Record<string, unknown>,
  };
}

export function methodNotAllowed(method: string): never {
  throw new InvalidInputError('KH_ARM_METHOD_NOT_ALLOWED', `The requested resource does not support http method '${method.replace(/[^A-Z]/g, '').slice(0, 10)}'.`);
}

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

/** $top: 1–1000 (ARM's limit), default 100. */
export function pageSize(query: Record<string, unknown>): number {
  const top = query['$top'];
  if (top === undefined) return DEFAULT_PAGE;
  const n = typeof top === 'string' && /^\d{1,4}$/.test(top) ? Number(top) : NaN;
  if (!(n >= 1 && n <= MAX_PAGE)) throw new InvalidInputError('KH_ARM_QUERY_INVALID', `The value of $top must be an integer from 1 to ${MAX_PAGE}.`);
  return n;
}

/** $skiptoken: a key this server handed out in a nextLink, below `prefix` (lower case). */
export function skipToken(query: Record<string, unknown>, prefix: string): string | undefined {
  const token = query['$skiptoken'];
  if (token === undefined) return undefined;
  const key = typeof token === 'string' && token.length <= 4096 ? Buffer.from(token, 'base64url').toString('utf8') : '';
  if (!key.startsWith(prefix) || key.length > 2048) throw new InvalidInputError('KH_ARM_QUERY_INVALID', 'The $skiptoken is not one this listing handed out.');
  return key;
}

/** ARM's nextLink: the same request with the next page's $skiptoken. */
export function nextLink(call: ArmCall, publicUrl: string, next: string | undefined): string | undefined {
  if (next === undefined) return undefined;
  const url = new URL(call.request.raw.url ?? '/', publicUrl);
  url.searchParams.set('$skiptoken', Buffer.from(next, 'utf8').toString('base64url'));
  return `${publicUrl}${url.pathname}${url.search}`;
}

export function listBody(value: unknown[], link: string | undefined): Record<string, unknown> {
  return link ? { value, nextLink: link } : { value };
}

/** `field eq 'value'` clauses joined by `and`; only the fields named are allowed. */
export function eqFilter(text: unknown, fields: readonly string[]): Record<string, string> {
  if (text === undefined) return {};
  if (typeof text !== 'string' || text.length > 2048) throw badFilter();
  const out: Record<string, string> = {};
  for (const clause of text.split(/\s+and\s+/i)) {
    const m = /^\s*([A-Za-z]+)\s+eq\s+'((?:[^']|'')*)'\s*$/i.exec(clause);
    const field = m && fields.find((f) => f.toLowerCase() === m[1]!.toLowerCase());
    if (!m || !field || out[field] !== undefined) throw badFilter();
    out[field] = m[2]!.replace(/''/g, "'");
  }
  return out;
}

export function badFilter(): InvalidInputError {
  return new InvalidInputError('KH_ARM_FILTER_INVALID', 'The $filter is not supported here.');
}
