// Whether this server is usable, for /readyz. The HTTPS listener opens before the LDAP
// listeners and before the bootstrap admin exists (its password is hashed only once the ports
// are ours, so that a start that cannot listen shows no password), so "the port answers" is
// not "ready": a load balancer or a script that signs in as soon as /readyz says ready would
// get AADSTS50126 for an admin about to exist. startServer marks it ready after the last
// start-up step and not ready again when shutdown begins (Kubernetes' readiness semantics:
// take the instance out of rotation before it stops serving).
export type ReadinessState = 'starting' | 'ready' | 'stopping';

/** The store behind the server, as far as readiness needs it. */
export interface StoreProbe {
  readonly engine: string;
  ping(): Promise<unknown>;
  /**
   * Migrations this version has and the store lacks. A store can lose them after start: it
   * was restored from an older backup, or rolled back, under a running server.
   */
  pendingMigrations?(): Promise<string[]>;
}

export interface ReadinessReport {
  ready: boolean;
  status: ReadinessState | 'unavailable' | 'migrations-pending';
  storage: string;
}

export class Readiness {
  #state: ReadinessState = 'starting';

  constructor(private readonly store?: StoreProbe) {}

  /** Ready, and the store answers now (/readyz asks on every probe). */
  async check(): Promise<ReadinessReport> {
    const storage = this.store?.engine ?? 'none';
    if (!this.ready) return { ready: false, status: this.#state, storage };
    let pending: string[] = [];
    try {
      await this.store?.ping();
      pending = (await this.store?.pendingMigrations?.()) ?? [];
    } catch {
      return { ready: false, status: 'unavailable', storage };
    }
    if (pending.length > 0) return { ready: false, status: 'migrations-pending', storage };
    return { ready: true, status: 'ready', storage };
  }

  get state(): ReadinessState {
    return this.#state;
  }

  get ready(): boolean {
    return this.#state === 'ready';
  }

  markReady(): void {
    if (this.#state === 'starting') this.#state = 'ready';
  }

  markStopping(): void {
    this.#state = 'stopping';
  }
}
