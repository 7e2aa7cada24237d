// `keyhaven audit list|verify`. The audit key is sealed under the master key, so these read
// the store directly with the server's configuration, like `keyhaven admin …`.
import { auditLine } from '../../audit/audit-line.js';
import { closeSync, openSync, writeSync } from 'node:fs';
import type { Command } from 'commander';
import { InvalidInputError, NotFoundError } from '../../errors.js';
import type { CoreServices } from '../../server/core.js';
import type { CliContext } from '../context.js';
import { addServerConfigOptions, loadServerConfig } from '../server-config.js';

const STORE_KEYS = ['home', 'storage', 'masterKeyFile'];

function isoTime(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  const t = new Date(value);
  if (Number.isNaN(t.getTime())) throw new InvalidInputError('KH_CLI_BAD_TIME', `${flag} must be a date or time such as 2026-01-31 or 2026-01-31T12:00:00Z`);
  return t.toISOString();
}

export function register(program: Command, ctx: CliContext): void {
  const audit = program.command('audit').description('Read and verify the tamper-evident audit log.');

  addServerConfigOptions(
    audit
      .command('list')
      .description('List audit records, oldest first.')
      .option('--actor <actor>', 'Only records of this actor: a userPrincipalName, a login name, a service principal\'s appId, an object id, or system.')
      .option('--action <action>', 'Only this action; a trailing * matches a prefix (user.*).')
      .option('--since <time>', 'Only records at or after this time.')
      .option('--until <time>', 'Only records before this time.')
      .option('--after-seq <n>', 'Only records after this sequence number (for paging).')
      .option('--top <n>', 'At most this many records.', '100'),
    STORE_KEYS,
  ).action(async (opts: Record<string, string | undefined>) => {
    const config = loadServerConfig(opts, ctx, STORE_KEYS);
    const top = Number(opts.top);
    if (!Number.isInteger(top) || top < 1 || top > 10000) throw new InvalidInputError('KH_CLI_BAD_TOP', '--top must be an integer from 1 to 10000');
    const afterSeq = opts.afterSeq === undefined ? undefined : Number(opts.afterSeq);
    if (afterSeq !== undefined && !Number.isInteger(afterSeq)) throw new InvalidInputError('KH_CLI_BAD_SEQ', '--after-seq must be an integer');
    const { openCore } = await import('../../server/core.js');
    const core = await openCore(config, { createMasterKey: false });
    try {
      const actor = opts.actor === undefined ? undefined : await actorId(core, opts.actor);
      const records = await core.audit.list({
        actor,
        action: opts.action,
        since: isoTime(opts.since, '--since'),
        until: isoTime(opts.until, '--until'),
        afterSeq,
        limit: top,
      });
      ctx.print(records, { table: (rows) => (rows as Record<string, unknown>[]).map(({ details: _d, ...rest }) => rest) });
    } finally {
      await core.close();
    }
  });

  registerExport(audit, ctx);

  addServerConfigOptions(
    audit.command('verify').description('Check the HMAC chain of the audit log; names the first bad record. Exit code 1 when broken.'),
    STORE_KEYS,
  ).action(async (opts: Record<string, unknown>) => {
    const config = loadServerConfig(opts, ctx, STORE_KEYS);
    const { openCore } = await import('../../server/core.js');
    const core = await openCore(config, { createMasterKey: false });
    try {
      const result = await core.audit.verify();
      const head = await core.storage.read.audit.head();
      ctx.print({ ...result, headMac: head?.mac ?? null });
      if (!result.ok) throw new AuditChainBroken(result.firstBad!.problem);
    } finally {
      await core.close();
    }
  });
}

/**
 * `keyhaven audit export`: the records from a time on, one JSON object per line with the
 * chain's MAC, for a SIEM (the equivalent of Vault's file audit device, read from the chain:
 * the database stays the source of truth). Paged by sequence number, so a long log streams.
 */
