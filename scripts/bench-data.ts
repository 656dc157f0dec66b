// The generated data the API benchmark and the load test read: one file of N lines under .bench/ (DuckDB reads
// it too), as a shop's export is one file, loaded once through the load command into the database `sales_bench_api` on DATABASE_URL's
// server, else on an embedded one under .bench/, and kept for the next run (BENCH_API_RELOAD=1 loads it again).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { type EmbeddedServer, startEmbeddedPostgres } from '../src/db/embedded-postgres.js';
import { migrate } from '../src/db/migrate.js';
import { generateSales, writeSalesCsv } from '../src/generate/sales-generator.js';
import { createLogger } from '../src/logger.js';
import { projectRoot } from '../src/paths.js';

const run = promisify(execFile);
export const workDir = path.join(projectRoot, '.bench');
const logger = createLogger('warn').logger;
const csvOptions = { style: 'standard', extraColumns: true } as const;

/** The generated file. */
export function benchFile(rows: number): string {
  return path.join(workDir, `bench-api-${rows}.csv`);
}

async function writeFile(rows: number): Promise<void> {
  await fs.mkdir(workDir, { recursive: true });
  if (existsSync(benchFile(rows))) return;
  await writeSalesCsv(benchFile(rows), generateSales({ rows, seed: 100, firstOrder: 1_000_000 }), csvOptions);
}

async function prepareDatabase(rows: number, serverUrl: string, benchUrl: string): Promise<void> {
  const admin = new pg.Client(serverUrl);
  await admin.connect();
  const exists = (await admin.query("SELECT FROM pg_database WHERE datname = 'sales_bench_api'")).rowCount === 1;
  if (!exists) await admin.query('CREATE DATABASE sales_bench_api');
  await admin.end();
  await migrate(benchUrl, logger);
  const client = new pg.Client(benchUrl);
  await client.connect();
  const { rows: counted } = await client.query('SELECT count(*)::bigint AS lines FROM order_items');
  await client.end();
  if (Number(counted[0].lines) === rows && !process.env.BENCH_API_RELOAD) return;
  console.log(`loading ${rows.toLocaleString('en')} generated order lines (once; kept in sales_bench_api)`);
  const started = performance.now();
  const { stdout } = await run(
    process.execPath,
    [path.join(projectRoot, 'dist/src/cli/load.js'), benchFile(rows), '--mode', 'replace', '--json'],
    { env: { ...process.env, DATABASE_URL: benchUrl, LOG_LEVEL: 'warn' }, maxBuffer: 1 << 24 },
  );
  const outcome = JSON.parse(stdout.trim().split('\n').at(-1)!);
  if (outcome.run.status !== 'succeeded') throw new Error(`load failed: ${outcome.run.error}`);
  console.log(`  ${path.basename(benchFile(rows))} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
}

export interface BenchDatabase {
  /** The database holding `rows` generated lines. */
  url: string;
  /** The generated file it was loaded from. */
  file: string;
  /** Stops the embedded server, if one was started. */
  stop(): Promise<void>;
}

/** The benchmark database with `rows` generated lines: files written and loaded only when missing. */
export async function openBenchDatabase(rows: number): Promise<BenchDatabase> {
  await writeFile(rows);
  let embedded: EmbeddedServer | undefined;
  if (!process.env.DATABASE_URL) {
    embedded = await startEmbeddedPostgres({ dataDir: path.join(workDir, 'postgres-api'), port: 54_398, logger });
  }
  const serverUrl = process.env.DATABASE_URL ?? embedded!.url;
  const url = Object.assign(new URL(serverUrl), { pathname: '/sales_bench_api' }).toString();
  try {
    await prepareDatabase(rows, serverUrl, url);
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
  return { url, file: benchFile(rows), stop: async () => embedded?.stop() };
}
