// A fresh, migrated database per test file, cloned from the template the global fixture made.
import pg from 'pg';
import { createPool } from '../../src/db/database.js';
import { TEMPLATE_DATABASE } from './global-database.js';

export interface TestDatabase {
  url: string;
  pool: pg.Pool;
  drop(): Promise<void>;
}

let counter = 0;

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
  const url = new URL(process.env.TEST_ADMIN_URL!);
  url.pathname = `/${name}`;
  const pool = createPool(url.toString());
  // Connections the DROP ... WITH (FORCE) below terminates report it here; that is expected.
  pool.on('error', () => {});
  return {
    url: url.toString(),
    pool,
    async drop() {
      await pool.end();
      await admin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
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
