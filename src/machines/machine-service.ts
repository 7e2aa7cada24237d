// Machine enrollment (issue 10 item 4). A machine resource (Microsoft.Compute/virtualMachines)
// issues one-time join tokens; a scale set (virtualMachineScaleSets) issues reusable ones with a
// use count and an expiry, so the machines of a pool join with one token. Joining exchanges a
// token for a machine credential: the machine sends only its public key (machine-keys.ts) and
// from then on authenticates to the token service with a private_key_jwt client assertion
// (iss = sub = its client id, `kid` = its key's thumbprint; src/tokens/client-assertion.ts).
// The tokens it gets carry the machine (`kh_machine`, and `xms_mirid` = its resource, as Entra's
// managed-identity tokens name theirs), so revoking one machine stops its tokens at once
// (machine-status.ts, checked by bearer authentication) and leaves the pool's others working.
// A machine rotates its key by sending the new public key in a JWT signed with the current one.
//
// Join tokens are 256-bit random values shown once; only their HMAC under the server's
// credential key is stored (src/crypto/generated-credential.ts). Every write and its audit
// record commit together (AuditLog.write); no token, key material or assertion is audited.
import { randomUUID } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { AuditLog } from '../audit/audit-log.js';
import type { RefusalRecorder } from '../audit/refusal-recorder.js';
import { generateCredential, type CredentialDigester } from '../crypto/generated-credential.js';
import { auditEvent, type Actor } from '../directory/directory-context.js';
import { ConflictError, InvalidInputError, KeyhavenError, NotFoundError, UnauthenticatedError } from '../errors.js';
import type { StoredResource } from '../resources/resource-types.js';
import type { MachineRow } from '../storage/repos/machine-repo.js';
import type { Storage, Tx } from '../storage/storage.js';
import type { MachineCredential, MachineCredentials } from '../tokens/client-assertion.js';
import { parseMachinePublicKey, storedPublicKey } from './machine-keys.js';
import type { MachineStatus } from './machine-status.js';

export const VM_TYPE = 'microsoft.compute/virtualmachines';
export const VMSS_TYPE = 'microsoft.compute/virtualmachinescalesets';

export interface MachineServiceOptions {
  storage: Storage;
  audit: AuditLog;
  credentials: CredentialDigester;
  status: MachineStatus;
  /** {publicUrl} without a trailing slash. */
  publicUrl: string;
  tenantId: string;
  joinTokenDefaultLifetimeSeconds: number;
  joinTokenMaxLifetimeSeconds: number;
  poolTokenDefaultUses: number;
  poolTokenMaxUses: number;
  /** Join and rotation refusals, aggregated per source (anyone can cause them). */
  refusals?: Pick<RefusalRecorder, 'refused'>;
  now?: () => number;
}

export interface JoinTokenRequest {
  maxUses?: unknown;
  expiresInSeconds?: unknown;
}

export interface IssuedJoinToken {
  id: string;
  /** Shown once; never stored. */
  token: string;
  resourceId: string;
  maxUses: number;
  expiresOn: string;
}

/** A machine as the APIs show it (no key material beyond the public key's id). */
export interface MachineJson {
  id: string;
  clientId: string;
  kid: string;
  resourceId: string;
  tenantId: string;
  createdAt: string;
  keyUpdatedAt: string;
  state: 'Active' | 'Revoked';
  revokedAt?: string;
}

const JOIN_TOKEN = /^[A-Za-z0-9_-]{43}$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];
const MAX_REQUEST_LENGTH = 16 * 1024;
const ROTATION_MAX_LIFETIME_SECONDS = 600;
const SKEW_SECONDS = 300;

export class MachineService implements MachineCredentials {
  readonly #o: MachineServiceOptions;
  readonly #now: () => number;

