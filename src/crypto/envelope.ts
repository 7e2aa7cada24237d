// Envelope encryption, as Vault/OpenBao's barrier does it: values are sealed with AES-256-GCM
// under per-purpose data keys; data keys are stored wrapped (AES-256-GCM) by the KEK, which
// never enters the database. Every ciphertext names its data key, and associated data binds
// it to what it belongs to (a secret's vault/name/version, a server key's name), so a
// ciphertext copied onto another row fails to decrypt instead of yielding the wrong value.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { UnavailableError, InternalError, StartupError } from '../errors.js';
import type { Repos, Storage } from '../storage/storage.js';
import type { DataKeyRow } from '../storage/repos/data-key-repo.js';
import type { MasterKey } from './master-key.js';

const FORMAT = 'kh1';
const IV_BYTES = 12; // NIST SP 800-38D §8.2: 96-bit IVs, random, one key never near 2^32 uses here.

export const SETTING_KEK_ID = 'kek_id';
export const SETTING_KEK_PREVIOUS_ID = 'kek_previous_id';
export const SETTING_KEK_ROTATED_AT = 'kek_rotated_at';

function seal(key: Buffer, plaintext: Buffer, aad: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return [iv, ct, cipher.getAuthTag()].map((b) => b.toString('base64url')).join('.');
}

/** Returns undefined when authentication fails (wrong key, altered data, wrong context). */
function open(key: Buffer, sealed: string, aad: string): Buffer | undefined {
  const parts = sealed.split('.');
  if (parts.length !== 3) return undefined;
  const [iv, ct, tag] = parts.map((p) => Buffer.from(p, 'base64url')) as [Buffer, Buffer, Buffer];
  if (iv.length !== IV_BYTES || tag.length !== 16) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ct), decipher.final()]);
  } catch {
    return undefined;
  }
}

const dataKeyAad = (row: Pick<DataKeyRow, 'id' | 'purpose'>) => `keyhaven/data-key/v1|${row.id}|${row.purpose}`;

export function wrapDataKey(kek: MasterKey, row: Pick<DataKeyRow, 'id' | 'purpose'>, dataKey: Buffer): string {
  return seal(kek.key, dataKey, dataKeyAad(row));
}

export function unwrapDataKey(kek: MasterKey, row: Pick<DataKeyRow, 'id' | 'purpose' | 'wrapped'>): Buffer | undefined {
  return open(kek.key, row.wrapped, dataKeyAad(row));
}

/**
 * Checks that `kek` is the key this database is wrapped under (recording it on first use),
 * with a message that says which case it is: another key, or the old key after a rotation.
 */
export async function checkMasterKey(repos: Repos, kek: MasterKey): Promise<void> {
  const stored = await repos.settings.setIfAbsent(SETTING_KEK_ID, kek.id);
  if (stored === kek.id) return;
  const previous = await repos.settings.get(SETTING_KEK_PREVIOUS_ID);
  if (previous === kek.id) {
    const at = await repos.settings.get(SETTING_KEK_ROTATED_AT);
    throw new StartupError(
      'KH_MASTER_KEY_ROTATED',
      `master key ${kek.file} (id ${kek.id}) was replaced by key ${stored}${at ? ` on ${at}` : ''}: install the new master key file on this server`,
    );
  }
  throw new StartupError(
    'KH_MASTER_KEY_MISMATCH',
    `master key ${kek.file} (id ${kek.id}) is not the key this database is wrapped under (id ${stored})`,
  );
}

export class Envelope {
  readonly #storage: Storage;
  readonly #kek: MasterKey;
  readonly #keys = new Map<string, { key: Buffer; purpose: string }>();
  readonly #current = new Map<string, string>();

  private constructor(storage: Storage, kek: MasterKey) {
    this.#storage = storage;
    this.#kek = kek;
  }

  /** Verifies the KEK against the database and unwraps every data key into memory. */
  static async open(storage: Storage, kek: MasterKey): Promise<Envelope> {
    await checkMasterKey(storage.read, kek);
    const envelope = new Envelope(storage, kek);
    for (const row of await storage.read.dataKeys.all()) envelope.#remember(row);
    return envelope;
  }

  get masterKeyId(): string {
    return this.#kek.id;
  }

  #remember(row: DataKeyRow): void {
    const key = unwrapDataKey(this.#kek, row);
    if (!key) {
      throw new StartupError('KH_DATA_KEY_UNWRAP_FAILED', `data key ${row.id} cannot be unwrapped with master key ${this.#kek.id}: the key or the database was altered`);
    }
    this.#keys.set(row.id, { key, purpose: row.purpose });
    this.#current.set(row.purpose, row.id); // rows arrive oldest first, so the newest wins
  }

  /** The data key for `purpose`, creating it (wrapped under the KEK) the first time. */
  async #dataKey(purpose: string): Promise<string> {
    const known = this.#current.get(purpose);
    if (known) return known;
    const row = await this.#storage.transaction(async (tx) => {
      // A rotation by another process re-wraps every key; a key we added now under the old
      // KEK would be unreadable by everyone holding the new one.
      if ((await tx.settings.get(SETTING_KEK_ID)) !== this.#kek.id) {
        throw new UnavailableError('KH_MASTER_KEY_ROTATED', 'the master key was rotated: restart this server with the new master key');
      }
      const existing = await tx.dataKeys.current(purpose);
      if (existing) return existing;
      const id = `dk_${randomBytes(8).toString('hex')}`;
      const fresh = { id, purpose, kek_id: this.#kek.id, created_at: new Date().toISOString(), wrapped: '' };
      fresh.wrapped = wrapDataKey(this.#kek, fresh, randomBytes(32));
      await tx.dataKeys.insert(fresh);
      return fresh;
    });
    this.#remember(row);
    return row.id;
  }

  /** Seals `plaintext` for `purpose`; `context` names what it belongs to and must be given again to open it. */
  async encrypt(purpose: string, plaintext: Buffer | string, context: string): Promise<string> {
    const id = await this.#dataKey(purpose);
    const { key } = this.#keys.get(id)!;
    const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
    return `${FORMAT}.${id}.${seal(key, data, `${FORMAT}|${id}|${purpose}|${context}`)}`;
  }

  async decrypt(ciphertext: string, context: string): Promise<Buffer> {
    const [format, id, ...rest] = ciphertext.split('.');
    let entry = id === undefined ? undefined : this.#keys.get(id);
    if (format === FORMAT && id !== undefined && !entry) {
      // Another replica may have created this data key after we started.
      const row = await this.#storage.read.dataKeys.get(id);
      if (row) {
        this.#remember(row);
        entry = this.#keys.get(id);
      }
    }
    if (format !== FORMAT || !entry) {
      throw new InternalError('KH_CIPHERTEXT_UNKNOWN_KEY', 'ciphertext names an unknown data key');
    }
    const plain = open(entry.key, rest.join('.'), `${FORMAT}|${id}|${entry.purpose}|${context}`);
    if (!plain) throw new InternalError('KH_CIPHERTEXT_INVALID', 'ciphertext failed authentication');
    return plain;
  }
}
