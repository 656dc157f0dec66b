// A server's view of the published snapshots: each question is answered from the newest one, opened
// read-only; a request in flight finishes on the snapshot it started on, and an older snapshot is closed once
// no request uses it. Publishing is a link into the directory (build.ts), so a file seen here is whole.
import fs from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import pLimit, { type LimitFunction } from 'p-limit';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { Queryable } from '../analytics/queryable.js';
import { isDatabaseUnavailable } from '../db/pool.js';
import { dataVersion, type ReadRouter, sharedReads } from '../db/read-pool.js';
import { buildSnapshotFrom, type SnapshotLimits } from './build.js';
import { buildSnapshotApart } from './build-apart.js';
import { databaseKey } from './identity.js';
import { publishedVersions } from './published.js';
import { duckQueryable } from './queryable.js';

/** No snapshot has been published yet (a server that starts builds one before it is ready). */
export class NoSnapshotError extends Error {
  override name = 'NoSnapshotError';
}

interface Opened {
  version: number;
  instance: Promise<DuckDBInstance>;
  users: number;
}

/** What the answering snapshot says of itself (its own row, build.ts). */
export interface SnapshotFacts {
  version: number;
  /** When it was built, in Unix seconds. */
  builtAt: number;
  /** How long its build took; null for a snapshot of a build that did not record it. */
  buildSeconds: number | null;
}

export interface ReaderLimits extends SnapshotLimits {
  /** Questions asked of DuckDB at once (config.ts): the others wait for a slot. */
  queries: number;
}

/**
 * A server that reads replicas (DATABASE_READ_URLS) may run on another machine than the loads: it builds the
 * snapshot of what its read database holds itself, from a replica in turn (the primary when none holds the
 * version asked for), one build at a time; a request waits for the build of a version its read database
 * already holds, as it waited for that database before: no answer is older than what the process has seen.
 */
export interface Follower {
  reads: ReadRouter;
  logger: Logger;
}

/** The database the loads write, for a server on their machine: it builds what they did not publish. */
export interface Primary {
  pool: Pool;
  url: string;
  logger: Logger;
}

export class SnapshotStore {
  private current: Opened | undefined;
  private readonly retired = new Set<Opened>();
  private building: Promise<unknown> | undefined;
  private readonly slots: LimitFunction;
  /** The start-up build while it runs (catchUp), and why the last one failed. */
  private startup: Promise<void> | undefined;
  private startupFailure: string | undefined;
  /** The answering snapshot's own row, read once per version. */
  private facts: SnapshotFacts | undefined;

  private readonly follower?: Follower;
  private readonly primary?: Primary;

  /**
   * The store of the database `db` reads, in its folder of `base` (identity.ts).
   * `follower`: build from the replicas read (see Follower). `primary`: build from it, at start-up, a snapshot
   * missing, behind or damaged, and one found damaged later (a server on the loads' machine, whose snapshots
   * the loads publish).
   */
  static async forDatabase(
    db: Queryable,
    base: string,
    limits: ReaderLimits,
    options: { follower?: Follower; primary?: Primary } = {},
  ): Promise<SnapshotStore> {
    return new SnapshotStore(path.join(base, await databaseKey(db)), limits, options);
  }

  /** `directory`: one database's folder (forDatabase). */
  constructor(
    readonly directory: string,
    private readonly limits: ReaderLimits,
    options: { follower?: Follower; primary?: Primary } = {},
  ) {
    this.follower = options.follower;
    this.primary = options.primary;
    this.slots = pLimit(limits.queries);
  }

  /**
   * At start-up: builds the snapshot of the record's version unless it is published and opens (a first start,
   * a build that failed or was killed, a new snapshot directory, a damaged file); a follower builds what its
   * read database holds.
   * The server is not ready until this ends. A build that fails is logged, kept as the reason the server is
   * not ready when no snapshot answers, and retried by the next start or refresh. Never rejects.
   */
  catchUp(): Promise<void> {
    this.startup = (this.follower ? this.prepare(0) : this.buildBehind())
      .then(
        () => {
          this.startupFailure = undefined;
        },
        (error: Error) => {
          this.startupFailure = error.message;
          this.logger?.error({ err: error }, 'the analytics snapshot could not be built at start-up');
        },
      )
      .finally(() => {
        this.startup = undefined;
      });
    return this.startup;
  }

  /** Whether the newest snapshot is not of the primary's current version (a follower's prepare() decides its own). */
  private async behind(): Promise<boolean> {
    if (!this.primary) return false;
    return (await this.newestVersion()) !== (await dataVersion(this.primary.pool));
  }

  /**
   * Whether a primary's store needs a build before it answers: its newest snapshot is behind the record, or
   * cannot be opened (then it is set aside and its build has begun).
   */
  async needsBuild(): Promise<boolean> {
    if (!this.primary) return false;
    if (await this.behind()) return true;
    return this.read(async () => false).catch((error) => {
      if (error instanceof NoSnapshotError) return true;
      throw error;
    });
  }

  private async buildBehind(): Promise<void> {
    if (!(await this.needsBuild())) return;
    this.primary?.logger.info('building the analytics snapshot of the record');
    await this.rebuild();
  }

  /**
   * Whether this store answers: once the start-up build has ended, from its newest snapshot (which may be behind
   * the record when a build failed: the record's version says so beside it).
   */
  async readiness(): Promise<{ version: number } | { reason: string }> {
    if (this.startup) return { reason: 'building the analytics snapshot' };
    const version = await this.newestVersion();
    if (version !== undefined) return { version };
    return { reason: this.startupFailure ?? 'no analytics snapshot has been built yet' };
  }

  private get logger(): Logger | undefined {
    return this.follower?.logger ?? this.primary?.logger;
  }

