// The one storage interface. Core services reach data only through the repositories a
// Storage hands out — outside a transaction (`read`) or inside one (`transaction`) — and never
// see SQL or the engine. Two engines sit behind it: SQLite (embedded default) and PostgreSQL
// (shared by any number of replicas).
import { Kysely, Migrator, sql, type MigrationResultSet } from 'kysely';
import { StartupError, UnavailableError } from '../errors.js';
import type { Database } from './database.js';
import { knownMigrations, migrationProvider } from './migrations.js';
import { countRows, listTables, readSnapshot, writeSnapshot, type Snapshot, type TableSchema } from './snapshot.js';
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
import { AssertionJtiRepo } from './repos/assertion-jti-repo.js';
import { MfaRepo } from './repos/mfa-repo.js';
import { SigninSessionRepo } from './repos/signin-session-repo.js';
import { AuthorizationCodeRepo } from './repos/authorization-code-repo.js';
import { RefreshTokenRepo } from './repos/refresh-token-repo.js';
import { DeviceCodeRepo } from './repos/device-code-repo.js';
import { SigninRevocationRepo } from './repos/signin-revocation-repo.js';
import { SigningKeyRepo } from './repos/signing-key-repo.js';
import { ArmSubscriptionRepo } from './repos/arm-subscription-repo.js';
import { ArmResourceRepo } from './repos/arm-resource-repo.js';
import { ArmRbacRepo } from './repos/arm-rbac-repo.js';
import { VaultRepo } from './repos/vault-repo.js';
import { MachineRepo } from './repos/machine-repo.js';
import { openSqlite } from './sqlite-engine.js';
import { ChangeRecorder, DIRECTORY_CHANNEL, notifyPayload, parsePayload, type DirectoryChanges } from './directory-changes.js';
import { PostgresListener } from './postgres-listener.js';
import { randomUUID } from 'node:crypto';

export type { DirectoryChanges } from './directory-changes.js';

/** Told of the directory changes other processes commit (directory-changes.ts). */
export interface DirectoryWatchHandlers {
  /** Another replica committed these changes (PostgreSQL NOTIFY). */
  changed(changes: DirectoryChanges): void;
  /**
   * Changes may have been missed — the listening connection was (re)established, or (SQLite)
   * another process committed: reload everything.
   */
  resync(): void;
}

export interface DirectoryWatch {
  /** SQLite: resyncs if another process (an admin command) committed since the last check; PostgreSQL: nothing to do. */
  check(): Promise<void>;
  close(): Promise<void>;
}

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
  assertionJti: AssertionJtiRepo;
  mfa: MfaRepo;
  signinSessions: SigninSessionRepo;
  authorizationCodes: AuthorizationCodeRepo;
  refreshTokens: RefreshTokenRepo;
  deviceCodes: DeviceCodeRepo;
  signinRevocations: SigninRevocationRepo;
  signingKeys: SigningKeyRepo;
  armSubscriptions: ArmSubscriptionRepo;
  armResources: ArmResourceRepo;
  armRbac: ArmRbacRepo;
  vaults: VaultRepo;
  machines: MachineRepo;
}

/** Repositories bound to one open transaction, plus savepoints (used by group commit). */
export interface Tx extends Repos {
  savepoint(): Promise<void>;
  rollbackToSavepoint(): Promise<void>;
  releaseSavepoint(): Promise<void>;
}

export interface StorageOptions {
  poolSize?: number;
  /** Apply pending migrations on open (default). `admin status` and `migrate --dry-run` look without changing. */
  migrate?: boolean;
}

export interface MigrationStatus {
  /** Applied migrations this version knows, in order. */
  applied: string[];
  /** Migrations this version has that the store has not applied. */
  pending: string[];
  /** Applied migrations this version does not know: the store was migrated by a newer version. */
  unknown: string[];
}

export interface EngineHandle {
  engine: Engine;
  db: Kysely<Database>;
  /** The statement that opens a write transaction (SQLite takes its write lock up front). */
  begin: string;
  description: string;
  /** PostgreSQL: the connection URL, for the LISTEN connection. */
  url?: string;
  /** PostgreSQL: the pool's connections (metrics). */
  pool?: () => PoolUsage;
}