function registerExport(audit: Command, ctx: CliContext): void {
  addServerConfigOptions(
    audit
      .command('export')
      .description('Write audit records as JSON lines (one object per record, with its chain MAC), oldest first.')
      .option('--since <time>', 'Only records at or after this time.')
      .option('--until <time>', 'Only records before this time.')
      .option('--after-seq <n>', 'Only records after this sequence number (to resume an export).')
      .option('--format <format>', 'Output format: jsonl.', 'jsonl')
      .option('--file <file>', 'Write to this file (0600) instead of standard output.'),
    STORE_KEYS,
  ).action(async (opts: Record<string, string | undefined>) => {
    if (opts.format !== 'jsonl') throw new InvalidInputError('KH_CLI_BAD_FORMAT', `--format must be jsonl, not '${opts.format}'`);
    const config = loadServerConfig(opts, ctx, STORE_KEYS);
    const since = isoTime(opts.since, '--since');
    const until = isoTime(opts.until, '--until');
    let afterSeq = opts.afterSeq === undefined ? 0 : Number(opts.afterSeq);
    if (!Number.isInteger(afterSeq) || afterSeq < 0) throw new InvalidInputError('KH_CLI_BAD_SEQ', '--after-seq must be an integer');
    const { openCore } = await import('../../server/core.js');
    const core = await openCore(config, { createMasterKey: false });
    const fd = opts.file === undefined ? undefined : openSync(opts.file, 'w', 0o600);
    const write = (text: string) => (fd === undefined ? ctx.stdout(text) : void writeSync(fd, text));
    try {
      for (;;) {
        const rows = await core.storage.read.audit.query({ since, until, afterSeq, limit: 1000 });
        if (rows.length === 0) break;
        write(rows.map(auditLine).join(''));
        afterSeq = rows.at(-1)!.seq;
      }
    } finally {
      if (fd !== undefined) closeSync(fd);
      await core.close();
    }
  });
}

/** Actors that are no directory object (the server itself, unauthenticated callers). */
const PSEUDO_ACTORS = new Set(['system', 'anonymous', 'unknown']);

/**
 * Records name their actor by object id (names change, ids do not), but a person asks for
 * `--actor admin` or `--actor ada@…`: a name is looked up in the directory, as the API would
 * (userPrincipalName, or login name), and a GUID that is a service principal's appId stands for
 * that service principal. An object id is taken as it is, so records of deleted objects stay
 * reachable; a name that is no one is an error, not an empty list.
 */
async function actorId(core: CoreServices, given: string): Promise<string> {
  const value = given.trim();
  if (PSEUDO_ACTORS.has(value)) return value;
  const { DirectoryService } = await import('../../directory/directory-service.js');
  const { LoginThrottle, MemoryThrottleStore } = await import('../../directory/login-throttle.js');
  const { PasswordPolicy } = await import('../../directory/password-policy.js');
  const { isObjectId } = await import('../../directory/odata-query.js');
  // Read only: no password is checked or set here, so the policy needs no common-password list.
  const directory = new DirectoryService(core, new PasswordPolicy({ commonPasswords: new Set() }), new LoginThrottle(new MemoryThrottleStore()));
  const reader = directory.system().reader();
  const missing = (err: unknown) => {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  };
  const id = value.toLowerCase();
  if (isObjectId(id)) {
    if (await reader.getUser(id).catch(missing)) return id;
    return (await reader.getServicePrincipal(id).catch(missing))?.id ?? id;
  }
  const user = await reader.getUser(value).catch(missing);
  if (user) return user.id;
  throw new NotFoundError('KH_ACTOR_NOT_FOUND', `no user named '${value}' in the directory; give a userPrincipalName, a login name, an object id or system`);
}

class AuditChainBroken extends InvalidInputError {
  constructor(problem: string) {
    super('KH_AUDIT_CHAIN_BROKEN', `audit log verification failed: ${problem}`);
  }
}
