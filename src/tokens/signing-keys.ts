// The token signing keys: RSA 2048 for RS256 (RFC 7518 §3.3), each with a lifecycle kept in the
// database (table signing_keys, migration 0008), so every replica on one database publishes the
// same JWKS and signs with the same key (DESIGN.md, "Where state lives"):
//
//   pending   published in the JWKS, not signing yet — relying parties that cache the JWKS
//             (Entra asks them to refresh it daily) learn the key before any token names it,
//             as Entra publishes a key ahead of using it ("Signing key rollover in the
//             Microsoft identity platform");
//   active    signs new tokens (exactly one);
//   retired   signs nothing, still published until every token it signed has expired
//             (retirement + the longest token lifetime + the verifiers' clock skew + one refresh
//             interval, for a replica still signing with it before it re-reads), then removed.
//
// Transitions follow the clock (the injected `now`): a pending key becomes active at its
// `activates_at`, a retired key leaves at its `removes_at`, and with a rotation period the next
// key is published `prepublishMs` before the active one is due to be replaced. They are made in
// one transaction under a lock every replica takes (SigningKeyRepo.lockTransitions), after
// re-reading the rows under it, so two replicas never both create a key; the state is announced
// on PostgreSQL (LISTEN/NOTIFY) and re-read on an interval, so a replica follows another's (or
// an admin's) change at once, or at worst within `refreshIntervalMs`.
//
// The private key is stored only sealed by the envelope (AES-256-GCM under a data key wrapped
// by the KEK), bound to its kid; the JWKS is built member by member from the public key.
import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { calculateJwkThumbprint } from 'jose';
import { ConflictError, InternalError } from '../errors.js';
import type { Envelope } from '../crypto/envelope.js';
import type { SigningKeyState } from '../storage/database.js';
import { SIGNING_KEYS_CHANNEL, type SigningKeyRow } from '../storage/repos/signing-key-repo.js';
import type { Storage } from '../storage/storage.js';

export type { SigningKeyState } from '../storage/database.js';

/** What the legacy key layout needs from ServerSecrets (src/keys/server-secrets.ts). */
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
  state: SigningKeyState;
  createdAt: string;
  /** pending: when it starts signing; active, retired: when it did. */
  activatesAt: string;
  retiredAt?: string;
  /** retired: when it leaves the JWKS. */
  removesAt?: string;
}

/** What changed in one transition, for the audit record (kids only: public). */
export interface SigningKeyTransition {
  reason: 'bootstrap' | 'schedule' | 'rotate' | 'rotate-now';
  published?: string;
  activated?: string;
  retired: string[];
  removed: string[];
}

export interface SigningKeyPolicy {
  /** Scheduled rotation: an active key is replaced this long after it started signing. 0: only on demand. */
  rotationMs: number;
  /** How long a new key is published before it signs. */
  prepublishMs: number;
  /** How long a retired key stays published (see the file comment). */
  retainMs: number;
}

export interface SigningKeysOptions extends Partial<SigningKeyPolicy> {
  /** How often a replica re-reads the keys (on PostgreSQL also told at once by NOTIFY). Default 60 s. */
  refreshIntervalMs?: number;
  /** Least time between re-reads caused by an unknown `kid` (callers choose kids). Default 10 s. */
  unknownKidRefreshMs?: number;
  now?: () => number;
  /** Called after a transition this process made has committed (the audit record). */
  onTransition?: (transition: SigningKeyTransition) => Promise<void>;
  /** The key layout before migration 0008 (server secrets), adopted as the first active key. */
  legacySecrets?: SecretStore;
}

export interface RotateOptions {
  /** Sign with the new key at once (emergency), retiring the active one. */
  immediate?: boolean;
  /** With `immediate`: remove every earlier key from the JWKS at once; the tokens they signed stop verifying. */
  revokePrevious?: boolean;
}

/** The storage the keys need: reads, transactions and (PostgreSQL) the change channel. */
export type SigningKeyStorage = Pick<Storage, 'read' | 'transaction' | 'watchChannel'>;

interface LoadedKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  jwk: PublicSigningJwk;
}

