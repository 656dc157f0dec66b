// Where analytics answers are read from: the replicas of DATABASE_READ_URLS in turn (round robin), each
// skipped while it is down (retried after a back-off) or behind the data version a request needs, and the
// primary (DATABASE_URL) as the last resort, which always holds the newest committed version. Loads, runs
// and every other write use the primary's pool directly, never this.
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Queryable } from '../analytics/queryable.js';
import { checkOut, createPool, isDatabaseUnavailable } from './pool.js';

/** The data version of whatever the query sees: bumped by each load in its own transaction. */
export const dataVersion = async (db: Queryable) =>
  Number((await db.query<{ version: string }>('SELECT version FROM data_version')).rows[0].version);

/**
 * Reads a version (the data version, the newest published snapshot) with at most one read in flight: a
 * caller joins the next read to start, never one already running (its answer may predate a load or a publish
 * the caller has seen), so each answer still sees everything done before its request, while concurrent
 * requests share one round trip (or one directory listing) instead of each queueing for a pool connection or
 * a libuv thread (most of a cache hit's time under load).
 */
export function sharedReads<T>(read: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  let nextRound: Promise<T> | undefined;
  const start = () => {
    const query = read();
    const settled = () => {
      if (inFlight === query) inFlight = undefined;
    };
    query.then(settled, settled);
    inFlight = query;
    return query;
  };
  return () => {
    if (!inFlight) return start();
    nextRound ??= inFlight
      .catch(() => {})
      .then(() => {
        nextRound = undefined;
        return start();
      });
    return nextRound;
  };
}

export interface ReadSource {
  /**
   * 'primary', or 'replica-1', 'replica-2'... in DATABASE_READ_URLS order: /ready shows it to anyone who
   * asks, so it names no host (the log does).
   */
  name: string;
  replica: boolean;
  pool: pg.Pool;
  /**
   * A pool of its own for what observes the database (/ready, the metrics, the choice of a replica: is it
   * there, which version, how far behind, the run history), bounded by PROBE_TIMEOUT_MS and never waiting
   * behind the work on `pool`.
   */
  probe: pg.Pool;
  /** Its current data version (one shared probe at a time). */
  version(): Promise<number>;
  /** The work done on it since the process started: the analytics snapshots built from it (snapshot/store.ts). */
  answered: number;
}

export interface ReplicaStatus {
  name: string;
  state: 'up' | 'down';
  answered: number;
  /** Its data version, null when it does not answer. */
  dataVersion: number | null;
  /** Seconds since the last transaction it replayed was committed on the primary; 0 when it has replayed all it received. */
  lagSeconds: number | null;
  /** WAL bytes between the primary's current position and what the replica has replayed. */
  lagBytes: number | null;
  /** Why it is down. */
  error?: string;
}

/** First back-off of a replica that failed, doubled at each failure up to the last. */
const RETRY_FIRST_MS = 1_000;
const RETRY_MOST_MS = 30_000;
/** A replica that does not accept a connection in this time counts as down (a black-holed host would hang requests). */
const REPLICA_CONNECT_TIMEOUT_MS = 3_000;
/**
 * How long a probe of a database may wait for a connection, then for its answer. A host whose network drops
 * packets leaves a connection attempt or a query unanswered for as long as TCP retries (minutes): /ready, the
 * metrics and the choice of a replica say that it does not answer, before whoever asks gives up waiting.
 */
const PROBE_TIMEOUT_MS = 3_000;
const PROBE_CONNECTIONS = 2;

/**
 * Besides the database being away: what says this replica cannot serve now (out of resources, a query
 * cancelled by a recovery conflict, no such database or a refused login there), not that the query or the
 * request is wrong (those fail alike on the primary, and are the client's or ours to see).
 */
const REPLICA_FAULT_SQLSTATES = /^(53|57P04|28|3D000|40001)/;

export function isReplicaFault(error: unknown): boolean {
  const { code } = (error ?? {}) as { code?: unknown };
  return isDatabaseUnavailable(error) || (typeof code === 'string' && REPLICA_FAULT_SQLSTATES.test(code));
}

/** host:port/database, for the log (the replica's credentials never appear). */
function hostOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
}

interface Health {
  failures: number;
  retryAt: number;
  error?: string;
}

const REPLICA_POSITION = `
  SELECT (SELECT version FROM data_version) AS version,
         pg_last_wal_replay_lsn()::text AS replay_lsn,
         CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
              ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 END AS lag_seconds`;

const BYTES_BEHIND_PRIMARY = `SELECT greatest(0, pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn))::bigint AS lag_bytes`;

export class ReadRouter {
  readonly primary: ReadSource;
  readonly replicas: readonly ReadSource[];
  private readonly health = new Map<ReadSource, Health>();
  private readonly hosts = new Map<string, string>();
  private turn = 0;
  private newestSeen = 0;

  /** `primary`: the pool of DATABASE_URL (its owner's: this router does not end it) and its URL. */
  constructor(
    primary: { pool: pg.Pool; url: string },
    replicaUrls: readonly string[],
    private readonly logger: Logger,
  ) {
    const source = (name: string, url: string, pool: pg.Pool): ReadSource => {
      const probe = createPool(url, PROBE_CONNECTIONS, {
        connectionTimeoutMillis: PROBE_TIMEOUT_MS,
        query_timeout: PROBE_TIMEOUT_MS,
      });
      probe.on('error', (error) => logger.warn({ err: error, source: name, host: hostOf(url) }, 'idle probe connection failed'));
      const replica = name !== 'primary';
      return { name, replica, pool, probe, version: sharedReads(() => dataVersion(probe)), answered: 0 };
    };
    this.primary = source('primary', primary.url, primary.pool);
    this.replicas = replicaUrls.map((url, i) => {
      const pool = createPool(url, 10, { connectionTimeoutMillis: REPLICA_CONNECT_TIMEOUT_MS });
      const name = `replica-${i + 1}`;
      this.hosts.set(name, hostOf(url));
      pool.on('error', (error) =>
        logger.warn({ err: error, replica: name, host: hostOf(url) }, 'idle replica connection failed'),
      );
      return source(name, url, pool);
    });
    for (const replica of this.replicas) this.health.set(replica, { failures: 0, retryAt: 0 });
  }

