// 0004_login_throttle: the login throttle's state (per-account failures and locks, per-source
// failure windows) shared by every replica on one PostgreSQL — with a per-process store, N
// replicas behind a load balancer would give an attacker N times the guesses. Keys are hashes
// (login-throttle.ts); entries are the throttle's JSON; rows past expires_at are dead and swept.
import type { Kysely, Migration } from 'kysely';

export const loginThrottleMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('login_throttle')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('entry', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('login_throttle_expires_at').on('login_throttle').column('expires_at').execute();
  },
};