/** A key made (or adopted) outside the transaction: RSA generation and sealing take time and their own I/O. */
interface FreshKey {
  kid: string;
  sealed: string;
  createdAt: number;
}

interface Plan {
  remove: string[];
  activate?: string;
  /** Every active key other than the one that stays (normally the one being replaced). */
  retire: string[];
  create?: { state: 'active' | 'pending'; activatesAt: number };
}

const PURPOSE = 'token-signing-keys';
const sealContext = (kid: string) => `token-signing-key|${kid}`;
const generateRsa = promisify(generateKeyPair);
const DAY_MS = 24 * 3600_000;

// The layout before 0008 (server secrets): token-signing-key/<kid> and token-signing-keys/<n>.
const LEGACY_KEY_PREFIX = 'token-signing-key/';
const LEGACY_INDEX_PREFIX = 'token-signing-keys/';
const ABSENT = Symbol('absent');

export class SigningKeys {
  readonly #storage: SigningKeyStorage;
  readonly #envelope: Envelope;
  readonly #policy: SigningKeyPolicy;
  readonly #refreshMs: number;
  readonly #unknownKidMs: number;
  readonly #now: () => number;
  readonly #onTransition: SigningKeysOptions['onTransition'];
  readonly #legacy: SecretStore | undefined;
  #rows: SigningKeyRow[] = [];
  readonly #keys = new Map<string, LoadedKey>();
  #refreshedAt = -Infinity;
  #unknownKidAt = -Infinity;
  /** The next time a transition falls due by the clock alone. */
  #nextBoundary = Infinity;
  #stale = false;
  #syncing: Promise<void> | undefined;

  private constructor(storage: SigningKeyStorage, envelope: Envelope, options: SigningKeysOptions) {
    this.#storage = storage;
    this.#envelope = envelope;
    this.#refreshMs = options.refreshIntervalMs ?? 60_000;
    this.#policy = {
      rotationMs: options.rotationMs ?? 30 * DAY_MS,
      prepublishMs: options.prepublishMs ?? 2 * DAY_MS,
      // 90-minute tokens + 5 minutes' skew + one refresh interval, rounded up generously.
      retainMs: options.retainMs ?? 2 * 3600_000,
    };
    for (const [name, value] of Object.entries(this.#policy)) {
      if (!Number.isFinite(value) || value < 0) throw new RangeError(`signing key ${name} must be a finite number >= 0`);
    }
    this.#unknownKidMs = options.unknownKidRefreshMs ?? 10_000;
    this.#now = options.now ?? Date.now;
    this.#onTransition = options.onTransition;
    this.#legacy = options.legacySecrets;
  }

  /** Loads the keys, creating (or adopting) the first one when the database has none. */
  static async open(storage: SigningKeyStorage, envelope: Envelope, options: SigningKeysOptions = {}): Promise<SigningKeys> {
    const keys = new SigningKeys(storage, envelope, options);
    await keys.#sync();
    return keys;
  }

