// The token signing keys: RSA 2048 for RS256 (RFC 7518 §3.3), created on first use and kept
// sealed in the database through ServerSecrets, so every replica given the same database and KEK
// signs with the same key and publishes the same JWKS (DESIGN.md, "Where state lives").
//
// Layout in server secrets (records there are write-once, first writer wins):
//   token-signing-key/<kid>   the private key, PKCS#8 DER
//   token-signing-keys/<n>    generation n of the index: JSON {kid, createdAt}
// The highest generation is the current key. Rotation appends generation n+1; when two replicas
// rotate at once, the insert-if-absent of the index record picks one winner and the loser adopts
// it (its own key record stays unused). An older key stays published, and accepted for
// verification, for `retainPreviousMs` after its successor was created — longer than any token
// it signed can live (90 minutes plus clock skew), as Entra keeps a rolled-over key in its JWKS.
import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { calculateJwkThumbprint } from 'jose';
import { InternalError } from '../errors.js';

/** What the signing keys need from ServerSecrets (src/keys/server-secrets.ts). */
export interface SecretStore {
  getOrCreate(name: string, create: () => Buffer): Promise<Buffer>;
}

/** RFC 7517 §4 / RFC 7518 §6.3.1: the public members only — never d, p, q, dp, dq, qi. */
export interface PublicSigningJwk {
  kty: 'RSA';
  n: string;
  e: string;
  kid: string;
  use: 'sig';
  alg: 'RS256';
}

export interface SigningKeyInfo {
  kid: string;
  createdAt: string;
  generation: number;
  /** current: signs new tokens; previous: published for verification; retired: neither. */
  status: 'current' | 'previous' | 'retired';
}

export interface SigningKeysOptions {
  /** How long a replaced key stays published. Default 24 h (tokens live at most 90 min). */
  retainPreviousMs?: number;
  /** How often a replica looks for a rotation made by another replica. Default 60 s. */
  refreshIntervalMs?: number;
  /** Least time between refreshes caused by an unknown `kid` (callers choose kids). Default 10 s. */
  unknownKidRefreshMs?: number;
  now?: () => number;
}

interface IndexRecord {
  kid: string;
  createdAt: string;
}

interface LoadedKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  jwk: PublicSigningJwk;
}

const KEY_PREFIX = 'token-signing-key/';
const INDEX_PREFIX = 'token-signing-keys/';
const generateRsa = promisify(generateKeyPair);

/** Marks a probe: ServerSecrets only calls `create` when the name is absent, and stores nothing if it throws. */
const ABSENT = Symbol('absent');

export class SigningKeys {
  readonly #secrets: SecretStore;
  readonly #retainMs: number;
  readonly #refreshMs: number;
  readonly #unknownKidMs: number;
  readonly #now: () => number;
  readonly #index: IndexRecord[] = [];
  readonly #keys = new Map<string, LoadedKey>();
  #refreshedAt = -Infinity;
  #refreshing: Promise<void> | undefined;

