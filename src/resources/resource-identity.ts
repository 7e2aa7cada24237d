// A resource's `identity` block, as ARM reads and answers it for every type that can hold
// managed identities (virtual machines and scale sets now; workspaces and computes later):
//
//   { "type": "SystemAssigned, UserAssigned",
//     "principalId": "…", "tenantId": "…",                       (the system-assigned identity)
//     "userAssignedIdentities": { "<identity id>": { "principalId": "…", "clientId": "…" } } }
//
// A request may send the block back as it read it (principalId, tenantId and each entry's
// principalId/clientId are read-only and ignored); an entry's value is {} to attach, null to
// detach. A PATCH's map is merged into the current one (how `az vm identity remove` detaches
// one identity: {"<id>": null}). Attaching needs assign/action on each identity (the
// Managed Identity Operator rule), which the face checks from linkedIdentityScopes before
// anything is written; an identity that does not exist is ARM's FailedIdentityOperation.
import { randomUUID } from 'node:crypto';
import { InvalidInputError } from '../errors.js';
import type { Tx } from '../storage/storage.js';
import { parseIdString, printable, targetId } from './resource-id.js';
import type { LinkedPermission, StoredResource } from './resource-types.js';

export const USER_ASSIGNED_IDENTITY_TYPE = 'Microsoft.ManagedIdentity/userAssignedIdentities';
export const ASSIGN_IDENTITY_ACTION = 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action';
/** ARM's limit on user-assigned identities per resource. */
export const MAX_USER_ASSIGNED = 100;

export interface IdentityRequest {
  system: boolean;
  /** Identities to attach: lower-cased id → id as given. */
  attach: Map<string, string>;
}

const TYPES: Record<string, 'SystemAssigned' | 'UserAssigned' | 'None'> = { systemassigned: 'SystemAssigned', userassigned: 'UserAssigned', none: 'None' };

function invalid(message: string): InvalidInputError {
  return new InvalidInputError('KH_ARM_IDENTITY_INVALID', message);
}

/** The type, canonical: None | SystemAssigned | UserAssigned | "SystemAssigned, UserAssigned". */
function parseType(value: unknown): Set<'SystemAssigned' | 'UserAssigned' | 'None'> {
  const bad = () => new InvalidInputError('KH_ARM_IDENTITY_TYPE_INVALID', `The identity type '${typeof value === 'string' ? printable(value) : String(typeof value)}' is invalid: it must be one of 'None', 'SystemAssigned', 'UserAssigned', 'SystemAssigned, UserAssigned'.`);
  if (typeof value !== 'string' || value.length > 64) throw bad();
  const out = new Set<'SystemAssigned' | 'UserAssigned' | 'None'>();
  for (const part of value.split(',')) {
    const t = TYPES[part.trim().toLowerCase()];
    if (!t || out.has(t)) throw bad();
    out.add(t);
  }
  if (out.has('None') && out.size > 1) throw bad();
  return out;
}

/** Checks a request's identity block; undefined, null and type None ask for no identity. */
export function parseIdentityRequest(value: unknown): IdentityRequest {
  const none: IdentityRequest = { system: false, attach: new Map() };
  if (value === undefined || value === null) return none;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid('identity must be an object with a type.');
  const block = value as Record<string, unknown>;
  for (const key of Object.keys(block)) {
    if (!['type', 'principalId', 'tenantId', 'userAssignedIdentities'].includes(key)) throw invalid(`identity.${printable(key)} is not a property of a managed identity block.`);
  }
  const types = parseType(block['type']);
  const map = block['userAssignedIdentities'];
  const attach = new Map<string, string>();
  if (map !== undefined && map !== null) {
    if (typeof map !== 'object' || Array.isArray(map)) throw invalid('identity.userAssignedIdentities must be an object keyed by identity resource id.');
    const entries = Object.entries(map as Record<string, unknown>);
    if (entries.length > MAX_USER_ASSIGNED) throw invalid(`At most ${MAX_USER_ASSIGNED} user-assigned identities may be attached to a resource.`);
    for (const [id, entry] of entries) {
      const canonical = userAssignedId(id);
      if (entry === null) {
        attach.delete(canonical.toLowerCase());
        continue;
      }
      checkEntryValue(id, entry);
      attach.set(canonical.toLowerCase(), canonical);
    }
  }
  if (attach.size > 0 && !types.has('UserAssigned')) {
    throw invalid("The identity type must include 'UserAssigned' when userAssignedIdentities are given.");
  }
  if (types.has('UserAssigned') && attach.size === 0) {
    throw invalid("The identity type 'UserAssigned' needs at least one identity in userAssignedIdentities.");
  }
  return { system: types.has('SystemAssigned'), attach };
}

/** An entry's value: {} — or the {principalId, clientId} a client read back, which is ignored. */
function checkEntryValue(id: string, entry: unknown): void {
  const ok = typeof entry === 'object' && entry !== null && !Array.isArray(entry)
    && Object.entries(entry as Record<string, unknown>).every(([k, v]) => (k === 'principalId' || k === 'clientId') && (v === null || (typeof v === 'string' && v.length <= 64)));
  if (!ok) {
    throw invalid(`Invalid value for the identities '${printable(id)}'. The 'UserAssignedIdentities' property keys should only be empty json objects, null or the resource exisiting property.`);
  }
}