  /**
   * PostgreSQL: re-read as soon as another replica (or an admin command) announces a change.
   * The listening connection closes with the storage.
   */
  async watch(): Promise<void> {
    await this.#storage.watchChannel(SIGNING_KEYS_CHANNEL, () => {
      this.#stale = true;
    });
  }

  /** The key that signs new tokens. */
  async current(): Promise<{ kid: string; privateKey: KeyObject }> {
    await this.#fresh();
    const active = this.#active();
    if (!active) throw new InternalError('KH_SIGNING_KEY_CORRUPT', 'no signing key is active');
    return { kid: active.kid, privateKey: this.#loaded(active.kid).privateKey };
  }

  /** The public key for `kid` when it is published (pending, active or retired), else undefined. */
  async publicKey(kid: string): Promise<KeyObject | undefined> {
    await this.#fresh();
    if (!this.#published().some((r) => r.kid === kid) && this.#now() - this.#unknownKidAt >= this.#unknownKidMs) {
      this.#unknownKidAt = this.#now();
      await this.#sync(); // a key another replica has just published
    }
    return this.#published().some((r) => r.kid === kid) ? this.#keys.get(kid)?.publicKey : undefined;
  }

  /**
   * The JWK Set (RFC 7517 §5) served at `/{tenant}/discovery/v2.0/keys` and `/adfs/discovery/keys`:
   * the active key first (clients that take the first key get the signing one), then the
   * pending key, then retired keys, newest first.
   */
  async jwks(): Promise<{ keys: PublicSigningJwk[] }> {
    await this.#fresh();
    const order: Record<SigningKeyState, number> = { active: 0, pending: 1, retired: 2 };
    const rows = [...this.#published()].sort((a, b) => order[a.state] - order[b.state] || b.activates_at - a.activates_at);
    return { keys: rows.map((r) => ({ ...this.#loaded(r.kid).jwk })) };
  }

  /** Every key still stored (re-read now), oldest first. */
  async list(): Promise<SigningKeyInfo[]> {
    await this.#sync();
    return this.#rows.map(info);
  }

  /**
   * Rotates now. By default the new key is published at once and signs after the
   * pre-publication interval (an error if a key is pending already); `immediate` makes it
   * sign at once. Returns every key afterwards.
   */
  async rotate(options: RotateOptions = {}): Promise<SigningKeyInfo[]> {
    const fresh = await this.#generate();
    const now = this.#now();
    const transition: SigningKeyTransition = { reason: options.immediate ? 'rotate-now' : 'rotate', published: fresh.kid, retired: [], removed: [] };
    await this.#storage.transaction(async (tx) => {
      await tx.signingKeys.lockTransitions();
      const rows = await tx.signingKeys.all();
      if (!options.immediate) {
        const pending = rows.find((r) => r.state === 'pending');
        if (pending) {
          throw new ConflictError(
            'KH_SIGNING_KEY_ROTATION_PENDING',
            `signing key ${pending.kid} is already published and starts signing at ${iso(pending.activates_at)}; rotate with --now to switch at once`,
          );
        }
        await tx.signingKeys.insert(newRow(fresh, 'pending', now + this.#policy.prepublishMs));
      } else {
        for (const row of rows) {
          if (row.state === 'pending' || (options.revokePrevious && row.state === 'retired')) {
            await tx.signingKeys.delete(row.kid);
            transition.removed.push(row.kid);
          } else if (row.state === 'active') {
            if (options.revokePrevious) {
              await tx.signingKeys.delete(row.kid);
              transition.removed.push(row.kid);
            } else {
              await tx.signingKeys.setState(row.kid, 'retired', { retired_at: now, removes_at: now + this.#policy.retainMs });
              transition.retired.push(row.kid);
            }
          }
        }
        await tx.signingKeys.insert(newRow(fresh, 'active', now));
        transition.activated = fresh.kid;
      }
      await tx.signingKeys.announce();
    });
    await this.#onTransition?.(transition);
    await this.#sync();
    return this.#rows.map(info);
  }

  #active(): SigningKeyRow | undefined {
    return this.#rows.filter((r) => r.state === 'active').at(-1);
  }

  /** Published now, by the local clock: a retired key leaves at its removes_at even before a re-read. */
  #published(): SigningKeyRow[] {
    const now = this.#now();
    return this.#rows.filter((r) => r.state !== 'retired' || (r.removes_at ?? 0) > now);
  }

  #loaded(kid: string): LoadedKey {
    const key = this.#keys.get(kid);
    if (!key) throw new InternalError('KH_SIGNING_KEY_CORRUPT', `signing key ${kid} is not loaded`);
    return key;
  }

  /** Re-reads when told to, when the interval has passed, or when a transition is due by the clock. */
  async #fresh(): Promise<void> {
    const now = this.#now();
    if (this.#stale || now >= this.#nextBoundary || now - this.#refreshedAt >= this.#refreshMs) await this.#sync();
  }

  /** Reads the rows, makes the transitions that are due, loads the published keys. One at a time. */
  #sync(): Promise<void> {
    this.#syncing ??= this.#doSync().finally(() => (this.#syncing = undefined));
    return this.#syncing;
  }

  async #doSync(): Promise<void> {
    this.#stale = false;
    const now = this.#now();
    let rows = await this.#storage.read.signingKeys.all();
    let outside = plan(rows, now, this.#policy);
    if (hasWork(outside)) {
      // Made before the transaction (slow, and sealing may write a data key itself); unused
      // if another replica made the transition first.
      const fresh = outside.create ? ((rows.length === 0 ? await this.#adoptLegacy() : undefined) ?? (await this.#generate())) : undefined;
      let transition: SigningKeyTransition | undefined;
      rows = await this.#storage.transaction(async (tx) => {
        await tx.signingKeys.lockTransitions();
        const current = await tx.signingKeys.all();
        const inside = plan(current, now, this.#policy);
        if (inside.create && !fresh) delete inside.create; // made on the next sync
        if (!hasWork(inside)) return current;
        transition = { reason: current.length === 0 ? 'bootstrap' : 'schedule', retired: [], removed: [] };
        for (const kid of inside.remove) {
          await tx.signingKeys.delete(kid);
          transition.removed.push(kid);
        }
        for (const kid of inside.retire) {
          await tx.signingKeys.setState(kid, 'retired', { retired_at: now, removes_at: now + this.#policy.retainMs });
          transition.retired.push(kid);
        }
        if (inside.activate !== undefined) {
          const row = current.find((r) => r.kid === inside.activate)!;
          await tx.signingKeys.setState(row.kid, 'active', { activates_at: Math.min(row.activates_at, now) });
          transition.activated = row.kid;
        }
        if (inside.create && fresh) {
          await tx.signingKeys.insert(newRow(fresh, inside.create.state, inside.create.activatesAt));
          transition.published = fresh.kid;
          if (inside.create.state === 'active') transition.activated = fresh.kid;
        }
        await tx.signingKeys.announce();
        return tx.signingKeys.all();
      });
      if (transition) await this.#onTransition?.(transition);
      outside = plan(rows, now, this.#policy);
      if (outside.create) this.#stale = true; // a key was not ready in time: make it next time
    }
    await this.#load(rows, now);
  }

  async #load(rows: SigningKeyRow[], now: number): Promise<void> {
    const live = new Set<string>();
    for (const row of rows) {
      live.add(row.kid);
      if (this.#keys.has(row.kid)) continue;
      const der = await this.#envelope.decrypt(row.private_key, sealContext(row.kid));
      this.#keys.set(row.kid, await importSigningKey(der, row.kid));
    }
    // Removed keys leave memory too: the private key of a retired key is not kept around.
    for (const kid of [...this.#keys.keys()]) if (!live.has(kid)) this.#keys.delete(kid);
    this.#rows = rows;
    this.#refreshedAt = now;
    this.#nextBoundary = nextBoundary(rows, this.#policy);
  }

  async #generate(): Promise<FreshKey> {
    const { privateKey } = await generateRsa('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
    const der = privateKey.export({ format: 'der', type: 'pkcs8' });
    const kid = await thumbprint(privateKey);
    return { kid, sealed: await this.#envelope.encrypt(PURPOSE, der, sealContext(kid)), createdAt: this.#now() };
  }

  /** The newest key of the layout before 0008, so that tokens it signed keep verifying after the upgrade. */
  async #adoptLegacy(): Promise<FreshKey | undefined> {
    if (!this.#legacy) return undefined;
    let latest: { kid: string; createdAt: string } | undefined;
    for (let generation = 0; ; generation++) {
      const raw = await probe(this.#legacy, `${LEGACY_INDEX_PREFIX}${generation}`);
      if (!raw) break;
      try {
        latest = JSON.parse(raw.toString('utf8')) as { kid: string; createdAt: string };
      } catch {
        throw new InternalError('KH_SIGNING_KEY_CORRUPT', `signing key index generation ${generation} is unreadable`);
      }
    }
    if (!latest || typeof latest.kid !== 'string') return undefined;
    const der = await probe(this.#legacy, LEGACY_KEY_PREFIX + latest.kid);
    if (!der) throw new InternalError('KH_SIGNING_KEY_CORRUPT', `signing key ${latest.kid} is named in the key index but not stored`);
    await importSigningKey(der, latest.kid); // checks it before it is adopted
    const createdAt = Date.parse(latest.createdAt);
    return { kid: latest.kid, sealed: await this.#envelope.encrypt(PURPOSE, der, sealContext(latest.kid)), createdAt: Number.isNaN(createdAt) ? this.#now() : createdAt };
  }
}

/** The transitions due at `now` (a pure function of the rows, so every replica plans alike). */
export function plan(rows: readonly SigningKeyRow[], now: number, policy: SigningKeyPolicy): Plan {
  const remove = rows.filter((r) => r.state === 'retired' && (r.removes_at ?? 0) <= now).map((r) => r.kid);
  const active = rows.filter((r) => r.state === 'active').sort((a, b) => a.activates_at - b.activates_at);
  const pending = rows.filter((r) => r.state === 'pending').sort((a, b) => a.activates_at - b.activates_at);
  const result: Plan = { remove, retire: [] };
  // Nothing can sign without an active key: a pending one starts now, or a first key is made.
  const due = pending.filter((r) => r.activates_at <= now).at(-1) ?? (active.length === 0 ? pending[0] : undefined);
  if (due) {
    result.activate = due.kid;
    result.retire = active.map((r) => r.kid);
  } else if (active.length === 0) {
    result.create = { state: 'active', activatesAt: now };
  } else if (active.length > 1) {
    result.retire = active.slice(0, -1).map((r) => r.kid); // never two signing at once
  }
  const signing = due ?? active.at(-1);
  const stillPending = pending.filter((r) => r.kid !== due?.kid);
  if (signing && stillPending.length === 0 && policy.rotationMs > 0) {
    // A key activated now counts from when it was due (as every replica records it).
    const replaceAt = (due ? Math.min(due.activates_at, now) : signing.activates_at) + policy.rotationMs;
    if (replaceAt - policy.prepublishMs <= now) result.create = { state: 'pending', activatesAt: Math.max(replaceAt, now + policy.prepublishMs) };
  }
  return result;
}

function hasWork(p: Plan): boolean {
  return p.remove.length > 0 || p.activate !== undefined || p.create !== undefined || p.retire.length > 0;
}

/** When the next transition falls due by time alone, so a replica makes (or sees) it on time. */
function nextBoundary(rows: readonly SigningKeyRow[], policy: SigningKeyPolicy): number {
  let next = Infinity;
  for (const r of rows) {
    if (r.state === 'pending') next = Math.min(next, r.activates_at);
    if (r.state === 'retired') next = Math.min(next, r.removes_at ?? 0);
  }
  const active = rows.filter((r) => r.state === 'active').at(-1);
  if (active && policy.rotationMs > 0 && !rows.some((r) => r.state === 'pending')) {
    next = Math.min(next, active.activates_at + policy.rotationMs - policy.prepublishMs);
  }
  return next;
}

function newRow(fresh: FreshKey, state: 'active' | 'pending', activatesAt: number): SigningKeyRow {
  return { kid: fresh.kid, state, private_key: fresh.sealed, created_at: fresh.createdAt, activates_at: activatesAt, retired_at: null, removes_at: null };
}

function info(r: SigningKeyRow): SigningKeyInfo {
  return {
    kid: r.kid,
    state: r.state,
    createdAt: iso(r.created_at),
    activatesAt: iso(r.activates_at),
    ...(r.retired_at !== null ? { retiredAt: iso(r.retired_at) } : {}),
    ...(r.removes_at !== null ? { removesAt: iso(r.removes_at) } : {}),
  };
}

const iso = (ms: number) => new Date(ms).toISOString();

async function probe(secrets: SecretStore, name: string): Promise<Buffer | undefined> {
  try {
    return await secrets.getOrCreate(name, () => {
      throw ABSENT; // ServerSecrets calls `create` only for an absent name, and stores nothing if it throws
    });
  } catch (err) {
    if (err === ABSENT) return undefined;
    throw err;
  }
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
