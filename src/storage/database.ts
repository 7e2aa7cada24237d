// Table shapes, shared by both engines. Portable column types only: text, integer, bigint.
// Binary values are stored base64 (they are all small: wrapped keys, ciphertexts), times as
// ISO-8601 UTC text (sortable as text on both engines), booleans as 0/1.
import type { Generated } from 'kysely';

export interface SettingsTable {
  name: string;
  value: string;
}

/** Data keys, each wrapped (AES-256-GCM) by the KEK; the KEK itself never reaches the database. */
export interface DataKeysTable {
  id: string;
  purpose: string;
  wrapped: string;
  kek_id: string;
  created_at: string;
}

/** Server-held secrets (HMAC key, audit key, signing keys), encrypted under a data key. */
export interface ServerSecretsTable {
  name: string;
  ciphertext: string;
  created_at: string;
}

export interface AuditRecordsTable {
  seq: number;
  time: string;
  actor: string;
  source: string;
  action: string;
  target: string;
  outcome: string;
  correlation_id: string;
  details: string;
  mac: string;
}

/** One row (id = 1): the last record's sequence number and MAC, so a cut tail is detectable. */
export interface AuditHeadTable {
  id: number;
  seq: number;
  mac: string;
}

export interface UsersTable {
  id: string;
  username: string;
  user_principal_name: string;
  display_name: string;
  password_hash: string | null;
  account_enabled: number;
  created_at: string;
  updated_at: string;
  /** Optimistic concurrency: bumped by every update; an update naming a stale version fails. */
  version: Generated<number>;
}

export interface Database {
  settings: SettingsTable;
  data_keys: DataKeysTable;
  server_secrets: ServerSecretsTable;
  audit_records: AuditRecordsTable;
  audit_head: AuditHeadTable;
  users: UsersTable;
}
