// Purging after retention, on a schedule (Key Vault: a soft-deleted secret or vault is purged
// for good at its scheduledPurgeDate). Every replica may run it: each purge re-checks the row
// in its own transaction, so two replicas purging the same secret purge it once.
import type { SecretService } from './secret-service.js';

export class PurgeSchedule {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;

  constructor(
    private readonly secrets: SecretService,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    if (this.intervalMs <= 0 || this.#timer) return;
    this.#timer = setInterval(() => this.runOnce(), this.intervalMs);
    this.#timer.unref();
  }

  /** One sweep (skipped while the previous one still runs). */
  runOnce(): void {
    if (this.#running) return;
    this.#running = this.secrets.purgeDue().catch(this.onError).finally(() => (this.#running = undefined));
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}
