// npm run bench:api: the analytics endpoints over N order lines (default 10,000,000; BENCH_API_ROWS), each
// timed over HTTP with the answer cache off (autocannon, one connection), for one year and for all time,
// against the same answer computed naively from order_items joined to orders, in the same run.
// The data is generated and loaded once (in appends of 2M lines, through the load command) into the
// database `sales_bench_api` (DATABASE_URL's server, else an embedded one under .bench/) and kept for the
// next run; BENCH_API_RELOAD=1 loads it again. BENCH_API_ENDPOINTS=a,b times only those endpoints.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { readConfig } from '../src/config.js';
import { createPool } from '../src/db/database.js';
import { startEmbeddedPostgres } from '../src/db/embedded-postgres.js';
import { migrate } from '../src/db/migrate.js';
import { generateSales, writeSalesCsv } from '../src/generate/sales-generator.js';
import { createApp } from '../src/http/app.js';
import { createLogger } from '../src/logger.js';
import { projectRoot } from '../src/paths.js';
import { RefreshScheduler } from '../src/refresh/scheduler.js';

const run = promisify(execFile);
const rows = Number(process.env.BENCH_API_ROWS ?? 10_000_000);
const CHUNK = 2_000_000;
const workDir = path.join(projectRoot, '.bench');
const logger = createLogger('warn').logger;
const YEAR = 'from=2023-01-01&to=2023-12-31';

await fs.mkdir(workDir, { recursive: true });
const embedded = process.env.DATABASE_URL
  ? undefined
  : await startEmbeddedPostgres({ dataDir: path.join(workDir, 'postgres-api'), port: 54_398, logger });
const serverUrl = process.env.DATABASE_URL ?? embedded!.url;
const benchUrl = Object.assign(new URL(serverUrl), { pathname: '/sales_bench_api' }).toString();