  constructor(options: MachineServiceOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  get status(): MachineStatus {
    return this.#o.status;
  }

  /** The path a key rotation request is addressed to (its `aud`). */
  get rotationAudience(): string {
    return `${this.#o.publicUrl}/machines/rotate-key`;
  }

  /** A join token for a VM (one use) or a scale set (`maxUses`); the resource is known to exist. */
  async createJoinToken(actor: Actor, resource: StoredResource, request: JoinTokenRequest): Promise<IssuedJoinToken> {
    const type = resource.type.toLowerCase();
    const pool = type === VMSS_TYPE;
    if (!pool && type !== VM_TYPE) throw new InvalidInputError('KH_MACHINE_RESOURCE_TYPE', 'Join tokens are issued by virtualMachines and virtualMachineScaleSets only.');
    const maxUses = this.#maxUses(pool, request.maxUses);
    const lifetime = this.#lifetime(request.expiresInSeconds);
    const token = generateCredential();
    const id = randomUUID();
    const nowMs = this.#now();
    const expiresAt = nowMs + lifetime * 1000;
    const expiresOn = new Date(expiresAt).toISOString();
    await this.#o.audit.write(auditEvent(actor, 'machine.join.issue', resource.id.slice(0, 600), { joinId: id, maxUses, expiresOn }), async (tx) => {
      if (!(await tx.armResources.byKey(resource.id.toLowerCase()))) throw new NotFoundError('KH_ARM_RESOURCE_NOT_FOUND', 'The resource was deleted.');
      await tx.machines.insertJoinToken({
        id, digest: this.#o.credentials.digest(token), resource_id: resource.id, resource_key: resource.id.toLowerCase(),
        max_uses: maxUses, uses: 0, expires_at: expiresAt, created_at: new Date(nowMs).toISOString(), created_by: actor.id,
      });
    });
    return { id, token, resourceId: resource.id, maxUses, expiresOn };
  }

  /** The unauthenticated exchange: a join token and a public key for a machine credential. */
  async join(body: unknown, ctx: { source: string; correlationId: string }): Promise<MachineJson & { tokenEndpoint: string; authority: string }> {
    return this.#auditedRefusal('machine.join', ctx, () => this.#join(body, ctx));
  }

  async #auditedRefusal<T>(action: string, ctx: { source: string; correlationId: string }, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      // Refusals (bad token, bad key …) are recorded aggregated; a storage failure is not a refusal.
      if (this.#o.refusals && err instanceof KeyhavenError && (err.kind === 'InvalidInput' || err.kind === 'Unauthenticated' || err.kind === 'Conflict')) {
        await this.#o.refusals.refused({ source: ctx.source, action, error: err.code, correlationId: ctx.correlationId });
      }
      throw err;
    }
  }

  async #join(body: unknown, ctx: { source: string; correlationId: string }): Promise<MachineJson & { tokenEndpoint: string; authority: string }> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidInputError('KH_MACHINE_JOIN_INVALID', 'The join request must be a JSON object with token and publicKey.');
    const { token, publicKey, ...rest } = body as Record<string, unknown>;
    const unknown = Object.keys(rest);
    if (unknown.length > 0) throw new InvalidInputError('KH_MACHINE_JOIN_INVALID', `The join request has an unknown member '${unknown[0]!.slice(0, 32).replace(/[^\x20-\x7e]/g, '?')}'.`);
    if (typeof token !== 'string' || token === '') throw new InvalidInputError('KH_MACHINE_JOIN_INVALID', 'The join request must have the join token in token.');
    // The key is checked before the token is looked up: a bad key costs no database read.
    const key = await parseMachinePublicKey(publicKey);
    if (!JOIN_TOKEN.test(token)) throw joinTokenInvalid();
    const row = await this.#o.storage.read.machines.joinTokenByDigest(this.#o.credentials.digest(token));
    if (!row) throw joinTokenInvalid();
    const nowMs = this.#now();
    if (row.expires_at <= nowMs) throw new UnauthenticatedError('KH_MACHINE_JOIN_TOKEN_EXPIRED', 'The join token has expired.');
    if (row.uses >= row.max_uses) throw joinTokenUsed();
    const machineId = randomUUID();
    const clientId = randomUUID();
    const at = new Date(nowMs).toISOString();
    const machine: MachineRow = {
      id: machineId, client_id: clientId, resource_id: row.resource_id, resource_key: row.resource_key, join_id: row.id,
      kid: key.kid, public_jwk: JSON.stringify(key.jwk), created_at: at, key_updated_at: at, revoked_at: null, revoked_by: null,
    };
    const event = { actor: machineId, action: 'machine.join', target: row.resource_id.slice(0, 600), source: ctx.source, correlationId: ctx.correlationId, details: { machineId, clientId, kid: key.kid, joinId: row.id } };
    await this.#o.audit.write(event, async (tx) => {
      // One statement takes the use, so machines racing for a pool's last use cannot both join.
      if (!(await tx.machines.takeJoinTokenUse(row.id, nowMs))) throw joinTokenUsed();
      if (!(await tx.armResources.byKey(row.resource_key))) throw joinTokenInvalid();
      await tx.machines.insertMachine(machine);
      await tx.machines.notifyJoin();
    });
    this.#o.status.joined(machineId);
    return { ...this.#json(machine), tokenEndpoint: `${this.#o.publicUrl}/${this.#o.tenantId}/oauth2/v2.0/token`, authority: this.#o.publicUrl };
  }

  /** The machines joined to a resource, oldest first. */
  async list(resource: StoredResource): Promise<MachineJson[]> {
    return (await this.#o.storage.read.machines.machinesOf(resource.id.toLowerCase())).map((m) => this.#json(m));
  }

  async show(resource: StoredResource, machineId: string): Promise<MachineJson> {
    return this.#json(await this.#machineOf(resource, machineId));
  }

  /** Revokes one machine of the resource: its next assertion and its tokens are refused. Idempotent. */
  async revoke(actor: Actor, resource: StoredResource, machineId: string): Promise<MachineJson> {
    const machine = await this.#machineOf(resource, machineId);
    if (machine.revoked_at !== null) return this.#json(machine);
    const at = new Date(this.#now()).toISOString();
    await this.#o.audit.write(auditEvent(actor, 'machine.revoke', resource.id.slice(0, 600), { machineId: machine.id, clientId: machine.client_id }), async (tx) => {
      await tx.machines.revoke(machine.id, at, actor.id);
    });
    this.#o.status.revoked([machine.id]);
    return this.#json({ ...machine, revoked_at: at, revoked_by: actor.id });
  }

  /**
   * A key rotation: a compact JWS signed with the machine's current key (header `kid`), claims
   * iss = sub = its client id, aud = rotationAudience, a short lifetime, a `jti` used once, and
   * `jwk`: the new public key. The old key stops working the moment the new one is stored.
   */
  async rotateKey(request: unknown, ctx: { source: string; correlationId: string }): Promise<MachineJson> {
    return this.#auditedRefusal('machine.key.rotate', ctx, () => this.#rotateKey(request, ctx));
  }

  async #rotateKey(request: unknown, ctx: { source: string; correlationId: string }): Promise<MachineJson> {
    const jws = typeof request === 'object' && request !== null && !Array.isArray(request) ? (request as Record<string, unknown>)['request'] : undefined;
    if (typeof jws !== 'string' || jws.length > MAX_REQUEST_LENGTH) throw new InvalidInputError('KH_MACHINE_ROTATION_INVALID', 'The rotation request must be {"request": JWS} signed with the current key.');
    let header;
    let unverified: JWTPayload;
    try {
      header = decodeProtectedHeader(jws);
      unverified = decodeJwt(jws);
    } catch {
      throw new InvalidInputError('KH_MACHINE_ROTATION_INVALID', 'The rotation request is not a signed JWT.');
    }
    if (typeof header.alg !== 'string' || !ALGORITHMS.includes(header.alg)) throw rotationRefused('the algorithm is not accepted.');
    const clientId = typeof unverified.iss === 'string' ? unverified.iss.toLowerCase() : '';
    if (!GUID.test(clientId) || unverified.sub !== unverified.iss) throw rotationRefused('iss and sub must both be the machine\'s client id.');
    const machine = await this.#o.storage.read.machines.machineByClientId(clientId);
    if (!machine) throw rotationRefused('no machine has this client id.');
    if (header.kid !== machine.kid) throw rotationRefused('it is not signed with the machine\'s current key (kid).');
    const nowSeconds = Math.floor(this.#now() / 1000);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(jws, storedPublicKey(machine.public_jwk), {
        algorithms: ALGORITHMS, audience: this.rotationAudience, clockTolerance: SKEW_SECONDS, currentDate: new Date(nowSeconds * 1000), requiredClaims: ['exp', 'jti'],
      }));
    } catch (err) {
      if (err instanceof joseErrors.JWTClaimValidationFailed || err instanceof joseErrors.JWTExpired) throw rotationRefused(`the claim ${(err as joseErrors.JWTClaimValidationFailed).claim ?? 'exp'} is missing or invalid.`);
      throw rotationRefused('the signature does not verify with the machine\'s current key.');
    }
    const start = typeof payload.iat === 'number' ? payload.iat : nowSeconds;
    if (payload.exp! - start > ROTATION_MAX_LIFETIME_SECONDS || payload.exp! - nowSeconds > ROTATION_MAX_LIFETIME_SECONDS) throw rotationRefused(`its lifetime is longer than ${ROTATION_MAX_LIFETIME_SECONDS} seconds.`);
    if (typeof payload.jti !== 'string' || payload.jti === '' || payload.jti.length > 256) throw rotationRefused('the claim jti is missing or invalid.');
    if (machine.revoked_at !== null) throw machineRevoked();
    const next = await parseMachinePublicKey(payload['jwk']);
    if (next.kid === machine.kid) throw new InvalidInputError('KH_MACHINE_KEY_UNCHANGED', 'The new key is the current key.');
    const at = new Date(this.#now()).toISOString();
    const event = { actor: machine.id, action: 'machine.key.rotate', target: machine.resource_id.slice(0, 600), source: ctx.source, correlationId: ctx.correlationId, details: { machineId: machine.id, previousKid: machine.kid, kid: next.kid } };
    await this.#o.audit.write(event, async (tx) => {
      if (!(await tx.assertionJti.useOnce(`rotate:${clientId}`, payload.jti!, (payload.exp! + SKEW_SECONDS) * 1000, this.#now(), ctx.source))) throw rotationRefused('this request (jti) has been used already.');
      if (!(await tx.machines.replaceKey(machine.id, machine.kid, next.kid, JSON.stringify(next.jwk), at))) throw new ConflictError('KH_MACHINE_KEY_CHANGED', 'The machine\'s key changed or it was revoked meanwhile.');
    });
    return this.#json({ ...machine, kid: next.kid, public_jwk: JSON.stringify(next.jwk), key_updated_at: at });
  }

  /** For the token service: the machine credential behind a client id (MachineCredentials). */
  async credential(clientId: string): Promise<MachineCredential | undefined> {
    if (!GUID.test(clientId)) return undefined;
    const m = await this.#o.storage.read.machines.machineByClientId(clientId);
    if (!m) return undefined;
    return { machineId: m.id, clientId: m.client_id, resourceId: m.resource_id, kid: m.kid, publicKey: storedPublicKey(m.public_jwk), revoked: m.revoked_at !== null };
  }

  /**
   * The delete cascade (inside the resource's delete transaction): its join tokens and its
   * machines go (their assertions then name no client: AADSTS700016). Machines are forgotten by the in-process set at once; on PostgreSQL
   * the revocation's NOTIFY (delivered at commit) reloads every replica's set, this one's too.
   */
  async resourceDeleted(tx: Tx, resource: StoredResource): Promise<void> {
    const type = resource.type.toLowerCase();
    if (type !== VM_TYPE && type !== VMSS_TYPE) return;
    const ids = await tx.machines.deleteResource([resource.id.toLowerCase()]);
    this.#o.status.revoked(ids);
  }

  async #machineOf(resource: StoredResource, machineId: string): Promise<MachineRow> {
    const id = machineId.toLowerCase();
    const machine = GUID.test(id) ? await this.#o.storage.read.machines.machineById(id) : undefined;
    if (!machine || machine.resource_key !== resource.id.toLowerCase()) {
      throw new NotFoundError('KH_MACHINE_NOT_FOUND', `The machine '${machineId.slice(0, 40).replace(/[^\x20-\x7e]/g, '?')}' is not joined to this resource.`);
    }
    return machine;
  }

  #maxUses(pool: boolean, value: unknown): number {
    if (value === undefined || value === null) return pool ? this.#o.poolTokenDefaultUses : 1;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > this.#o.poolTokenMaxUses) {
      throw new InvalidInputError('KH_MACHINE_JOIN_USES_INVALID', `maxUses must be an integer from 1 to ${this.#o.poolTokenMaxUses}.`);
    }
    if (!pool && value !== 1) throw new InvalidInputError('KH_MACHINE_JOIN_USES_INVALID', 'A virtual machine\'s join token has one use; a scale set\'s may have more.');
    return value;
  }

  #lifetime(value: unknown): number {
    if (value === undefined || value === null) return this.#o.joinTokenDefaultLifetimeSeconds;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > this.#o.joinTokenMaxLifetimeSeconds) {
      throw new InvalidInputError('KH_MACHINE_JOIN_LIFETIME_INVALID', `expiresInSeconds must be an integer from 1 to ${this.#o.joinTokenMaxLifetimeSeconds}.`);
    }
    return value;
  }

  #json(m: MachineRow): MachineJson {
    const out: MachineJson = {
      id: m.id, clientId: m.client_id, kid: m.kid, resourceId: m.resource_id, tenantId: this.#o.tenantId,
      createdAt: m.created_at, keyUpdatedAt: m.key_updated_at, state: m.revoked_at === null ? 'Active' : 'Revoked',
    };
    if (m.revoked_at !== null) out.revokedAt = m.revoked_at;
    return out;
  }
}

function joinTokenInvalid(): UnauthenticatedError {
  return new UnauthenticatedError('KH_MACHINE_JOIN_TOKEN_INVALID', 'The join token is not valid.');
}

function joinTokenUsed(): UnauthenticatedError {
  return new UnauthenticatedError('KH_MACHINE_JOIN_TOKEN_USED', 'The join token has no uses left.');
}

export function machineRevoked(): UnauthenticatedError {
  return new UnauthenticatedError('KH_MACHINE_REVOKED', 'The machine credential has been revoked.');
}

function rotationRefused(reason: string): UnauthenticatedError {
  return new UnauthenticatedError('KH_MACHINE_ROTATION_REFUSED', `The key rotation request failed validation: ${reason}`);
}
