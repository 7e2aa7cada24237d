// `keyhaven directory import-ldif | export-ldif`: bring an OpenLDAP or Active Directory export
// in, and write the directory out, as LDIF (src/directory/ldif/). Like `keyhaven admin …`
// these open the store with the master key on the server's machine; the import writes as
// `system` in one transaction with one audit record (directory.import). SQLite and
// PostgreSQL both let them run while servers are serving. Server modules are imported inside
// the actions so that other commands (and --help) do not load them.
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { InvalidInputError } from '../../errors.js';
import type { CliContext } from '../context.js';
import { addServerConfigOptions, loadServerConfig } from '../server-config.js';

const STORE_KEYS = ['home', 'storage', 'masterKeyFile', 'passwordHashAlgorithm', 'passwordArgon2MemoryKib', 'passwordArgon2TimeCost', 'passwordArgon2Parallelism', 'passwordScryptLogN', 'passwordScryptR', 'passwordScryptP', 'directoryDomain', 'reservedGroupNames'];
const EXPORT_KEYS = [
  'home', 'storage', 'masterKeyFile', 'directoryDomain', 'ldapBaseDn', 'ldapUsersContainer', 'ldapGroupsContainer',
  'ldapUserDnTemplate', 'ldapGroupDnTemplate',
];

export function register(program: Command, ctx: CliContext): void {
  const directory = program.command('directory').description('Import and export the directory as LDIF (run on the server).');

  addServerConfigOptions(
    directory
      .command('import-ldif')
      .description('Import users and groups from an OpenLDAP or Active Directory LDIF export: all or nothing, in one transaction.')
      .argument('<file>', 'The LDIF file.')
      .option('--dry-run', 'Check everything and report the counts; write nothing.'),
    STORE_KEYS,
  ).action(async (file: string, opts: Record<string, unknown>) => {
    const config = loadServerConfig(opts, ctx, STORE_KEYS);
    let input: Buffer;
    try {
      input = readFileSync(file);
    } catch (err) {
      throw new InvalidInputError('KH_LDIF_FILE_UNREADABLE', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    const { importLdif } = await import('../../directory/ldif/ldif-import.js');
    const { openCore } = await import('../../server/core.js');
    const core = await openCore(config, { createMasterKey: false });
    try {
      const result = await importLdif(core, input, {
        directoryDomain: config.directoryDomain, reservedGroupNames: config.reservedGroupNames, dryRun: opts.dryRun === true,
      });
      ctx.print(result);
    } finally {
      await core.close();
    }
  });

  addServerConfigOptions(
    directory
      .command('export-ldif')
      .description('Write every user and group as LDIF (imported ones under their original DNs), without password hashes unless asked.')
      .option('--include-password-hashes', 'Also write userPassword (imported hashes as they are, Keyhaven\'s as {SCRYPT}).')
      .option('--output-file <file>', 'Write to this file (mode 0600) instead of standard output.')
      .option('--subtree <dn>', 'Only the entries at or under this DN (e.g. one imported tree: dc=example,dc=org).'),
    EXPORT_KEYS,
  ).action(async (opts: Record<string, unknown>) => {
    const config = loadServerConfig(opts, ctx, EXPORT_KEYS);
    const { exportLdifEntries, baseDnOf } = await import('../../directory/ldif/ldif-export.js');
    const { writeLdif } = await import('../../directory/ldif/ldif-writer.js');
    const { openCore } = await import('../../server/core.js');
    const core = await openCore(config, { createMasterKey: false });
    try {
      const entries = await exportLdifEntries(core.storage.read, {
        includePasswordHashes: opts.includePasswordHashes === true,
        baseDn: config.ldapBaseDn ?? baseDnOf(config.directoryDomain),
        usersContainer: config.ldapUsersContainer,
        groupsContainer: config.ldapGroupsContainer,
        userDnTemplate: config.ldapUserDnTemplate,
        groupDnTemplate: config.ldapGroupDnTemplate,
        subtree: typeof opts.subtree === 'string' ? opts.subtree : undefined,
      });
      await core.audit.record({
        actor: 'system', action: 'directory.export', target: '',
        details: { entries: entries.length, passwordHashes: opts.includePasswordHashes === true },
      });
      const text = writeLdif(entries, `Keyhaven directory export, ${new Date().toISOString()}`);
      if (typeof opts.outputFile === 'string') {
        writeFileSync(opts.outputFile, text, { mode: 0o600 });
        ctx.print({ outputFile: opts.outputFile, entries: entries.length });
      } else {
        ctx.stdout(text);
      }
    } finally {
      await core.close();
    }
  });
}
