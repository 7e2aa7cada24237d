// 0006_assertion_jti: the ids (`jti`) of client assertions already used (RFC 7523 §3 item 7:
// "The JWT MAY contain a jti claim … the authorization server MAY ensure that JWTs are not
// replayed"), kept until the assertion would have expired anyway, so one assertion signs in
// once across every replica on one PostgreSQL and across restarts. Dead rows are swept.
import type { Kysely, Migration } from 'kysely';

export const assertionJtiMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('assertion_jti')
      .addColumn('client_id', 'text', (c) => c.notNull())
      .addColumn('jti', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      // Where it was first used: with reuse from the same source allowed (MSAL's pattern), a
      // copy of the assertion presented from anywhere else is still a replay.
      .addColumn('source', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('assertion_jti_pk', ['client_id', 'jti'])
      .execute();
    await db.schema.createIndex('assertion_jti_expires_at').on('assertion_jti').column('expires_at').execute();
  },
};
