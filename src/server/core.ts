// Assembles the core services from a resolved configuration: storage, the KEK and envelope
// encryption, server-held keys, the audit log, password and credential hashing. Shared by
// `keyhaven serve` and the `keyhaven admin …` commands that need the KEK.
import { randomUUID } from 'node:crypto';
import { AuditLog, type AuditObserver } from '../audit/audit-log.js';
import { AuditStream } from '../audit/audit-stream.js';
import { Metrics } from '../metrics/metrics.js';
import { CredentialDigester } from '../crypto/generated-credential.js';
import { checkMasterKey, Envelope } from '../crypto/envelope.js';
import { createMasterKey, readMasterKey, type MasterKey } from '../crypto/master-key.js';
import { PasswordHasher } from '../crypto/password-hash.js';
import { StartupError } from '../errors.js';
import type { ResolvedConfig } from '../config/load.js';
import { SECRET_AUDIT_KEY, SECRET_CREDENTIAL_KEY, ServerSecrets } from '../keys/server-secrets.js';
import { Storage } from '../storage/storage.js';
import { SETTING_KEK_ID } from '../crypto/envelope.js';
import { randomBytes } from 'node:crypto';

export interface CoreServices {
  config: ResolvedConfig;
  storage: Storage;
  masterKey: MasterKey;
  envelope: Envelope;
  secrets: ServerSecrets;
  audit: AuditLog;
  passwords: PasswordHasher;
  credentials: CredentialDigester;
  tenantId: string;
  metrics: Metrics;
  close(): Promise<void>;
}

export const SETTING_TENANT_ID = 'tenant_id';

export interface OpenCoreOptions {
  /** `serve` creates the KEK on a fresh database; admin commands never do. */
  createMasterKey: boolean;
  /** `serve`: the process's CPU, memory and event-loop metrics too. */
  processMetrics?: boolean;
  /** `serve`: append every committed record to `auditStreamFile` (when set). */
  auditStream?: { onError: (err: Error) => void };
}

export async function openCore(config: ResolvedConfig, options: OpenCoreOptions): Promise<CoreServices> {
  // A corrupt key file is refused before anything is created.
  let masterKey = readMasterKey(config.masterKeyFile);
  const storage = await Storage.open(config.storage, { poolSize: config.storagePoolSize });
  try {
    if (!masterKey) {
      const expected = await storage.read.settings.get(SETTING_KEK_ID);
      if (expected !== undefined || !options.createMasterKey) {
        throw new StartupError(
          'KH_MASTER_KEY_MISSING',
          `master key file ${config.masterKeyFile} does not exist${expected ? ` (this database is wrapped under key id ${expected})` : ''}`,
        );
      }
      masterKey = createMasterKey(config.masterKeyFile);
    }
    await checkMasterKey(storage.read, masterKey);
    const envelope = await Envelope.open(storage, masterKey);
    const tenantId = await storage.read.settings.setIfAbsent(SETTING_TENANT_ID, randomUUID());
    const secrets = new ServerSecrets(storage, envelope);
    const auditKey = await secrets.getOrCreate(SECRET_AUDIT_KEY, () => randomBytes(32));
    const credentialKey = await secrets.getOrCreate(SECRET_CREDENTIAL_KEY, () => randomBytes(32));
    const metrics = new Metrics({ processMetrics: options.processMetrics ?? false });
    const counted = metrics.auditObserver();
    // The stream is the server's only (an admin command appends nothing to it).
    const stream = options.auditStream && config.auditStreamFile !== '' ? new AuditStream(config.auditStreamFile, options.auditStream.onError) : undefined;
    const observer: AuditObserver = {
      batch: (records, seconds) => counted.batch(records, seconds),
      record: (row) => {
        counted.record(row);
        stream?.record(row);
      },
    };
    const audit = new AuditLog(storage, auditKey, { maxBatch: config.auditMaxBatch, observer });
    metrics.gauge('keyhaven_audit_queue_depth', 'Requests waiting for the next audit batch.', [], () => [[{}, audit.queueDepth]]);
    metrics.gauge('keyhaven_storage_pool_connections', 'PostgreSQL pool connections by state.', ['state'], () => {
      const pool = storage.poolUsage();
      return pool ? [[{ state: 'total' }, pool.total], [{ state: 'idle' }, pool.idle], [{ state: 'waiting' }, pool.waiting]] : [];
    });
    return {
      config,
      storage,
      masterKey,
      envelope,
      secrets,
      audit,
      passwords: new PasswordHasher({
        algorithm: config.passwordHashAlgorithm,
        argon2id: { memoryKib: config.passwordArgon2MemoryKib, timeCost: config.passwordArgon2TimeCost, parallelism: config.passwordArgon2Parallelism },
        scrypt: { logN: config.passwordScryptLogN, r: config.passwordScryptR, p: config.passwordScryptP },
      }),
      credentials: new CredentialDigester(credentialKey),
      tenantId,
      metrics,
      async close() {
        await audit.flush();
        await stream?.close();
        await storage.close();
      },
    };
  } catch (err) {
    await storage.close();
    throw err;
  }
}