/** A key of userAssignedIdentities: the id of a Microsoft.ManagedIdentity/userAssignedIdentities resource. */
function userAssignedId(id: string): string {
  let target;
  try {
    target = parseIdString(id);
  } catch {
    throw invalid(`'${printable(id)}' is not the resource id of a user-assigned identity.`);
  }
  if (target.kind !== 'resource' || target.types.length !== 1 || `${target.namespace}/${target.types[0]}`.toLowerCase() !== USER_ASSIGNED_IDENTITY_TYPE.toLowerCase()) {
    throw invalid(`'${printable(id)}' is not the resource id of a user-assigned identity (${USER_ASSIGNED_IDENTITY_TYPE}).`);
  }
  return targetId(target);
}

/** What attaching the request's identities needs: assign/action on each (Managed Identity Operator grants it). */
export function linkedIdentityPermissions(identity: unknown): LinkedPermission[] {
  // Read leniently (a PATCH may carry only detachments): the whole block is checked when the write is prepared.
  if (typeof identity !== 'object' || identity === null || Array.isArray(identity)) return [];
  const map = (identity as Record<string, unknown>)['userAssignedIdentities'];
  if (typeof map !== 'object' || map === null || Array.isArray(map)) return [];
  const entries = Object.entries(map as Record<string, unknown>);
  if (entries.length > MAX_USER_ASSIGNED) throw invalid(`At most ${MAX_USER_ASSIGNED} user-assigned identities may be attached to a resource.`);
  const scopes = new Map<string, string>();
  for (const [id, entry] of entries) {
    if (entry === null) continue;
    const canonical = userAssignedId(id);
    scopes.set(canonical.toLowerCase(), canonical);
  }
  return [...scopes.values()].map((scope) => ({ operation: ASSIGN_IDENTITY_ACTION, scope }));
}

/** A PATCH's identity over the current one: its userAssignedIdentities map is merged, null entries detaching. */
export function mergeIdentityPatch(current: Record<string, unknown> | undefined, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const p = patch as Record<string, unknown>;
  const type = typeof p['type'] === 'string' ? p['type'].toLowerCase() : '';
  const currentMap = current?.['userAssignedIdentities'];
  if (!type.includes('userassigned') || typeof currentMap !== 'object' || currentMap === null) return patch;
  const patchMap = p['userAssignedIdentities'];
  if (patchMap !== undefined && patchMap !== null && (typeof patchMap !== 'object' || Array.isArray(patchMap))) return patch;
  const merged: Record<string, unknown> = {};
  for (const id of Object.keys(currentMap)) merged[id.toLowerCase()] = {};
  for (const [id, v] of Object.entries((patchMap ?? {}) as Record<string, unknown>)) merged[id.toLowerCase()] = v;
  return { ...p, userAssignedIdentities: merged };
}

/** The system-assigned identity's principal id in a stored identity block, if it has one. */
export function systemPrincipalOf(identity: Record<string, unknown> | undefined): string | undefined {
  if (!identity || typeof identity['type'] !== 'string' || !identity['type'].includes('SystemAssigned')) return undefined;
  return typeof identity['principalId'] === 'string' ? identity['principalId'] : undefined;
}

/**
 * The identity block to store (and answer) for a request, inside the write's transaction:
 * each user-assigned identity looked up (FailedIdentityOperation if it is not there), the
 * system-assigned principal kept from the current block or made new. undefined for None.
 */
export async function resolveIdentity(tx: Tx, resourceId: string, request: IdentityRequest, existing: StoredResource | undefined, tenantId: string): Promise<Record<string, unknown> | undefined> {
  if (!request.system && request.attach.size === 0) return undefined;
  const userAssigned: Record<string, { principalId: string; clientId: string }> = {};
  for (const id of request.attach.values()) {
    const row = await tx.armResources.byKey(id.toLowerCase());
    if (!row || row.type.toLowerCase() !== USER_ASSIGNED_IDENTITY_TYPE.toLowerCase()) {
      throw new InvalidInputError(
        'KH_ARM_IDENTITY_NOT_FOUND',
        `Identity operation for resource '${printable(resourceId)}' failed with error 'Failed to perform resource identity operation. Status: 'BadRequest'. Response: '{"error":{"code":"BadRequest","message":"Resource '${printable(id)}' was not found."}}'.'.`,
      );
    }
    const props = JSON.parse(row.properties) as Record<string, unknown>;
    userAssigned[row.id] = { principalId: String(props['principalId']), clientId: String(props['clientId']) };
  }
  const block: Record<string, unknown> = {
    type: request.system && request.attach.size > 0 ? 'SystemAssigned, UserAssigned' : request.system ? 'SystemAssigned' : 'UserAssigned',
  };
  if (request.system) {
    block['principalId'] = systemPrincipalOf(existing?.identity) ?? randomUUID();
    block['tenantId'] = tenantId;
  }
  if (request.attach.size > 0) block['userAssignedIdentities'] = userAssigned;
  return block;
}
