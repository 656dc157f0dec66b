// Mocha global fixture: one PostgreSQL server for the run (DATABASE_URL's, or an embedded one) and a
// migrated template database that each test file clones (CREATE DATABASE ... TEMPLATE): fast and isolated.
// With TEST_READ_REPLICA=1, the server is a primary of Debian's PostgreSQL started here with a streaming
// replica made by pg_basebackup -R; the replica replays every database cloned on the primary, and the test
// servers read their answers from it (TEST_REPLICA_URL).
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { type EmbeddedServer, startEmbeddedPostgres } from '../../src/db/embedded-postgres.js';
import { migrate } from '../../src/db/migrate.js';
import { createLogger } from '../../src/logger.js';
import { type PgCluster, startPrimary, startReplica } from './pg-cluster.js';
import { removeTestFiles } from './temp-files.js';

export const TEMPLATE_DATABASE = 'sales_analytics_template';
let embedded: EmbeddedServer | undefined;
let replicated: { primary: PgCluster; replica: PgCluster } | undefined;
/** Where the replica pass's snapshots were built from (the test servers add theirs as they close). */
export const replicaPassAnswers = { replica: 0, primary: 0 };

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** The embedded server's cluster: this run's alone, removed when the run ends. */
const embeddedDataDir = path.join(os.tmpdir(), `sales-analytics-test-${process.pid}`);

export async function mochaGlobalSetup(): Promise<void> {
  const logger = createLogger('warn').logger;
  if (process.env.TEST_READ_REPLICA === '1') {
    const primary = await startPrimary();
    replicated = { primary, replica: await startReplica(primary) };
    process.env.DATABASE_URL = primary.url();
    process.env.TEST_REPLICA_URL = replicated.replica.url();
  } else if (!process.env.DATABASE_URL) {
    embedded = await startEmbeddedPostgres({
      dataDir: embeddedDataDir,
      port: 54_330 + (process.pid % 500),
      logger,
    });
  }
  const adminUrl = process.env.DATABASE_URL ?? embedded!.url;
  const admin = new pg.Client(adminUrl);
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
  } finally {
    await admin.end();
  }
  await migrate(withDatabase(adminUrl, TEMPLATE_DATABASE), logger);
  process.env.TEST_ADMIN_URL = adminUrl;
}

export async function mochaGlobalTeardown(): Promise<void> {
  await removeTestFiles();
  if (embedded) {
    await embedded.stop();
    await fs.rm(embeddedDataDir, { recursive: true, force: true });
  }
  await replicated?.replica.remove();
  await replicated?.primary.remove();
  if (replicated) {
    const { replica, primary } = replicaPassAnswers;
    console.log(`replica pass: ${replica} analytics snapshots built from the replica, ${primary} from the primary`);
    // Builds that fell back to the primary would pass the tests without testing the replica: every test
    // that writes waits for the replica to replay it (replicaCaughtUp), so none has reason to.
    if (replica === 0 || primary > 0) throw new Error('replica pass: the snapshots must all be built from the replica');
  }
}
