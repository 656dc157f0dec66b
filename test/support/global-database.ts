// Mocha global fixture: one PostgreSQL server for the run (DATABASE_URL's, or an embedded one) and a
// migrated template database that each test file clones (CREATE DATABASE ... TEMPLATE): fast and isolated.
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { type EmbeddedServer, startEmbeddedPostgres } from '../../src/db/embedded-postgres.js';
import { migrate } from '../../src/db/migrate.js';
import { createLogger } from '../../src/logger.js';

export const TEMPLATE_DATABASE = 'sales_analytics_template';
let embedded: EmbeddedServer | undefined;

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export async function mochaGlobalSetup(): Promise<void> {
  const logger = createLogger('warn').logger;
  if (!process.env.DATABASE_URL) {
    embedded = await startEmbeddedPostgres({
      dataDir: path.join(os.tmpdir(), `sales-analytics-test-${process.pid}`),
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
  await embedded?.stop();
}
