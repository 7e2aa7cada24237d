// 0011_totp: a second factor per user — TOTP (RFC 6238) — and the policy saying who must use one.
//
//  - user_totp: one software OATH method per user (Graph's softwareOathAuthenticationMethod),
//    `pending` from enrolment until a valid code confirms it, then `active`. The shared secret
//    is envelope-encrypted (src/crypto/envelope.ts, bound to the user and method id), never
//    stored in the clear. `last_step` is the highest RFC 6238 time step accepted so far: RFC
//    6238 §5.2 says a verifier "MUST NOT accept the second attempt of the OTP after the
//    successful validation has been issued for the first OTP", and a compare-and-set on this
//    column enforces it across every replica on one PostgreSQL.
//  - mfa_requirements: principals (users, or groups — applied to their transitive members) for
//    whom a second factor is required, as Entra's per-user MFA state "enforced" and a
//    Conditional Access policy naming groups.
import type { Kysely, Migration } from 'kysely';

export const totpMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('user_totp')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().unique())
      .addColumn('secret', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('activated_at', 'text')
      .addColumn('last_step', 'bigint')
      .execute();
    await db.schema
      .createTable('mfa_requirements')
      .addColumn('principal_id', 'text', (c) => c.primaryKey())
      .addColumn('principal_type', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
  },
};
