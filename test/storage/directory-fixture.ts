// A DirectoryService on a real engine, as the directory tests use it: cheap scrypt parameters,
// a login throttle on a fake clock, a fresh audit key. No KEK: the directory needs none.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { AuditLog } from '../../src/audit/audit-log.js';
import { KeyhavenError } from '../../src/errors.js';
import { CredentialDigester } from '../../src/crypto/generated-credential.js';
import { PasswordHasher, type ScryptParams } from '../../src/crypto/password-hash.js';
import type { DirectoryDeps, DirectoryOptions } from '../../src/directory/directory-context.js';
import { DirectoryService } from '../../src/directory/directory-service.js';
import { LoginThrottle, MemoryThrottleStore, type LoginThrottleOptions } from '../../src/directory/login-throttle.js';
import { loadCommonPasswords, PasswordPolicy } from '../../src/directory/password-policy.js';
import { Storage } from '../../src/storage/storage.js';
import type { EngineFixture } from '../helpers/engines.js';

export const CHEAP_SCRYPT: ScryptParams = { logN: 10, r: 8, p: 1 };

export interface DirectoryFixture {
  storage: Storage;
  deps: DirectoryDeps;
  directory: DirectoryService;
  clock: { now: number };
  /** Another service over the same database, e.g. with other scrypt parameters. */
  reopen(params: ScryptParams): DirectoryService;
  /**
   * Another service over the same database with other options (who sees what over LDAP, say).
   * Its read model is loaded at its first read: make it after the writes it should see (on
   * SQLite nothing tells it of later ones).
   */
  withOptions(options: DirectoryOptions): DirectoryService;
  close(): Promise<void>;
}

export async function openDirectory(fx: EngineFixture, throttle: LoginThrottleOptions = {}): Promise<DirectoryFixture> {
  const storage = await Storage.open(fx.url);
  const audit = new AuditLog(storage, randomBytes(32));
  const credentials = new CredentialDigester(randomBytes(32));
  const tenantId = randomUUID();
  const clock = { now: Date.now() };
  const tick = () => clock.now;
  const policy = new PasswordPolicy({ commonPasswords: loadCommonPasswords() });
  const loginThrottle = new LoginThrottle(new MemoryThrottleStore({}, tick), throttle, tick);
  const make = (params: ScryptParams, options: DirectoryOptions = {}) => {
    const deps: DirectoryDeps = { storage, audit, passwords: new PasswordHasher(params), credentials, tenantId };
    return { deps, directory: new DirectoryService(deps, policy, loginThrottle, options) };
  };
  const { deps, directory } = make(CHEAP_SCRYPT);
  return {
    storage,
    deps,
    directory,
    clock,
    reopen: (params) => make(params).directory,
    withOptions: (options) => make(CHEAP_SCRYPT, options).directory,
    async close() {
      await audit.flush();
      await storage.close();
    },
  };
}

/** A password the policy accepts. */
export const GOOD_PASSWORD = 'correct horse battery staple 42';

/** Asserts the promise rejects with a KeyhavenError of this code (and returns it). */
export async function rejectsWith(promise: Promise<unknown>, code: string): Promise<KeyhavenError> {
  let caught: unknown;
  await assert.rejects(promise, (err) => {
    caught = err;
    return err instanceof KeyhavenError && err.code === code;
  }, `expected ${code}`);
  return caught as KeyhavenError;
}
