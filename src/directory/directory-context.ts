// What every part of the directory shares: its dependencies (no KEK among them, so tests can
// build them without one), its options, who is acting, and two small helpers —
// the audit event of a write, and a retry for creations that lose a uniqueness race.
import type { AuditDetails, AuditEvent, AuditLog } from '../audit/audit-log.js';
import type { CredentialDigester } from '../crypto/generated-credential.js';
import type { PasswordHasher } from '../crypto/password-hash.js';
import { ConflictError, NotFoundError } from '../errors.js';
import { isUniqueViolation, type Storage } from '../storage/storage.js';
import { DEFAULT_HOME_BASE, DEFAULT_LOGIN_SHELL, DEFAULT_POSIX_ID_START } from './posix-attributes.js';
import { ReservedGroupNames } from './principal-names.js';
import { visibilityRules, type VisibilityOptions, type VisibilityRules } from './scoped-reader.js';

/**
 * What the directory is built from. Named here, not taken from the server's CoreServices: the
 * core says what it needs and the assembly (src/server/core.ts) provides it, never the reverse.
 */
export interface DirectoryDeps {
  storage: Storage;
  audit: AuditLog;
  passwords: PasswordHasher;
  credentials: CredentialDigester;
  tenantId: string;
}

export interface DirectoryOptions {
  /** First uidNumber/gidNumber handed out (default 10000). */
  posixIdStart?: number;
  /** loginShell of new users (default /bin/bash). */
  defaultLoginShell?: string;
  /** New users' homeDirectory is this + '/' + their short name (default /home). */
  homeDirectoryBase?: string;
  /** Names refused for groups (the reservedGroupNames setting; default DEFAULT_RESERVED_GROUP_NAMES). */
  reservedGroupNames?: readonly string[];
  /** Whether users get a private group (the userPrivateGroups setting; default on). */
  userPrivateGroups?: boolean;
  /** Who reads what through a scoped reader (scoped-reader.ts). */
  visibility?: VisibilityOptions;
}

export interface ResolvedDirectoryOptions {
  posixIdStart: number;
  defaultLoginShell: string;
  homeDirectoryBase: string;
  reservedGroups: ReservedGroupNames;
  userPrivateGroups: boolean;
  visibility: VisibilityRules;
}

export function resolveOptions(options: DirectoryOptions = {}): ResolvedDirectoryOptions {
  return {
    posixIdStart: options.posixIdStart ?? DEFAULT_POSIX_ID_START,
    defaultLoginShell: options.defaultLoginShell ?? DEFAULT_LOGIN_SHELL,
    homeDirectoryBase: (options.homeDirectoryBase ?? DEFAULT_HOME_BASE).replace(/\/+$/, ''),
    reservedGroups: new ReservedGroupNames(options.reservedGroupNames),
    userPrivateGroups: options.userPrivateGroups ?? true,
    visibility: visibilityRules(options.visibility),
  };
}

/** Who performs a write: a principal's object id (or `system`), and where the request came from. */
export interface Actor {
  id: string;
  source?: string | undefined;
  correlationId?: string | undefined;
}

export const SYSTEM_ACTOR: Actor = Object.freeze({ id: 'system' });

export function auditEvent(actor: Actor, action: string, target: string, details?: AuditDetails): AuditEvent {
  const event: AuditEvent = { actor: actor.id, action, target };
  if (actor.source !== undefined) event.source = actor.source;
  if (actor.correlationId !== undefined) event.correlationId = actor.correlationId;
  if (details !== undefined) event.details = details;
  return event;
}

const UNIQUE_RACE_ATTEMPTS = 3;

/**
 * Runs a write whose work checks uniqueness and then inserts. If another request inserted the
 * same name or number in between (a unique-index violation), the write rolled back; running it
 * again either succeeds (a fresh POSIX id) or meets the other row in its check and throws a
 * ConflictError naming the clash.
 */
export async function retryUniqueRace<T>(write: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      if (attempt >= UNIQUE_RACE_ATTEMPTS) {
        throw new ConflictError('KH_DIRECTORY_CONFLICT', 'Another request changed the same object at the same time. Try again.', { cause: err });
      }
    }
  }
}

/** Graph's wording for a missing object (HTTP 404, Request_ResourceNotFound). */
export function notFound(code: string, id: string): NotFoundError {
  return new NotFoundError(code, `Resource '${id.slice(0, 120)}' does not exist or one of its queried reference-property objects are not present.`);
}

export function nowIso(): string {
  return new Date().toISOString();
}

/** Graph's wording when a unique property is taken. */
export function taken(code: string, property: string): ConflictError {
  return new ConflictError(code, `Another object with the same value for property ${property} already exists.`);
}