export interface PoolUsage {
  total: number;
  idle: number;
  waiting: number;
}

export class Storage {
  readonly engine: Engine;
  readonly read: Repos;
  readonly description: string;
  readonly #db: Kysely<Database>;
  readonly #begin: string;
  readonly #url: string | undefined;
  readonly #pool: (() => PoolUsage) | undefined;
  /** Tags this process's NOTIFYs, so its own listener skips them (it applied them at commit). */
  readonly #origin = randomUUID();
  readonly #commitListeners = new Set<(changes: DirectoryChanges) => Promise<void> | void>();
  readonly #watches = new Set<DirectoryWatch>();
  #closed = false;

  private constructor(handle: EngineHandle) {
    this.engine = handle.engine;
    this.#db = handle.db;
    this.#begin = handle.begin;
    this.description = handle.description;
    this.#url = handle.url;
    this.#pool = handle.pool;
    this.read = makeRepos(handle.db, handle.engine);
  }

  /** The connection pool's usage (PostgreSQL); undefined for SQLite's one connection. */
  poolUsage(): PoolUsage | undefined {
    return this.#pool?.();
  }

  /**
   * Opens `sqlite:PATH` or `postgres://…` and applies pending migrations (unless told not
   * to). A store migrated by a newer version is refused before anything is changed: this
   * version's queries may not fit that schema, and nothing here can undo those migrations.
   */
  static async open(url: string, options: StorageOptions = {}): Promise<Storage> {
    const handle = url.startsWith('sqlite:')
      ? openSqlite(url.slice('sqlite:'.length))
      : await openPostgres(url, options.poolSize ?? 10);
    const storage = new Storage(handle);
    try {
      if (options.migrate !== false) {
        const { unknown } = await storage.migrationStatus();
        if (unknown.length > 0) throw newerSchemaError(unknown);
        await storage.#retryingMigrate(() => storage.migrate());
      }
    } catch (err) {
      await storage.close();
      throw err;
    }
    return storage;
  }

