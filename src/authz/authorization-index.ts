// The role assignments and custom role definitions held in process, so an authorization
// decision is a few map lookups, never a database round trip (DESIGN.md: hot reads from
// in-process indexes kept exact, never a cache with a time-to-live). Kept exact as the
// directory's read model is, by the same WatchedIndex (src/storage/watched-index.ts):
//
//  - loaded whole at start, after the change watch is set up, so nothing committed meanwhile
//    is missed;
//  - reloaded after each commit of this process that wrote assignments or definitions, before
//    the writer hears back (Storage.onDirectoryCommit), so the next request sees it;
//  - on PostgreSQL, reloaded when another replica's NOTIFY says assignments changed, and after
//    the listening connection comes back (a notification missed in the gap must never leave a
//    revoked grant alive); on SQLite, when another process committed (data_version);
//  - if a reload fails, the index is stale and every decision first retries the load, failing
//    with 503 (KH_AUTHORIZATION_UNAVAILABLE) rather than deciding from a state it cannot vouch for.
//
// A reload reads every assignment and custom definition: they number in the thousands at most
// and a change is rare next to the decisions, so exactness is simplest kept by reading all.
import { UnavailableError } from '../errors.js';
import type { ArmRoleAssignmentRow, ArmRoleDefinitionRow } from '../storage/repos/arm-rbac-repo.js';
import type { DirectoryChanges, Storage } from '../storage/storage.js';
import { WatchedIndex } from '../storage/watched-index.js';
import { BUILTIN_ROLES } from './builtin-roles.js';
import type { RoleDefinition, RolePermission } from './role-definition.js';

export interface AssignmentEntry {
  id: string;
  scope: string;
  scopeKey: string;
  roleDefinitionId: string;
  principalId: string;
  principalType: string;
}

/** One consistent state of assignments and definitions. */
export class AuthorizationSnapshot {
  readonly definitions = new Map<string, RoleDefinition>();
  readonly byPrincipal = new Map<string, AssignmentEntry[]>();
  readonly assignments: AssignmentEntry[] = [];

  constructor(assignments: Iterable<AssignmentEntry>, custom: Iterable<RoleDefinition>) {
    for (const role of BUILTIN_ROLES) this.definitions.set(role.id, role);
    for (const role of custom) this.definitions.set(role.id, role);
    for (const a of assignments) {
      this.assignments.push(a);
      const list = this.byPrincipal.get(a.principalId);
      if (list) list.push(a);
      else this.byPrincipal.set(a.principalId, [a]);
    }
  }
}

export function assignmentEntry(row: ArmRoleAssignmentRow): AssignmentEntry {
  return { id: row.id, scope: row.scope, scopeKey: row.scope_key, roleDefinitionId: row.role_definition_id, principalId: row.principal_id, principalType: row.principal_type };
}

export function customRole(row: ArmRoleDefinitionRow): RoleDefinition {
  return {
    id: row.id,
    roleName: row.role_name,
    description: row.description,
    roleType: 'CustomRole',
    permissions: JSON.parse(row.permissions) as RolePermission[],
    assignableScopes: JSON.parse(row.assignable_scopes) as string[],
    createdOn: row.created_at,
    updatedOn: row.updated_at,
    createdBy: row.created_by,
    updatedBy: row.updated_by,
  };
}

export class AuthorizationIndex {
  readonly #storage: Storage;
  readonly #index: WatchedIndex;
  #snapshot = new AuthorizationSnapshot([], []);
  #loads = 0;

  constructor(storage: Storage) {
    this.#storage = storage;
    this.#index = new WatchedIndex(storage, {
      full: () => this.#load(),
      // Any change to assignments or definitions is a full load (see the top of this file).
      update: (changes) => (concerns(changes) ? this.#load() : Promise.resolve()),
      unavailable: (cause) =>
        new UnavailableError('KH_AUTHORIZATION_UNAVAILABLE', cause === undefined ? 'role assignments could not be read from storage' : 'cannot watch role assignments for changes', cause === undefined ? undefined : { cause }),
    });
  }

  /** Full loads so far (the first, and one per change or resync). */
  get loads(): number {
    return this.#loads;
  }

  /** The current snapshot; loads it on first use; 503 while it cannot be read. */
  async current(): Promise<AuthorizationSnapshot> {
    await this.#index.ready();
    return this.#snapshot;
  }

  async close(): Promise<void> {
    await this.#index.close();
  }

  async #load(): Promise<void> {
    const read = this.#storage.read.armRbac;
    const assignments = await read.allAssignments();
    const definitions = await read.allDefinitions();
    this.#snapshot = new AuthorizationSnapshot(assignments.map(assignmentEntry), definitions.map(customRole));
    this.#loads++;
  }
}

function concerns(changes: DirectoryChanges): boolean {
  return changes.authorization === true || changes.all === true;
}
