// A fresh, migrated database per test file, cloned from the template the global fixture made; in the replica
// pass (TEST_REPLICA_URL), also its URL on the replica, which has replayed its creation.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createPool } from '../../src/db/pool.js';
import { databaseKey } from '../../src/snapshot/identity.js';
import { TEMPLATE_DATABASE } from './global-database.js';
import { replayed } from './pg-cluster.js';

export interface TestDatabase {
  url: string;
  /** Where the analytics snapshots of this database's loads are published. */
  analyticsDir: string;
  /** The same database on the replica the run's test servers read from (TEST_READ_REPLICA=1 only). */
  replicaUrl?: string;
  pool: pg.Pool;
  drop(): Promise<void>;
}

let counter = 0;

/** Each test database's snapshot directory, by its pool (what the tests' loads are given). */
const analyticsDirs = new WeakMap<pg.Pool, string>();

/** The folder of the snapshots of the test database whose pool this is (identity.ts). */
export async function snapshotDirOf(pool: pg.Pool): Promise<string> {
  return path.join(analyticsDirOf(pool), await databaseKey(pool));
}

/** The snapshot directory of the test database whose pool this is (a pool a test made itself gets its own). */
export function analyticsDirOf(pool: pg.Pool): string {
  let directory = analyticsDirs.get(pool);
  if (!directory) {
    directory = path.join(os.tmpdir(), `sales-analytics-pool-${process.pid}-${++counter}`);
    analyticsDirs.set(pool, directory);
  }
  return directory;
}

/**
 * In the replica pass, waits until the replica has replayed everything committed on the primary so far
 * (the test's way to read its own writes, as a client uses minVersion); else there is nothing to wait for.
 */
export async function replicaCaughtUp(): Promise<void> {
  if (process.env.TEST_REPLICA_URL) await replayed(process.env.TEST_ADMIN_URL!, process.env.TEST_REPLICA_URL);
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function admin<T>(action: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(process.env.TEST_ADMIN_URL);
  await client.connect();
  try {
    return await action(client);
  } finally {
    await client.end();
  }
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `sales_test_${process.pid}_${++counter}`;
  await admin((client) => client.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DATABASE}`));
  await replicaCaughtUp();
  const url = withDatabase(process.env.TEST_ADMIN_URL!, name);
  const replicaUrl = process.env.TEST_REPLICA_URL && withDatabase(process.env.TEST_REPLICA_URL, name);
  const pool = createPool(url);
  // Connections the DROP ... WITH (FORCE) below terminates report it here; that is expected.
  pool.on('error', () => {});
  const analyticsDir = path.join(os.tmpdir(), `sales-analytics-${name}`);
  analyticsDirs.set(pool, analyticsDir);
  return {
    url,
    analyticsDir,
    ...(replicaUrl && { replicaUrl }),
    pool,
    async drop() {
      await pool.end();
      await admin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      await fs.rm(analyticsDir, { recursive: true, force: true });
    },
  };
}

/** Registers mocha hooks that give the suite a fresh database: one per file, or one per test with `each`. */
export function useTestDatabase(options: { each?: boolean } = {}): () => TestDatabase {
  let db: TestDatabase | undefined;
  const [setUp, tearDown] = options.each ? [beforeEach, afterEach] : [before, after];
  setUp(async () => {
    db = await createTestDatabase();
  });
  tearDown(() => db?.drop());
  return () => db!;
}