async function prepareData(): Promise<void> {
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
  for (let first = 0; first < rows; first += CHUNK) {
    const file = path.join(workDir, 'bench-api-chunk.csv');
    const chunkRows = Math.min(CHUNK, rows - first);
    // Disjoint order numbers per chunk; the same product and customer codes recur across chunks.
    await writeSalesCsv(file, generateSales({ rows: chunkRows, seed: 100 + first / CHUNK, firstOrder: 1_000_000 + first }), {
      style: 'standard',
      extraColumns: true,
    });
    const mode = first === 0 ? 'replace' : 'append';
    const started = performance.now();
    const { stdout } = await run(
      process.execPath,
      [path.join(projectRoot, 'dist/src/cli/load.js'), file, '--mode', mode, '--json'],
      {
        env: { ...process.env, DATABASE_URL: benchUrl, LOG_LEVEL: 'warn' },
        maxBuffer: 1 << 24,
      },
    );
    const outcome = JSON.parse(stdout);
    if (outcome.run.status !== 'succeeded') throw new Error(`load failed: ${outcome.run.error}`);
    console.log(`  ${(first + chunkRows).toLocaleString('en')} lines (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    await fs.rm(file);
  }
}

/** The naive answer: straight from the order lines, no aggregation layer. */
const LINE = `(SELECT o.sale_date, o.order_id, o.customer_id, o.region_id, i.product_id, i.quantity,
                      i.quantity * i.unit_price * (1 - i.discount) AS revenue
               FROM order_items i JOIN orders o USING (order_id) WHERE o.sale_date BETWEEN $1 AND $2) l`;
const NAIVE: Record<string, string> = {
  revenue: `SELECT round(sum(revenue), 2), count(DISTINCT order_id), sum(quantity) FROM ${LINE}`,
  'revenue/by-category': `SELECT c.name, round(sum(revenue), 2) FROM ${LINE} JOIN products p USING (product_id)
                          JOIN categories c USING (category_id) GROUP BY c.name ORDER BY 2 DESC`,
  'revenue/by-region': `SELECT r.name, round(sum(revenue), 2) FROM ${LINE} JOIN regions r USING (region_id) GROUP BY r.name ORDER BY 2 DESC`,
  'revenue/by-product': `SELECT product_id, round(sum(revenue), 2) FROM ${LINE} GROUP BY product_id ORDER BY sum(revenue) DESC LIMIT 100`,
  'revenue/trend': `SELECT date_trunc('month', sale_date), round(sum(revenue), 2), count(DISTINCT order_id) FROM ${LINE} GROUP BY 1 ORDER BY 1`,
  'products/top': `SELECT product_id, sum(quantity), sum(revenue) FROM ${LINE} GROUP BY product_id ORDER BY 2 DESC, 3 DESC LIMIT 10`,
  'products/top/by-category': `SELECT * FROM (SELECT p.category_id, l.product_id, row_number() OVER (PARTITION BY p.category_id
                               ORDER BY sum(quantity) DESC, sum(revenue) DESC) AS rank FROM ${LINE} JOIN products p USING (product_id)
                               GROUP BY p.category_id, l.product_id) t WHERE rank <= 5`,
  'products/top/by-region': `SELECT * FROM (SELECT region_id, product_id, row_number() OVER (PARTITION BY region_id
                             ORDER BY sum(quantity) DESC, sum(revenue) DESC) AS rank FROM ${LINE}
                             GROUP BY region_id, product_id) t WHERE rank <= 5`,
  'customers/summary': `SELECT count(DISTINCT customer_id), count(DISTINCT order_id), round(sum(revenue), 2) FROM ${LINE}`,
  'customers/lifetime-value': `SELECT customer_id, count(DISTINCT order_id), sum(revenue) FROM ${LINE} GROUP BY customer_id ORDER BY 3 DESC LIMIT 100`,
};
const TARGET: Record<string, [number, number]> = {
  revenue: [50, 100],
  'revenue/by-category': [50, 100],
  'revenue/by-region': [50, 100],
  'revenue/by-product': [50, 100],
  'revenue/trend': [50, 100],
  'products/top': [50, 100],
  'products/top/by-category': [50, 100],
  'products/top/by-region': [50, 100],
  'customers/summary': [500, 500],
};
const ENDPOINTS = [...Object.keys(TARGET), 'products/profit-margin', 'customers/lifetime-value', 'customers/segments'].filter(
  (endpoint) => !process.env.BENCH_API_ENDPOINTS || process.env.BENCH_API_ENDPOINTS.split(',').includes(endpoint),
);

async function naiveMs(pool: pg.Pool, sql: string, range: [string, string], times: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    await pool.query(sql, range);
    samples.push(performance.now() - started);
  }
  return samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)];
}

await prepareData();
const pool = createPool(benchUrl, 4);
const config = readConfig({ ...process.env, ANALYTICS_CACHE: 'false', REFRESH_CRON: '', DATA_DIR: workDir });
const scheduler = new RefreshScheduler({ config, pool, databaseUrl: benchUrl, logger, writeLogLine: () => {} });
const app = createApp({ pool, logger, config, scheduler, refreshToken: 'unused' });
const server = app.listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
const { rows: bounds } = await pool.query('SELECT min(sale_date) AS first, max(sale_date) AS last FROM orders');

console.log(
  `\n${rows.toLocaleString('en')} order lines; answer cache off; p50 and p97.5 (a stricter bound than p95) over HTTP, one connection\n`,
);
console.log('| endpoint | range | p50 ms | p97.5 ms | naive p50 ms | faster | target p95 |');
console.log('|---|---|---|---|---|---|---|');
try {
  for (const endpoint of ENDPOINTS) {
    for (const [label, query, range] of [
      ['one year', YEAR, ['2023-01-01', '2023-12-31']],
      ['all time', '', [bounds[0].first, bounds[0].last]],
    ] as [string, string, [string, string]][]) {
      const url = `${base}/${endpoint}${query ? `?${query}` : ''}`;
      if ((await fetch(url)).status !== 200) throw new Error(`${url} did not answer 200`);
      const result = await autocannon({
        url,
        connections: 1,
        amount: endpoint.startsWith('customers/') && endpoint !== 'customers/summary' ? 10 : 40,
      });
      const naive = NAIVE[endpoint] ? await naiveMs(pool, NAIVE[endpoint], range, 3) : undefined;
      const target = TARGET[endpoint]?.[label === 'one year' ? 0 : 1];
      console.log(
        `| ${endpoint} | ${label} | ${result.latency.p50} | ${result.latency.p97_5} | ${naive?.toFixed(0) ?? ''} | ${
          naive ? `${(naive / Math.max(result.latency.p50, 0.5)).toFixed(0)}x` : ''
        } | ${target ? `<= ${target} ms${result.latency.p97_5 <= target ? '' : ' **not met**'}` : ''} |`,
      );
    }
  }
} finally {
  server.close();
  await pool.end();
  await embedded?.stop();
}
