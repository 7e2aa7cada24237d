// 0008_signing_keys: the token signing keys and their lifecycle (pending → active → retired),
// one row per key, so every replica on one database reads the same state and the transitions
// are made under one lock (src/tokens/signing-keys.ts). The private key is stored only sealed
// by the envelope (AES-256-GCM under a data key wrapped by the KEK), as server secrets are.
// Times are epoch milliseconds. Keys created before this migration (server_secrets
// `token-signing-key/…`) are adopted by the service on first start, not here: the migration
// cannot open sealed values.
import type { Kysely, Migration } from 'kysely';

export const signingKeysMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('signing_keys')
      .addColumn('kid', 'text', (c) => c.primaryKey())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('private_key', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      // pending: when it starts signing; active and retired: when it did.
      .addColumn('activates_at', 'bigint', (c) => c.notNull())
      .addColumn('retired_at', 'bigint')
      // retired: when it leaves the JWKS (every token it signed has expired by then).
      .addColumn('removes_at', 'bigint')
      .execute();
  },
};
