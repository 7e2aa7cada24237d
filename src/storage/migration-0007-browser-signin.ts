// 0007_browser_signin: what the browser and device sign-ins keep (issue 9, items 3–5).
//  - applications gain their registered redirect URIs, as Graph's application has them
//    (`web.redirectUris`, `publicClient.redirectUris`, `spa.redirectUris`), JSON arrays, and
//    `isFallbackPublicClient` (Entra's "Allow public client flows": device code without a secret);
//  - signin_sessions: the single-sign-on session behind the browser's cookie;
//  - authorization_codes (RFC 6749 §4.1), refresh_families and refresh_tokens (rotation and
//    reuse detection, RFC 9700 §4.14.2), device_codes (RFC 8628);
//  - signin_revocations: a user's "sessions valid from" time (Graph revokeSignInSessions);
//  - users.force_change_password: Graph's passwordProfile.forceChangePasswordNextSignIn, asked
//    for by the sign-in pages (and refused by the password grant) until the user changes it.
// Every secret handed to a client or a browser — session id, code, refresh token, device code,
// user code — is stored only as its SHA-256 (base64url): a copy of the database signs nobody in.
// Times are epoch milliseconds from the services' clock.
import type { Kysely, Migration } from 'kysely';

export const browserSigninMigration: Migration = {
  async up(db: Kysely<unknown>) {
    for (const column of ['web_redirect_uris', 'public_client_redirect_uris', 'spa_redirect_uris']) {
      await db.schema.alterTable('applications').addColumn(column, 'text', (c) => c.notNull().defaultTo('[]')).execute();
    }
    await db.schema.alterTable('applications').addColumn('is_fallback_public_client', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.alterTable('users').addColumn('force_change_password', 'integer', (c) => c.notNull().defaultTo(0)).execute();

    await db.schema
      .createTable('signin_sessions')
      .addColumn('id_hash', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('auth_time', 'bigint', (c) => c.notNull())
      .addColumn('amr', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('signin_sessions_user').on('signin_sessions').column('user_id').execute();

    await db.schema
      .createTable('authorization_codes')
      .addColumn('code_hash', 'text', (c) => c.primaryKey())
      .addColumn('client_id', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('redirect_uri', 'text', (c) => c.notNull())
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('nonce', 'text')
      .addColumn('code_challenge', 'text')
      .addColumn('auth_time', 'bigint', (c) => c.notNull())
      .addColumn('amr', 'text', (c) => c.notNull())
      // The refresh family its redemption starts: a replayed code revokes it (RFC 6749 §4.1.2).
      .addColumn('family_id', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('used_at', 'bigint')
      .execute();
    await db.schema.createIndex('authorization_codes_expires_at').on('authorization_codes').column('expires_at').execute();

    await db.schema
      .createTable('refresh_families')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('client_id', 'text', (c) => c.notNull())
      .addColumn('auth_time', 'bigint', (c) => c.notNull())
      .addColumn('amr', 'text', (c) => c.notNull())
      // 1 when the client authenticated (secret or certificate) as the family began: its
      // refreshes must authenticate too, or a leaked token would work with the client id alone.
      .addColumn('confidential', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('revoked_at', 'bigint')
      .addColumn('revoked_reason', 'text')
      .execute();
    await db.schema.createIndex('refresh_families_user').on('refresh_families').column('user_id').execute();

    await db.schema
      .createTable('refresh_tokens')
      .addColumn('token_hash', 'text', (c) => c.primaryKey())
      .addColumn('family_id', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('used_at', 'bigint')
      .execute();
    await db.schema.createIndex('refresh_tokens_family').on('refresh_tokens').column('family_id').execute();

    await db.schema
      .createTable('device_codes')
      .addColumn('device_code_hash', 'text', (c) => c.primaryKey())
      .addColumn('user_code_hash', 'text', (c) => c.notNull().unique())
      .addColumn('client_id', 'text', (c) => c.notNull())
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('interval_seconds', 'integer', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('last_poll_at', 'bigint')
      // pending → approved | denied → redeemed
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text')
      .addColumn('auth_time', 'bigint')
      .addColumn('amr', 'text')
      .execute();
    await db.schema.createIndex('device_codes_expires_at').on('device_codes').column('expires_at').execute();

    await db.schema
      .createTable('signin_revocations')
      .addColumn('user_id', 'text', (c) => c.primaryKey())
      .addColumn('valid_from', 'bigint', (c) => c.notNull())
      .execute();
  },
};
