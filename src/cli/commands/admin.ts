// `keyhaven admin …`: operations that need the master key and so open the store directly,
// on the server's machine, with the server's configuration. Server modules are imported inside
// the actions so that other commands (and --help) do not load them.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { InvalidInputError } from '../../errors.js';
import type { CliContext } from '../context.js';
import { addServerConfigOptions, loadServerConfig } from '../server-config.js';
import { UsageError } from '../usage-error.js';

const STORE_KEYS = ['home', 'storage', 'masterKeyFile', 'passwordHashAlgorithm', 'passwordArgon2MemoryKib', 'passwordArgon2TimeCost', 'passwordArgon2Parallelism', 'passwordScryptLogN', 'passwordScryptR', 'passwordScryptP'];

export function register(program: Command, ctx: CliContext): void {
  const admin = program.command('admin').description('Server administration that needs the master key (run on the server).');

  addServerConfigOptions(
    admin
      .command('reset-password')
      .description("Set a user's password. Without --password-file a password is generated and shown once.")
      .option('--username <name>', 'The user.', 'admin')
      .option('--password-file <file>', 'Read the new password from this file.'),
    STORE_KEYS,
  ).action(async (opts: Record<string, unknown>) => {
    const config = loadServerConfig(opts, ctx, STORE_KEYS);
    const given = typeof opts.passwordFile === 'string' ? readFileSync(opts.passwordFile, 'utf8').replace(/\r?\n$/, '') : undefined;
    if (given !== undefined && given.length === 0) throw new InvalidInputError('KH_PASSWORD_EMPTY', 'the password file is empty');
    const { generatePassword, resetPassword } = await import('../../directory/bootstrap-admin.js');
    const { openCore } = await import('../../server/core.js');
    const password = given ?? generatePassword();
    const core = await openCore(config, { createMasterKey: false });
    try {
      await resetPassword(core, String(opts.username), password);
    } finally {
      await core.close();
    }
    ctx.print(given === undefined ? { username: opts.username, password } : { username: opts.username });
  });

  const KEY_SETTINGS = [...STORE_KEYS, 'signingKeyRotationDays', 'signingKeyPrepublishHours', 'signingKeyRefreshSeconds'];
  addServerConfigOptions(
    admin
      .command('rotate-signing-key')
      .description(
        'Publish a new token signing key now. It signs after signingKeyPrepublishHours (relying parties that cache the JWKS learn it first, as Entra publishes keys ahead); the key it replaces stays published until every token it signed has expired.',
      )
      .option('--now', 'Emergency rotation: the new key signs at once and the active key is retired (still published until its tokens expire).')
      .option('--revoke-previous', 'With --now: remove every earlier key from the JWKS at once, so the tokens they signed stop verifying (a leaked key).'),
    KEY_SETTINGS,
  ).action(async (opts: Record<string, unknown>) => {
    if (opts.revokePrevious && !opts.now) throw new UsageError('usage error: --revoke-previous needs --now');
    const config = loadServerConfig(opts, ctx, KEY_SETTINGS);
    const { openCore } = await import('../../server/core.js');
    const { openSigningKeys } = await import('../../server/services.js');
    const core = await openCore(config, { createMasterKey: false });
    try {
      const keys = await openSigningKeys(core);
      const list = await keys.rotate({ immediate: opts.now === true, revokePrevious: opts.revokePrevious === true });
      await core.audit.flush();
      ctx.print(list);
      if (opts.now && core.storage.engine === 'sqlite') {
        ctx.warn(`a running server signs with the new key within signingKeyRefreshSeconds (${config.signingKeyRefreshSeconds} s)`);
      }
    } finally {
      await core.close();
    }
  });

  addServerConfigOptions(
    admin
      .command('rotate-master-key')
      .description('Re-wrap every data key under a new master key, in one transaction, while servers keep serving.')
      .requiredOption('--new-key-file <file>', 'The new master key; created (0600) when it does not exist.'),
    STORE_KEYS,
  ).action(async (opts: Record<string, unknown>) => {
    const config = loadServerConfig(opts, ctx, STORE_KEYS);
    const newFile = resolve(String(opts.newKeyFile));
    const { createMasterKey, readMasterKey } = await import('../../crypto/master-key.js');
    const { rewrapDataKeys } = await import('../../crypto/master-key-rotation.js');
    const { openCore } = await import('../../server/core.js');
    const core = await openCore(config, { createMasterKey: false });
    let created = false;
    try {
      let newKey = readMasterKey(newFile);
      if (!newKey) {
        newKey = createMasterKey(newFile);
        created = true;
      }
      const key = newKey;
      const rewrapped = await core.audit.write(
        { actor: 'system', action: 'masterkey.rotate', details: { from: core.masterKey.id, to: key.id } },
        (tx) => rewrapDataKeys(tx, core.masterKey, key),
      );
      ctx.print({ previousKeyId: core.masterKey.id, keyId: key.id, newKeyFile: newFile, created, rewrappedDataKeys: rewrapped });
      ctx.warn(`install ${newFile} as the master key (masterKeyFile) of every server before its next start; servers holding only the old key will refuse to start`);
    } finally {
      await core.close();
    }
  });

  registerOperations(admin, ctx);
}

