// The one storage interface. Core services reach data only through the repositories a
// Storage hands out — outside a transaction (`read`) or inside one (`transaction`) — and never
// see SQL or the engine. Two engines sit behind it: SQLite (embedded default) and PostgreSQL
// (shared by any number of replicas).
import { Kysely, Migrator, sql } from 'kysely';
import { UnavailableError } from '../errors.js';
import type { Database } from './database.js';
import { migrationProvider } from './migrations.js';
import { openPostgres } from './postgres-engine.js';
import { ApplicationRepo } from './repos/application-repo.js';
import { AuditRepo } from './repos/audit-repo.js';
import { DataKeyRepo } from './repos/data-key-repo.js';
import { GroupMemberRepo } from './repos/group-member-repo.js';
import { GroupRepo } from './repos/group-repo.js';
import { RoleAssignmentRepo } from './repos/role-assignment-repo.js';
import { ServerSecretRepo } from './repos/server-secret-repo.js';
import { ServicePrincipalRepo } from './repos/service-principal-repo.js';
import { SettingsRepo } from './repos/settings-repo.js';
import { UserRepo } from './repos/user-repo.js';
import { LoginThrottleRepo } from './repos/login-throttle-repo.js';
import { LdapEntryRepo } from './repos/ldap-entry-repo.js';
import { openSqlite } from './sqlite-engine.js';

export type Engine = 'sqlite' | 'postgres';

export interface Repos {
  settings: SettingsRepo;
  dataKeys: DataKeyRepo;
  serverSecrets: ServerSecretRepo;
  audit: AuditRepo;
  users: UserRepo;
  groups: GroupRepo;
  groupMembers: GroupMemberRepo;
  applications: ApplicationRepo;
  servicePrincipals: ServicePrincipalRepo;
  roleAssignments: RoleAssignmentRepo;
  loginThrottle: LoginThrottleRepo;
  ldapEntries: LdapEntryRepo;
}

/** Repositories bound to one open transaction, plus savepoints (used by group commit). */
export interface Tx extends Repos {
  savepoint(): Promise<void>;
  rollbackToSavepoint(): Promise<void>;
  releaseSavepoint(): Promise<void>;
}

export interface StorageOptions {
  poolSize?: number;
}

export interface EngineHandle {
  engine: Engine;
  db: Kysely<Database>;
  /** The statement that opens a write transaction (SQLite takes its write lock up front). */
  begin: string;
  description: string;
}

export class Storage {
  readonly engine: Engine;
  readonly read: Repos;
  readonly description: string;
  readonly #db: Kysely<Database>;
  readonly #begin: string;
  #closed = false;

  private constructor(handle: EngineHandle) {
    this.engine = handle.engine;
    this.#db = handle.db;
    this.#begin = handle.begin;
    this.description = handle.description;
    this.read = makeRepos(handle.db, handle.engine);
  }

  /** Opens `sqlite:PATH` or `postgres://…` and applies pending migrations. */
  static async open(url: string, options: StorageOptions = {}): Promise<Storage> {
    const handle = url.startsWith('sqlite:')
      ? openSqlite(url.slice('sqlite:'.length))
      : await openPostgres(url, options.poolSize ?? 10);
    const storage = new Storage(handle);
    try {
      // Processes opening a new SQLite file at the same moment (a server and an admin
      // command) race on the first migration: SQLite's migration lock is per connection. The
      // loser's error clears once the winner commits, so try again a few times.
      for (let attempt = 1; ; attempt++) {
        try {
          await storage.migrate();
          break;
        } catch (err) {
          if (attempt >= 5 || storage.engine !== 'sqlite') throw err;
          await new Promise((r) => setTimeout(r, 50 * attempt));
        }
      }
    } catch (err) {
      await storage.close();
      throw err;
    }
    return storage;
  }

  async migrate(): Promise<string[]> {
    const migrator = new Migrator({ db: this.#db, provider: migrationProvider });
    const { error, results } = await migrator.migrateToLatest();
    if (error) {
      throw new UnavailableError('KH_STORAGE_MIGRATION_FAILED', `storage migration failed: ${errorSummary(error)}`, { cause: error });
    }
    return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  }

  /**
   * Runs `fn` in one transaction on one connection: commit if it resolves, roll back if it
   * throws. Savepoints let a caller undo part of the work (one request of a group commit).
   */
  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    this.#assertOpen();
    return this.#db.connection().execute(async (conn) => {
      await sql.raw(this.#begin).execute(conn);
      const tx: Tx = {
        ...makeRepos(conn, this.engine),
        savepoint: async () => void (await sql.raw('savepoint kh_job').execute(conn)),
        rollbackToSavepoint: async () => void (await sql.raw('rollback to savepoint kh_job').execute(conn)),
        releaseSavepoint: async () => void (await sql.raw('release savepoint kh_job').execute(conn)),
      };
      let result: T;
      try {
        result = await fn(tx);
      } catch (err) {
        await sql.raw('rollback').execute(conn).catch(() => undefined);
        throw err;
      }
      try {
        await sql.raw('commit').execute(conn);
      } catch (err) {
        await sql.raw('rollback').execute(conn).catch(() => undefined);
        throw new UnavailableError('KH_STORAGE_COMMIT_FAILED', 'storage could not commit the transaction', { cause: err });
      }
      return result;
    });
  }

  /** Readiness: a trivial query round trip. */
  async ping(): Promise<void> {
    this.#assertOpen();
    try {
      await sql`select 1`.execute(this.#db);
    } catch (err) {
      throw new UnavailableError('KH_STORAGE_UNAVAILABLE', 'storage is not reachable', { cause: err });
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#db.destroy();
  }

  #assertOpen(): void {
    if (this.#closed) throw new UnavailableError('KH_STORAGE_CLOSED', 'storage is closed');
  }
}

function makeRepos(db: Kysely<Database>, engine: Engine): Repos {
  return {
    settings: new SettingsRepo(db),
    dataKeys: new DataKeyRepo(db),
    serverSecrets: new ServerSecretRepo(db),
    audit: new AuditRepo(db, engine),
    users: new UserRepo(db),
    groups: new GroupRepo(db),
    groupMembers: new GroupMemberRepo(db),
    applications: new ApplicationRepo(db),
    servicePrincipals: new ServicePrincipalRepo(db),
    roleAssignments: new RoleAssignmentRepo(db),
    loginThrottle: new LoginThrottleRepo(db, engine),
    ldapEntries: new LdapEntryRepo(db),
  };
}

/** A database error's class and code, never its parameters (which may hold secrets). */
export function errorSummary(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return e.code ? `${e.code}` : (e.message ?? String(err)).split('\n')[0]!.slice(0, 200);
}

/** A unique or primary-key violation, on either engine. */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