  /**
   * The primary's snapshot of its current version, built in a process of its own (build-apart.ts): DuckDB's
   * memory stays out of the server's. One at a time; a second caller waits for the build under way.
   */
  private rebuild(): Promise<unknown> {
    const primary = this.primary;
    if (!primary) return Promise.resolve();
    this.building ??= buildSnapshotApart(primary.url, path.dirname(this.directory), this.limits)
      .then((built) =>
        primary.logger.info({ dataVersion: built.version, ms: built.ms, made: built.made }, 'analytics snapshot published'),
      )
      .finally(() => {
        this.building = undefined;
      });
    return this.building;
  }

  /**
   * Before an answer: a follower whose read database (holding at least `floor`, a client's minVersion, when
   * one does) is newer than its newest snapshot builds that version and waits for it. A read database that
   * does not answer leaves the snapshots as they are.
   */
  async prepare(floor: number): Promise<void> {
    if (!this.follower) return;
    const newest = await this.newestVersion();
    let chosen: Awaited<ReturnType<ReadRouter['choose']>>;
    try {
      chosen = await this.follower.reads.choose(floor);
    } catch (error) {
      if (newest !== undefined && isDatabaseUnavailable(error)) return;
      throw error;
    }
    if (newest !== undefined && chosen.version <= newest) return;
    this.building ??= this.follower.reads
      .withClient(chosen.source, floor, async (client) => {
        const built = await buildSnapshotFrom(client, path.dirname(this.directory), this.limits);
        this.follower?.logger.info(
          { dataVersion: built.version, ms: built.ms, made: built.made, from: chosen.source.name },
          'analytics snapshot built',
        );
        return { version: built.version, result: built };
      })
      .finally(() => {
        this.building = undefined;
      });
    await this.building;
  }

  /** Questions answering now, and waiting for a slot (ReaderLimits.queries). */
  get questions(): { active: number; waiting: number } {
    return { active: this.slots.activeCount, waiting: this.slots.pendingCount };
  }

  /** The answering snapshot's facts (the metrics), or undefined before the first is published. */
  async answering(): Promise<SnapshotFacts | undefined> {
    const newest = await this.newestVersion();
    if (newest === undefined) return undefined;
    if (this.facts?.version !== newest) {
      this.facts = await this.read(async (db, version) => {
        const { rows } = await db.query<{ built_at: number; build_seconds?: number }>(
          'SELECT epoch(built_at) AS built_at, * EXCLUDE (built_at) FROM snapshot',
        );
        return { version, builtAt: rows[0].built_at, buildSeconds: rows[0].build_seconds ?? null };
      });
    }
    return this.facts;
  }

  /** Whether this store builds its snapshots from the replicas it reads (see Follower). */
  get follows(): boolean {
    return this.follower !== undefined;
  }

  /** The newest published version, or undefined before the first (one listing shared by concurrent requests). */
  newestVersion(): Promise<number | undefined> {
    return this.newest();
  }

  private readonly newest = sharedReads(async () => (await publishedVersions(this.directory))[0]);

  /**
   * Runs `read` on the newest snapshot once a slot is free (ReaderLimits.queries); it keeps that snapshot open
   * until it returns. A snapshot that cannot be opened is set aside (`.damaged`) and rebuilt: meanwhile the
   * answer is a 503.
   */
  read<T>(read: (db: Queryable, version: number) => Promise<T>): Promise<T> {
    return this.slots(() => this.readNewest(read));
  }

  private async readNewest<T>(read: (db: Queryable, version: number) => Promise<T>): Promise<T> {
    const opened = await this.acquire();
    try {
      const instance = await opened.instance.catch(async (error: Error) => {
        await this.setAside(opened.version, error);
        throw new NoSnapshotError('the analytics snapshot could not be opened; it is being built again');
      });
      const connection = await instance.connect();
      try {
        return await read(duckQueryable(connection), opened.version);
      } finally {
        connection.closeSync();
      }
    } finally {
      opened.users--;
      if (opened !== this.current && opened.users === 0) this.release(opened);
    }
  }

  private async acquire(): Promise<Opened> {
    const newest = await this.newestVersion();
    if (newest === undefined) throw new NoSnapshotError('no analytics snapshot has been built yet');
    if (this.current?.version !== newest) {
      const previous = this.current;
      this.current = {
        version: newest,
        instance: DuckDBInstance.create(path.join(this.directory, `v${newest}.duckdb`), {
          access_mode: 'READ_ONLY',
          threads: String(this.limits.threads),
          memory_limit: this.limits.memoryLimit,
        }),
        users: 0,
      };
      // A file that cannot be opened (damaged) is tried again by the next request, not kept as a failure.
      const opening = this.current;
      opening.instance.catch(() => {
        if (this.current === opening) this.current = undefined;
      });
      if (previous) {
        if (previous.users === 0) this.release(previous);
        else this.retired.add(previous);
      }
    }
    this.current.users++;
    return this.current;
  }

  private async setAside(version: number, error: Error): Promise<void> {
    const file = path.join(this.directory, `v${version}.duckdb`);
    this.logger?.error({ err: error, file }, 'the analytics snapshot cannot be opened: set aside and built again');
    await fs.rename(file, `${file}.damaged`).catch(() => {});
    if (this.follower) return; // its next prepare() builds the version its read database holds
    this.rebuild().catch((buildError) =>
      this.logger?.error({ err: buildError }, 'the analytics snapshot could not be built again'),
    );
  }

  private release(opened: Opened): void {
    this.retired.delete(opened);
    void opened.instance.then((instance) => instance.closeSync()).catch(() => {});
  }

  async close(): Promise<void> {
    for (const opened of [...this.retired, ...(this.current ? [this.current] : [])]) this.release(opened);
    this.current = undefined;
  }
}