  private constructor(secrets: SecretStore, options: SigningKeysOptions) {
    this.#secrets = secrets;
    this.#retainMs = options.retainPreviousMs ?? 24 * 3600_000;
    this.#refreshMs = options.refreshIntervalMs ?? 60_000;
    this.#unknownKidMs = options.unknownKidRefreshMs ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /** Loads the keys, creating the first one when the database has none. */
  static async open(secrets: SecretStore, options: SigningKeysOptions = {}): Promise<SigningKeys> {
    const keys = new SigningKeys(secrets, options);
    await keys.#refresh();
    if (keys.#index.length === 0) await keys.rotate();
    return keys;
  }

  /** The key that signs new tokens. */
  async current(): Promise<{ kid: string; privateKey: KeyObject }> {
    if (this.#now() - this.#refreshedAt >= this.#refreshMs) await this.#refresh();
    const record = this.#index[this.#index.length - 1]!;
    return { kid: record.kid, privateKey: this.#loaded(record.kid).privateKey };
  }

  /** The public key for `kid` when it is published (current or previous), else undefined. */
  async publicKey(kid: string): Promise<KeyObject | undefined> {
    let generation = this.#index.findIndex((r) => r.kid === kid);
    if (generation < 0 && this.#now() - this.#refreshedAt >= this.#unknownKidMs) {
      await this.#refresh(); // a key another replica has just rotated in
      generation = this.#index.findIndex((r) => r.kid === kid);
    }
    if (generation < 0 || this.#status(generation) === 'retired') return undefined;
    return this.#keys.get(kid)?.publicKey;
  }

  /** The JWK Set (RFC 7517 §5) served at `/{tenant}/discovery/v2.0/keys`: newest first. */
  async jwks(): Promise<{ keys: PublicSigningJwk[] }> {
    if (this.#now() - this.#refreshedAt >= this.#refreshMs) await this.#refresh();
    const keys: PublicSigningJwk[] = [];
    for (let g = this.#index.length - 1; g >= 0; g--) {
      if (this.#status(g) === 'retired') break; // older generations retired even earlier
      keys.push({ ...this.#loaded(this.#index[g]!.kid).jwk });
    }
    return { keys };
  }

  async list(): Promise<SigningKeyInfo[]> {
    await this.#refresh();
    return this.#index.map((r, generation) => ({ ...r, generation, status: this.#status(generation) }));
  }

  /** Adds a new current key; the replaced one stays published for `retainPreviousMs`. */
  async rotate(): Promise<SigningKeyInfo> {
    await this.#refresh();
    const generation = this.#index.length;
    const { privateKey } = await generateRsa('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
    const der = privateKey.export({ format: 'der', type: 'pkcs8' });
    const kid = await thumbprint(privateKey);
    // Key first, then the index record naming it: a crash in between leaves an unused key
    // record, never an index entry without its key.
    await this.#secrets.getOrCreate(KEY_PREFIX + kid, () => der);
    const record = JSON.stringify({ kid, createdAt: new Date(this.#now()).toISOString() } satisfies IndexRecord);
    await this.#secrets.getOrCreate(`${INDEX_PREFIX}${generation}`, () => Buffer.from(record, 'utf8'));
    await this.#refresh();
    const list = await this.list();
    return list[list.length - 1]!;
  }

  #status(generation: number): SigningKeyInfo['status'] {
    const successor = this.#index[generation + 1];
    if (!successor) return 'current';
    return this.#now() < Date.parse(successor.createdAt) + this.#retainMs ? 'previous' : 'retired';
  }

  #loaded(kid: string): LoadedKey {
    const key = this.#keys.get(kid);
    if (!key) throw new InternalError('KH_SIGNING_KEY_CORRUPT', `signing key ${kid} is not loaded`);
    return key;
  }

  /** Reads index generations not seen yet (records never change, so only new ones). One at a time. */
  #refresh(): Promise<void> {
    this.#refreshing ??= this.#readNewGenerations().finally(() => (this.#refreshing = undefined));
    return this.#refreshing;
  }

  async #readNewGenerations(): Promise<void> {
    for (;;) {
      const raw = await this.#probe(`${INDEX_PREFIX}${this.#index.length}`);
      if (!raw) break;
      const record = parseIndexRecord(raw, this.#index.length);
      this.#index.push(record);
    }
    // Load every key still published (and the current one); retired keys are never loaded.
    for (let g = this.#index.length - 1; g >= 0; g--) {
      if (g < this.#index.length - 1 && this.#status(g) === 'retired') break;
      const { kid } = this.#index[g]!;
      if (this.#keys.has(kid)) continue;
      const der = await this.#probe(KEY_PREFIX + kid);
      if (!der) throw new InternalError('KH_SIGNING_KEY_CORRUPT', `signing key ${kid} is named in the key index but not stored`);
      this.#keys.set(kid, await importSigningKey(der, kid));
    }
    this.#refreshedAt = this.#now();
  }

  async #probe(name: string): Promise<Buffer | undefined> {
    try {
      return await this.#secrets.getOrCreate(name, () => {
        throw ABSENT;
      });
    } catch (err) {
      if (err === ABSENT) return undefined;
      throw err;
    }
  }
}

function parseIndexRecord(raw: Buffer, generation: number): IndexRecord {
  try {
    const value = JSON.parse(raw.toString('utf8')) as Partial<IndexRecord>;
    if (typeof value.kid === 'string' && typeof value.createdAt === 'string' && !Number.isNaN(Date.parse(value.createdAt))) {
      return { kid: value.kid, createdAt: value.createdAt };
    }
  } catch {
    /* reported below */
  }
  throw new InternalError('KH_SIGNING_KEY_CORRUPT', `signing key index generation ${generation} is unreadable`);
}

/** RFC 7638 JWK thumbprint (SHA-256, base64url) of the public key: a `kid` every replica derives alike. */
async function thumbprint(key: KeyObject): Promise<string> {
  const { kty, n, e } = createPublicKey(key).export({ format: 'jwk' });
  return calculateJwkThumbprint({ kty: kty!, n: n!, e: e! }, 'sha256');
}

async function importSigningKey(der: Buffer, kid: string): Promise<LoadedKey> {
  const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  const bits = privateKey.asymmetricKeyDetails?.modulusLength ?? 0;
  if (privateKey.asymmetricKeyType !== 'rsa' || bits < 2048 || (await thumbprint(privateKey)) !== kid) {
    throw new InternalError('KH_SIGNING_KEY_CORRUPT', `signing key ${kid} does not match its kid or is not RSA-2048+`);
  }
  const publicKey = createPublicKey(privateKey);
  const { n, e } = publicKey.export({ format: 'jwk' });
  // Built member by member, so no private member can ever slip into the JWKS.
  return { privateKey, publicKey, jwk: { kty: 'RSA', n: n!, e: e!, kid, use: 'sig', alg: 'RS256' } };
}
