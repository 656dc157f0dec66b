// A server's view of the published snapshots: each question is answered from the newest one, opened
// read-only; a request in flight finishes on the snapshot it started on, and an older snapshot is closed once
// no request uses it. Publishing is a link into the directory (build.ts), so a file seen here is whole.
import fs from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { Queryable } from '../analytics/sql.js';
import { isDatabaseUnavailable } from '../db/database.js';
import { dataVersion, type ReadRouter } from '../db/read-pool.js';
import { buildSnapshot, buildSnapshotFrom, type SnapshotLimits } from './build.js';
import { databaseKey } from './identity.js';
import { duckQueryable } from './queryable.js';

const PUBLISHED = /^v(\d{1,15})\.duckdb$/;

/** The versions published in a directory, newest first. */
export async function publishedVersions(directory: string): Promise<number[]> {
  const names = await fs.readdir(directory).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  return names
    .map((name) => PUBLISHED.exec(name)?.[1])
    .filter((digits): digits is string => digits !== undefined)
    .map(Number)
    .sort((a, b) => b - a);
}

/** No snapshot has been published yet (a server that starts builds one before it is ready). */
export class NoSnapshotError extends Error {
  override name = 'NoSnapshotError';
}

interface Opened {
  version: number;
  instance: Promise<DuckDBInstance>;
  users: number;
}

export interface ReaderLimits {
  threads: number;
  memoryLimit: string;
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

export class SnapshotStore {
  private current: Opened | undefined;
  private readonly retired = new Set<Opened>();
  private building: Promise<unknown> | undefined;

  private readonly follower?: Follower;
  private readonly primary?: { pool: Pool; logger: Logger };

  /**
   * The store of the database `db` reads, in its folder of `base` (identity.ts).
   * `follower`: build from the replicas read (see Follower). `primary`: rebuild from it a snapshot found
   * damaged (a server on the loads' machine, whose snapshots the loads publish).
   */
  static async forDatabase(
    db: Queryable,
    base: string,
    limits: ReaderLimits,
    options: { follower?: Follower; primary?: { pool: Pool; logger: Logger } } = {},
  ): Promise<SnapshotStore> {
    return new SnapshotStore(path.join(base, await databaseKey(db)), limits, options);
  }

  /** `directory`: one database's folder (forDatabase). */
  constructor(
    readonly directory: string,
    private readonly limits: ReaderLimits,
    options: { follower?: Follower; primary?: { pool: Pool; logger: Logger } } = {},
  ) {
    this.follower = options.follower;
    this.primary = options.primary;
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
          { dataVersion: built.version, ms: built.ms, from: chosen.source.name },
          'analytics snapshot built',
        );
        return { version: built.version, result: built };
      })
      .finally(() => {
        this.building = undefined;
      });
    await this.building;
  }

  /** Whether this store builds its snapshots from the replicas it reads (see Follower). */
  get follows(): boolean {
    return this.follower !== undefined;
  }

  /** The newest published version, or undefined before the first. */
  async newestVersion(): Promise<number | undefined> {
    return (await publishedVersions(this.directory))[0];
  }

  /**
   * Runs `read` on the newest snapshot; it keeps that snapshot open until it returns. A snapshot that cannot
   * be opened is set aside (`.damaged`) and rebuilt: meanwhile the answer is a 503.
   */
  async read<T>(read: (db: Queryable, version: number) => Promise<T>): Promise<T> {
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
    const logger = this.follower?.logger ?? this.primary?.logger;
    logger?.error({ err: error, file }, 'the analytics snapshot cannot be opened: set aside and built again');
    await fs.rename(file, `${file}.damaged`).catch(() => {});
    if (this.follower) return; // its next prepare() builds the version its read database holds
    const primary = this.primary;
    if (!primary) return;
    this.building ??= buildSnapshot(primary.pool, path.dirname(this.directory), this.limits)
      .catch((buildError) => primary.logger.error({ err: buildError }, 'the analytics snapshot could not be built again'))
      .finally(() => {
        this.building = undefined;
      });
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

/**
 * Builds the snapshot of the record's current version unless it is published already: at start-up, after a
 * build that failed or was killed, or on a new snapshot directory.
 */
export async function ensureSnapshot(pool: Pool, store: SnapshotStore, limits: SnapshotLimits, logger: Logger): Promise<void> {
  if (store.follows) {
    await store.prepare(0);
    return;
  }
  const record = await dataVersion(pool);
  const newest = await store.newestVersion();
  if (newest === record) return;
  logger.info({ dataVersion: record, snapshotVersion: newest ?? null }, 'building the analytics snapshot');
  const built = await buildSnapshot(pool, path.dirname(store.directory), limits);
  logger.info({ dataVersion: built.version, ms: built.ms }, 'analytics snapshot published');
}
