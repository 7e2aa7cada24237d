// Scheduled backups (`backupSchedule`, `backupDir`, `backupKeep`): the server takes the same
// backup `keyhaven admin backup` does, every interval, into backupDir, and keeps the newest
// `backupKeep` files. The last backup's time is in the store (settings), so a turn is skipped
// when any server or an admin took a backup within the interval: replicas on one PostgreSQL
// back up about once per interval, not once each. A failed backup is logged and tried again at
// the next turn; it never stops the server.
import { mkdirSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { errorSummary } from '../storage/storage.js';
import { SETTING_LAST_BACKUP_AT, takeBackup } from './backup.js';
import type { CoreServices } from './core.js';

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const NAME = /^keyhaven-\d{8}T\d{6}(\d{3})?Z\.khb$/;

/** `6h` → milliseconds (the schema already checked the form). */
export function scheduleIntervalMs(schedule: string): number {
  const m = /^([1-9][0-9]*)(s|m|h|d)$/.exec(schedule);
  if (!m) throw new Error(`bad backupSchedule ${schedule}`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

export function backupFileName(at: Date): string {
  return `keyhaven-${at.toISOString().replace(/[-:]/g, '').replace('.', '')}.khb`;
}

export class BackupScheduler {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(
    private readonly core: CoreServices,
    private readonly options: { intervalMs: number; dir: string; keep: number; logger: Logger },
  ) {}

  start(): void {
    mkdirSync(this.options.dir, { recursive: true, mode: 0o700 });
    this.#schedule(this.options.intervalMs);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.#turn().finally(() => (this.#running = undefined));
    }, ms);
    this.#timer.unref();
  }

  async #turn(): Promise<void> {
    const { intervalMs, logger } = this.options;
    let next = intervalMs;
    try {
      const last = await this.core.storage.read.settings.get(SETTING_LAST_BACKUP_AT);
      const since = last ? Date.now() - Date.parse(last) : Infinity;
      if (since < intervalMs * 0.9) {
        next = intervalMs - since;
      } else {
        const file = join(this.options.dir, backupFileName(new Date()));
        const result = await takeBackup(this.core, file, undefined, { ownConnection: true });
        logger.info({ file, bytes: result.bytes, rows: result.rows }, 'scheduled backup written');
        this.#prune();
      }
    } catch (err) {
      logger.warn({ error: errorSummary(err) }, 'scheduled backup failed; trying again at the next turn');
    }
    this.#schedule(next);
  }

  #prune(): void {
    const files = readdirSync(this.options.dir).filter((f) => NAME.test(f)).sort();
    for (const f of files.slice(0, Math.max(0, files.length - this.options.keep))) {
      try {
        unlinkSync(join(this.options.dir, f));
      } catch (err) {
        this.options.logger.warn({ file: f, error: (err as NodeJS.ErrnoException).code }, 'could not delete an old scheduled backup');
      }
    }
  }
}
