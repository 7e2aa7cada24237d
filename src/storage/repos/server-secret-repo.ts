import type { Kysely } from 'kysely';
import type { Database } from '../database.js';

export class ServerSecretRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async get(name: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('server_secrets').select('ciphertext').where('name', '=', name).executeTakeFirst();
    return row?.ciphertext;
  }

  /** First writer wins, so replicas starting together agree on one key. */
  async insertIfAbsent(name: string, ciphertext: string, createdAt: string): Promise<void> {
    await this.db
      .insertInto('server_secrets')
      .values({ name, ciphertext, created_at: createdAt })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
  }
}