const BACKUP_KEYS = [...STORE_KEYS, 'auditMaxBatch'];

/** backup, restore, status, migrate: operating a store (README, "Operations"). */
function registerOperations(admin: Command, ctx: CliContext): void {
  addServerConfigOptions(
    admin
      .command('backup')
      .description('Write one consistent, encrypted backup of the whole store while servers keep serving. Encrypted under a key derived from the master key, or under --key-file.')
      .requiredOption('--file <file>', 'The backup file to write (0600).')
      .option('--key-file <file>', 'Encrypt under this separate backup key (32 bytes, base64) instead of the master key; created (0600) when it does not exist.'),
    BACKUP_KEYS,
  ).action(async (opts: Record<string, unknown>) => {
    const config = loadServerConfig(opts, ctx, BACKUP_KEYS);
    const { openCore } = await import('../../server/core.js');
    const { takeBackup } = await import('../../server/backup.js');
    const core = await openCore(config, { createMasterKey: false });
    try {
      const keyFile = typeof opts.keyFile === 'string' ? resolve(opts.keyFile) : undefined;
      ctx.print(await takeBackup(core, resolve(String(opts.file)), keyFile));
    } finally {
      await core.close();
    }
  });

  addServerConfigOptions(
    admin
      .command('restore')
      .description('Restore a backup into a fresh home or database (SQLite or PostgreSQL, whichever engine it was taken from). Checks the checksum, the key and the schema before writing anything; the master key the backup names must be in place.')
      .requiredOption('--file <file>', 'The backup file.')
      .option('--key-file <file>', 'The backup key the file is encrypted under (when it was taken with --key-file).')
      .option('--force', 'Replace the contents of a store that is not empty (stop its servers first).'),
    BACKUP_KEYS,
  ).action(async (opts: Record<string, unknown>) => {
    const config = loadServerConfig(opts, ctx, BACKUP_KEYS);
    const { restoreBackup } = await import('../../server/backup.js');
    const { openCore } = await import('../../server/core.js');
    const { ensureHome } = await import('../../server/home.js');
    ensureHome(config.home);
    const result = await restoreBackup(config, {
      file: resolve(String(opts.file)),
      keyFile: typeof opts.keyFile === 'string' ? resolve(opts.keyFile) : undefined,
      force: opts.force === true,
    });
    // Proof that the restored store opens: the data keys unwrap, the audit key opens, and the
    // chain goes on with the restore's own record.
    const core = await openCore(config, { createMasterKey: false });
    try {
      await core.audit.record({ actor: 'system', action: 'store.restore', details: { backupCreatedAt: result.backupCreatedAt, backupEngine: result.backupEngine, rows: result.rows } });
      const verified = await core.audit.verify();
      ctx.print({ ...result, auditVerified: verified.ok, auditRecords: verified.records });
    } finally {
      await core.close();
    }
  });

  addServerConfigOptions(
    admin.command('status').description('The store at a glance, as JSON: version, engine, migrations applied and pending, master key id, signing keys and their ages, audit head, last backup. Changes nothing.'),
    STORE_KEYS,
  ).action(async (opts: Record<string, unknown>) => {
    const config = loadServerConfig(opts, ctx, STORE_KEYS);
    const { storeStatus } = await import('../../server/store-status.js');
    ctx.print(await storeStatus(config));
  });

  addServerConfigOptions(
    admin
      .command('migrate')
      .description('Apply the schema migrations this version has and the store lacks (servers also do this when they start).')
      .option('--dry-run', 'Only print the migrations that would be applied.'),
    STORE_KEYS,
  ).action(async (opts: Record<string, unknown>) => {
    const config = loadServerConfig(opts, ctx, STORE_KEYS);
    const { migrateStore } = await import('../../server/store-status.js');
    ctx.print(await migrateStore(config, opts.dryRun === true));
  });
}
