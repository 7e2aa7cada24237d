// One dedicated PostgreSQL connection that LISTENs on a channel (a pooled connection cannot:
// LISTEN belongs to the session, and the pool hands sessions round). Notifications sent while
// the connection is down are lost — PostgreSQL queues them only for listening sessions — so
// every (re)connection is reported, and the owner reloads what it holds from the database.
// The connection is re-established with a bounded backoff until close().
import pg from 'pg';

export interface ListenerHandlers {
  notify(payload: string | undefined): void;
  /** The connection was re-established after a drop: notifications may have been missed. */
  reconnected(): void;
}

/** Shown in pg_stat_activity, so an operator (or a test) can tell the listening session apart. */
export const LISTENER_APPLICATION_NAME = 'keyhaven-listener';

const MIN_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 2_000;

export class PostgresListener {
  #client: pg.Client | undefined;
  #closed = false;
  #backoff = MIN_BACKOFF_MS;
  #timer: NodeJS.Timeout | undefined;
  #connecting: Promise<void> | undefined;

  constructor(
    private readonly url: string,
    private readonly channel: string,
    private readonly handlers: ListenerHandlers,
  ) {}

  /** Resolves once the first connection listens; throws if it cannot be made. */
  async start(): Promise<void> {
    await this.#connect();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#connecting?.catch(() => undefined);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }

  #connect(): Promise<void> {
    this.#connecting = (async () => {
      const client = new pg.Client({ connectionString: this.url, application_name: LISTENER_APPLICATION_NAME, connectionTimeoutMillis: 10_000 });
      let dropped = false;
      const drop = () => {
        if (dropped) return;
        dropped = true;
        if (this.#client === client) this.#client = undefined;
        client.end().catch(() => undefined);
        this.#schedule();
      };
      client.on('error', drop);
      client.on('end', drop);
      client.on('notification', (n) => {
        if (n.channel === this.channel) this.handlers.notify(n.payload);
      });
      try {
        await client.connect();
        // The channel is a fixed identifier of ours, never client input.
        await client.query(`LISTEN ${this.channel}`);
      } catch (err) {
        dropped = true;
        await client.end().catch(() => undefined);
        throw err;
      }
      if (this.#closed) {
        await client.end().catch(() => undefined);
        return;
      }
      this.#client = client;
      this.#backoff = MIN_BACKOFF_MS;
    })();
    return this.#connecting;
  }

  #schedule(): void {
    if (this.#closed || this.#timer) return;
    const delay = this.#backoff;
    this.#backoff = Math.min(this.#backoff * 2, MAX_BACKOFF_MS);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#closed) return;
      this.#connect().then(
        () => {
          if (!this.#closed) this.handlers.reconnected();
        },
        () => this.#schedule(),
      );
    }, delay);
    this.#timer.unref();
  }
}