  /** The newest data version this process has seen: no answer older than it is given any more. */
  get newest(): number {
    return this.newestSeen;
  }

  saw(version: number): void {
    if (version > this.newestSeen) this.newestSeen = version;
  }

  /** The replicas not down (or due for a retry), from the next one in turn. */
  private replicasInTurn(): ReadSource[] {
    const now = Date.now();
    const count = this.replicas.length;
    const start = count === 0 ? 0 : this.turn++ % count;
    return Array.from({ length: count }, (_, i) => this.replicas[(start + i) % count]).filter(
      (replica) => this.health.get(replica)!.retryAt <= now,
    );
  }

  /**
   * A source holding at least `floor` (and at least the newest version seen), with the version it holds:
   * a replica in turn that answers and is not behind, else the primary, whatever its version.
   */
  async choose(floor: number, except?: ReadSource): Promise<{ source: ReadSource; version: number }> {
    const needed = Math.max(floor, this.newestSeen);
    for (const replica of this.replicasInTurn()) {
      if (replica === except) continue;
      try {
        const version = await replica.version();
        this.markUp(replica);
        if (version >= needed) {
          this.saw(version);
          return { source: replica, version };
        }
      } catch (error) {
        if (!isReplicaFault(error)) throw error;
        this.markDown(replica, error as Error);
      }
    }
    const version = await this.primary.version();
    this.saw(version);
    return { source: this.primary, version };
  }

  /**
   * Runs `work` on a client of `source`; if that replica fails as a replica can (away, restarting, a
   * recovery conflict), it is marked down and the work runs again on the next source that holds `floor`.
   */
  async withClient<T>(
    chosen: ReadSource,
    floor: number,
    work: (client: pg.PoolClient) => Promise<{ version: number; result: T }>,
  ): Promise<{ version: number; result: T }> {
    let source = chosen;
    for (;;) {
      let session: Awaited<ReturnType<typeof checkOut>> | undefined;
      try {
        session = await checkOut(source.pool);
        const outcome = await work(session.client);
        session.release();
        source.answered += 1;
        this.saw(outcome.version);
        return outcome;
      } catch (error) {
        session?.release(error as Error);
        if (!source.replica || !isReplicaFault(error)) throw error;
        this.markDown(source, error as Error);
        source = (await this.choose(floor, source)).source;
      }
    }
  }

  private markDown(replica: ReadSource, error: Error): void {
    const health = this.health.get(replica)!;
    health.failures += 1;
    health.retryAt = Date.now() + Math.min(RETRY_MOST_MS, RETRY_FIRST_MS * 2 ** (health.failures - 1));
    if (health.failures === 1)
      this.logger.warn(
        { err: error, replica: replica.name, host: this.hosts.get(replica.name) },
        'read replica down: reads skip it',
      );
    health.error = error.message;
  }

  private markUp(replica: ReadSource): void {
    const health = this.health.get(replica)!;
    if (health.failures > 0)
      this.logger.info({ replica: replica.name, host: this.hosts.get(replica.name) }, 'read replica back up');
    health.failures = 0;
    health.retryAt = 0;
    health.error = undefined;
  }

  /** Each replica's state, data version and lag, probed now (a down replica that answers is up again). */
  async status(): Promise<ReplicaStatus[]> {
    return Promise.all(
      this.replicas.map(async (replica): Promise<ReplicaStatus> => {
        let position: { version: string; replay_lsn: string | null; lag_seconds: number | null };
        try {
          position = (await replica.probe.query(REPLICA_POSITION)).rows[0];
        } catch (error) {
          if (!isReplicaFault(error)) throw error;
          this.markDown(replica, error as Error);
          const { error: reason } = this.health.get(replica)!;
          const down = { state: 'down', dataVersion: null, lagSeconds: null, lagBytes: null, error: reason } as const;
          return { name: replica.name, answered: replica.answered, ...down };
        }
        this.markUp(replica);
        const version = Number(position.version);
        this.saw(version);
        // Measured on the primary, against its current WAL position: unknown when the primary does not answer, or
        // for a server that is no standby (it has no replay position).
        const lagBytes = position.replay_lsn === null ? null : await this.bytesBehindPrimary(position.replay_lsn);
        const { lag_seconds: lagSeconds } = position;
        return { name: replica.name, state: 'up', answered: replica.answered, dataVersion: version, lagSeconds, lagBytes };
      }),
    );
  }

  private async bytesBehindPrimary(replayLsn: string): Promise<number | null> {
    try {
      return Number((await this.primary.probe.query(BYTES_BEHIND_PRIMARY, [replayLsn])).rows[0].lag_bytes);
    } catch (error) {
      if (isDatabaseUnavailable(error)) return null;
      throw error;
    }
  }

  /** Ends the replicas' pools and every probe pool (the primary's own pool belongs to whoever opened it). */
  async close(): Promise<void> {
    await Promise.all([
      ...this.replicas.map((replica) => replica.pool.end()),
      ...[this.primary, ...this.replicas].map((source) => source.probe.end()),
    ]);
  }
}
