// 0014_machines: machine enrollment (src/machines/).
//
//  - machine_join_tokens: a join token a machine (virtualMachines: one use) or a scale set
//    (virtualMachineScaleSets: a use count) issued. Only the HMAC-SHA-256 of the token under the
//    server's credential key is stored (src/crypto/generated-credential.ts), never the token;
//    `uses` is raised by a compare-and-set (`uses < max_uses and expires_at > now`), so two
//    machines racing for the last use cannot both join, on one PostgreSQL too.
//  - machines: a joined machine — the resource it belongs to, the client id its assertions name
//    (`iss` = `sub`), and its public key (a JWK: only the public members; the private key never
//    leaves the machine), found by `kid` (the key's RFC 7638 thumbprint). `revoked_at` set means
//    revoked: its assertions and the tokens issued to it are refused.
// Ids are compared ignoring case through the lower-cased `resource_key`, as ARM ids are.
import type { Kysely, Migration } from 'kysely';

export const machinesMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('machine_join_tokens')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('digest', 'text', (c) => c.notNull().unique())
      .addColumn('resource_id', 'text', (c) => c.notNull())
      .addColumn('resource_key', 'text', (c) => c.notNull())
      .addColumn('max_uses', 'integer', (c) => c.notNull())
      .addColumn('uses', 'integer', (c) => c.notNull())
      // Epoch ms.
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('machine_join_tokens_resource').on('machine_join_tokens').column('resource_key').execute();
    await db.schema
      .createTable('machines')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('client_id', 'text', (c) => c.notNull().unique())
      .addColumn('resource_id', 'text', (c) => c.notNull())
      .addColumn('resource_key', 'text', (c) => c.notNull())
      .addColumn('join_id', 'text', (c) => c.notNull())
      .addColumn('kid', 'text', (c) => c.notNull())
      .addColumn('public_jwk', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('key_updated_at', 'text', (c) => c.notNull())
      .addColumn('revoked_at', 'text')
      .addColumn('revoked_by', 'text')
      .execute();
    await db.schema.createIndex('machines_resource').on('machines').column('resource_key').execute();
  },
};