  // Processes opening a new SQLite file at the same moment (a server and an admin command)
  // race on the first migration: SQLite's migration lock is per connection. The loser's
  // error clears once the winner commits, so try again a few times.
  async #retryingMigrate<T>(run: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await run();
      } catch (err) {
        if (attempt >= 5 || this.engine !== 'sqlite' || err instanceof StartupError) throw err;
        await new Promise((r) => setTimeout(r, 50 * attempt));
      }
    }
  }

  /** What the store has applied, against the migrations this version knows. */
  async migrationStatus(): Promise<MigrationStatus> {
    this.#assertOpen();
    let executed: string[];
    try {
      const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(this.#db);
      executed = rows.map((r) => r.name);
    } catch (err) {
      // A store never migrated has no kysely_migration table; anything else is unavailability.
      if (/no such table|does not exist/.test(String((err as Error).message))) executed = [];
      else throw new UnavailableError('KH_STORAGE_UNAVAILABLE', 'storage is not reachable', { cause: err });
    }
    const known = knownMigrations();
    const done = new Set(executed);
    return {
      applied: known.filter((m) => done.has(m)),
      pending: known.filter((m) => !done.has(m)),
      unknown: executed.filter((m) => !known.includes(m)),
    };
  }

  /** Migrations this version has and the store lacks (readiness: a server must not serve a store half-way). */
  async pendingMigrations(): Promise<string[]> {
    return (await this.migrationStatus()).pending;
  }

  async migrate(): Promise<string[]> {
    return this.#runMigrator((m) => m.migrateToLatest());
  }

  /** Applies migrations up to and including `name` (restore: the schema the backup was taken at). */
  async migrateTo(name: string): Promise<string[]> {
    return this.#runMigrator((m) => m.migrateTo(name));
  }

  async #runMigrator(step: (m: Migrator) => Promise<MigrationResultSet>): Promise<string[]> {
    const { error, results } = this.engine === 'sqlite'
      ? await this.#db.connection().execute(async (conn) => {
        // Kysely runs SQLite migrations outside a transaction with no lock (its SQLite
        // adapter declares no transactional DDL), so two processes opening a new file could
        // both run the same ALTER TABLE. SQLite's DDL is transactional: hold the write lock
        // (BEGIN IMMEDIATE waits up to busy_timeout for another opener) for the whole run, so
        // a migration and its kysely_migration row commit together or not at all.
        await sql.raw('begin immediate').execute(conn);
        try {
          const outcome = await step(new Migrator({ db: conn, provider: migrationProvider }));
          await sql.raw(outcome.error ? 'rollback' : 'commit').execute(conn);
          return outcome;
        } catch (err) {
          await sql.raw('rollback').execute(conn).catch(() => undefined);
          throw err;
        }
      })
      : await step(new Migrator({ db: this.#db, provider: migrationProvider }));
    if (error) {
      throw new UnavailableError('KH_STORAGE_MIGRATION_FAILED', `storage migration failed: ${errorSummary(error)}`, { cause: error });
    }
    return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  }

  /** Every table any migration created, discovered from the schema (backups stay complete as tables are added). */
  async tables(): Promise<TableSchema[]> {
    this.#assertOpen();
    return listTables(this.#db, this.engine);
  }

  /** One consistent, engine-neutral copy of every table, read while the server keeps serving. */
  async snapshot(): Promise<Snapshot> {
    this.#assertOpen();
    return readSnapshot(this.#db, this.engine);
  }

  /** Rows held outside Kysely's bookkeeping: 0 for a store that was only migrated. */
  async rowCount(): Promise<number> {
    this.#assertOpen();
    return countRows(this.#db, this.engine);
  }

  /** Writes a snapshot in one transaction; refuses a non-empty store unless `replace`. */
  async restoreSnapshot(snapshot: Snapshot, options: { replace: boolean }): Promise<number> {
    this.#assertOpen();
    return writeSnapshot(this.#db, this.engine, snapshot, { replace: options.replace, begin: this.#begin });
  }

  /**
   * Runs `fn` in one transaction on one connection: commit if it resolves, roll back if it
   * throws. Savepoints let a caller undo part of the work (one request of a group commit).
   */
  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    this.#assertOpen();
    let changes: ChangeRecorder | undefined;
    const outcome = await this.#db.connection().execute(async (conn) => {
      await sql.raw(this.#begin).execute(conn);
      changes = new ChangeRecorder();
      const tx: Tx = {
        ...makeRepos(conn, this.engine, changes),
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
        // Sent inside the transaction: PostgreSQL delivers it to listeners only once (and if) it commits.
        if (this.engine === 'postgres' && !changes!.empty) {
          await sql`select pg_notify(${DIRECTORY_CHANNEL}, ${notifyPayload(this.#origin, changes!.changes())})`.execute(conn);
        }
        await sql.raw('commit').execute(conn);
      } catch (err) {
        await sql.raw('rollback').execute(conn).catch(() => undefined);
        throw new UnavailableError('KH_STORAGE_COMMIT_FAILED', 'storage could not commit the transaction', { cause: err });
      }
      return result;
    });
    // Committed: this process's read models reload what changed before the writer hears back,
    // so its next request sees the write. Outside the connection callback (SQLite has one).
    if (changes && !changes.empty) await this.#announce(changes.changes());
    return outcome;
  }

  /**
   * Calls `listener` after every commit of this process that wrote users, groups or
   * memberships, before the transaction's caller resumes. A listener's failure is its own
   * (the commit stands): it must record it and recover (a full reload).
   */
  onDirectoryCommit(listener: (changes: DirectoryChanges) => Promise<void> | void): () => void {
    this.#commitListeners.add(listener);
    return () => this.#commitListeners.delete(listener);
  }

  /**
   * Watches the directory changes other processes commit: on PostgreSQL a dedicated LISTEN
   * connection (resolves once it listens; resync after every reconnect); on SQLite the
   * database's data_version, checked by `check()` (one pragma, no I/O when nothing changed).
   */
  async watchDirectory(handlers: DirectoryWatchHandlers): Promise<DirectoryWatch> {
    this.#assertOpen();
    let watch: DirectoryWatch;
    if (this.engine === 'postgres') {
      const origin = this.#origin;
      const listener = new PostgresListener(this.#url!, DIRECTORY_CHANNEL, {
        notify: (payload) => {
          const { origin: from, changes } = parsePayload(payload);
          if (from === origin) return;
          if (changes.all) handlers.resync();
          else handlers.changed(changes);
        },
        reconnected: () => handlers.resync(),
      });
      await listener.start();
      watch = { check: async () => undefined, close: () => listener.close() };
    } else {
      let seen = await this.#dataVersion();
      watch = {
        check: async () => {
          const now = await this.#dataVersion();
          if (now !== seen) {
            seen = now;
            handlers.resync();
          }
        },
        close: async () => undefined,
      };
    }
    this.#watches.add(watch);
    const close = watch.close;
    watch.close = async () => {
      this.#watches.delete(watch);
      await close();
    };
    return watch;
  }

  /**
   * PostgreSQL: calls `changed` for every NOTIFY on `channel` (one of the fixed channel names
   * the repositories announce on) and after every reconnection (notifications may have been
   * missed). SQLite: undefined — one process serves, and its owner re-reads on an interval.
   * Closed with the storage.
   */
  async watchChannel(channel: string, changed: () => void): Promise<DirectoryWatch | undefined> {
    this.#assertOpen();
    if (this.engine !== 'postgres') return undefined;
    const listener = new PostgresListener(this.#url!, channel, { notify: () => changed(), reconnected: () => changed() });
    await listener.start();
    const watch: DirectoryWatch = {
      check: async () => undefined,
      close: async () => {
        this.#watches.delete(watch);
        await listener.close();
      },
    };
    this.#watches.add(watch);
    return watch;
  }

  async #dataVersion(): Promise<number> {
    // https://www.sqlite.org/pragma.html#pragma_data_version: changes when another connection commits.
    const { rows } = await sql<{ data_version: number }>`pragma data_version`.execute(this.#db);
    return Number(rows[0]?.data_version ?? 0);
  }

  async #announce(changes: DirectoryChanges): Promise<void> {
    for (const listener of [...this.#commitListeners]) {
      try {
        await listener(changes);
      } catch {
        // The listener owns its recovery (see onDirectoryCommit).
      }
    }
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
    for (const w of [...this.#watches]) await w.close().catch(() => undefined);
    await this.#db.destroy();
  }

  #assertOpen(): void {
    if (this.#closed) throw new UnavailableError('KH_STORAGE_CLOSED', 'storage is closed');
  }
}

function makeRepos(db: Kysely<Database>, engine: Engine, changes?: ChangeRecorder): Repos {
  return {
    settings: new SettingsRepo(db),
    dataKeys: new DataKeyRepo(db),
    serverSecrets: new ServerSecretRepo(db),
    audit: new AuditRepo(db, engine),
    users: new UserRepo(db, changes),
    groups: new GroupRepo(db, changes),
    groupMembers: new GroupMemberRepo(db, changes),
    applications: new ApplicationRepo(db),
    servicePrincipals: new ServicePrincipalRepo(db),
    roleAssignments: new RoleAssignmentRepo(db),
    loginThrottle: new LoginThrottleRepo(db, engine),
    ldapEntries: new LdapEntryRepo(db),
    assertionJti: new AssertionJtiRepo(db),
    mfa: new MfaRepo(db),
    signinSessions: new SigninSessionRepo(db),
    authorizationCodes: new AuthorizationCodeRepo(db),
    refreshTokens: new RefreshTokenRepo(db),
    deviceCodes: new DeviceCodeRepo(db),
    signinRevocations: new SigninRevocationRepo(db),
    signingKeys: new SigningKeyRepo(db, engine),
    armSubscriptions: new ArmSubscriptionRepo(db),
    armResources: new ArmResourceRepo(db),
    armRbac: new ArmRbacRepo(db, changes),
    vaults: new VaultRepo(db),
    machines: new MachineRepo(db, engine),
  };
}

/** The store was migrated by a newer Keyhaven than this one. */
export function newerSchemaError(unknown: string[]): StartupError {
  return new StartupError(
    'KH_STORAGE_SCHEMA_NEWER',
    `the store was migrated by a newer Keyhaven (migrations ${unknown.join(', ')} are unknown to this version): run that version or a later one`,
  );
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
