// `keyhaven audit list|verify`. The audit key is sealed under the master key, so these read
// the store directly with the server's configuration, like `keyhaven admin …`.
import type { Command } from 'commander';
import { InvalidInputError } from '../../errors.js';
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
      .option('--actor <id>', 'Only records of this actor.')
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
      const records = await core.audit.list({
        actor: opts.actor,
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

class AuditChainBroken extends InvalidInputError {
  constructor(problem: string) {
    super('KH_AUDIT_CHAIN_BROKEN', `audit log verification failed: ${problem}`);
  }
}
