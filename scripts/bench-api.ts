// npm run bench:api: every analytics endpoint over N generated order lines (default 10,000,000;
// BENCH_API_ROWS), timed over HTTP with the answer cache off, each question against DuckDB answering the
// same question in SQL over the raw CSV rows, in the same run:
//   - rolling windows: 40 one-year windows sliding by a week, and 7-, 30- and 90-day windows ending on
//     different days (each window one request), with and without a category or region filter;
//   - the calendar ranges of earlier rounds: the year 2023 and all time (the same request repeated).
// Per request wall time (the whole body read), p50 and p95 by nearest rank, the same for both sides; every
// answer is compared with DuckDB's (figures to the cent, counts, the ids in order), and a difference fails
// the run. Each row is checked against the issue's targets for the size (the 10M column from 10M lines,
// else the 1M column).
// The data: bench-data.ts (generated once, loaded once into `sales_bench_api`). BENCH_API_ENDPOINTS=a,b
// times only those endpoints (`products/top`, `customers/segments/champions`).
import type { AddressInfo } from 'node:net';
import { type DuckDBConnection, DuckDBInstance, type DuckDBResultReader, version as duckdbVersion } from '@duckdb/node-api';
import { SEGMENTS } from '../src/analytics/segments.js';
import { readConfig } from '../src/config.js';
import { createPool } from '../src/db/pool.js';
import { ReadRouter } from '../src/db/read-pool.js';
import { salesHeader } from '../src/generate/sales-generator.js';
import { createApp } from '../src/http/app.js';
import { createLogger } from '../src/logger.js';
import { RefreshScheduler } from '../src/refresh/scheduler.js';
import { SnapshotStore } from '../src/snapshot/store.js';
import { openBenchDatabase, workDir } from './bench-data.js';

const rows = Number(process.env.BENCH_API_ROWS ?? 10_000_000);
const YEAR_WINDOWS = 40;
const SHORT_LENGTHS = [7, 30, 90];
const SHORT_WINDOWS_PER_LENGTH = 8;
/** Days between the ends of successive short windows: not a multiple of 7, so they end on every weekday. */
const SHORT_STEP_DAYS = 37;
const CALENDAR_REPEATS = 10;
const CALENDAR_REPEATS_CUSTOMER_LISTS = 3;
const CATEGORY = 'Electronics';
const REGION = 'Europe';
const logger = createLogger('warn').logger;

// ---- the data: the generated file, read each run into DuckDB ----

/** The CSV's columns with explicit types; the loader's rules applied where it reads a value otherwise. */
const CSV_TYPES: Record<string, string> = {
  'Date of Sale': 'DATE',
  'Quantity Sold': 'INTEGER',
  'Unit Price': 'DECIMAL(18,4)',
  'Shipping Cost': 'DECIMAL(18,4)',
  'Unit Cost': 'DECIMAL(18,4)',
};
const sqlText = (text: string) => `'${text.replaceAll("'", "''")}'`;

/**
 * The raw order lines, one row per CSV line, and the products and customers with their last-written
 * attributes (the loader's rule: the last row that mentions one wins; rowid is the file's line order).
 * Discount as the loader reads it: a fraction, or a percentage with `%`; empty is 0.
 */
async function loadDuckDb(connection: DuckDBConnection, file: string): Promise<void> {
  const columns = salesHeader(true)
    .map((name) => `${sqlText(name)}: ${sqlText(CSV_TYPES[name] ?? 'VARCHAR')}`)
    .join(', ');
  await connection.run(`
    CREATE TABLE lines AS
    SELECT "Order ID" AS order_id, "Product ID" AS product_id, "Customer ID" AS customer_id,
           "Product Name" AS product_name, "Category" AS category, "Region" AS region,
           "Customer Name" AS customer_name, "Date of Sale" AS sale_date, "Quantity Sold" AS quantity,
           "Unit Price" AS unit_price,
           CASE WHEN trim(coalesce("Discount", '')) = '' THEN 0
                WHEN trim("Discount") LIKE '%\\%' ESCAPE '\\' THEN CAST(trim(rtrim(trim("Discount"), '%')) AS DECIMAL(18,8)) * 0.01
                ELSE CAST(trim("Discount") AS DECIMAL(18,8)) END::DECIMAL(18,8) AS discount,
           coalesce("Shipping Cost", 0) AS shipping, "Unit Cost" AS unit_cost
    FROM read_csv(${sqlText(file)}, header = true, columns = {${columns}})`);
  await connection.run(`
    CREATE TABLE products AS
    SELECT product_id, arg_max(product_name, rowid) AS name, arg_max(category, rowid) AS category FROM lines GROUP BY product_id`);
  await connection.run(`
    CREATE TABLE customers AS SELECT customer_id, arg_max(customer_name, rowid) AS name FROM lines GROUP BY customer_id`);
}

// ---- the questions: the API's request and the same question in DuckDB's SQL ----

type Row = Record<string, unknown>;
interface Answer extends Row {
  items: Row[];
  groups: (Row & { items: Row[] })[];
  segments: Row[];
  total: number;
}

interface Question {
  /** The endpoint, as BENCH_API_ENDPOINTS names it. */
  endpoint: string;
  /** Its query parameters besides from and to. */
  query: Record<string, string>;
  /** Which row of the issue's target table applies. */
  kind: 'aggregate' | 'customer list';
  /** DuckDB: $1 and $2 are the range's days, $3 the filter's value. */
  sql: string;
  /** The answer as rows with DuckDB's column names, in DuckDB's row order. */
  rowsOf: (answer: Answer) => Row[];
  /** The columns compared (DuckDB's ratios and averages are doubles: not compared to the last digit). */
  compare: string[];
}

type Filter = { category: string } | { region: string } | Record<string, never>;
const NET = 'l.quantity * l.unit_price * (1 - l.discount)';
const GROSS = 'l.quantity * l.unit_price';
const COSTED = `${NET}) FILTER (WHERE l.unit_cost IS NOT NULL`;
const COST = 'l.quantity * l.unit_cost';
/** The lines of the range that pass the filter; with their product (its current category) when asked. */
function linesOf(filter: Filter, withProducts: boolean): string {
  const lines = withProducts || 'category' in filter ? 'lines l JOIN products p USING (product_id)' : 'lines l';
  const condition =
    'category' in filter ? ' AND lower(p.category) = lower($3)' : 'region' in filter ? ' AND lower(l.region) = lower($3)' : '';
  return `${lines} WHERE l.sale_date BETWEEN $1::DATE AND $2::DATE${condition}`;
}

const answerItself = (answer: Answer) => [answer];
const items = (answer: Answer) => answer.items;
const pageItems = (answer: Answer) => answer.items.map((item) => ({ ...item, total: answer.total }));

const revenue: Question = {
  endpoint: 'revenue',
  query: {},
  kind: 'aggregate',
  sql: `SELECT round(coalesce(sum(${NET}), 0), 2) AS revenue, round(coalesce(sum(${GROSS}), 0), 2) AS "grossRevenue",
               round(coalesce(sum(${GROSS} * l.discount), 0), 2) AS discounts,
               round(coalesce(sum(l.shipping), 0), 2) AS shipping, count(DISTINCT l.order_id) AS orders,
               coalesce(sum(l.quantity), 0) AS quantity
        FROM ${linesOf({}, false)}`,
  rowsOf: answerItself,
  compare: ['revenue', 'grossRevenue', 'discounts', 'shipping', 'orders', 'quantity'],
};

const customerSummary: Question = {
  endpoint: 'customers/summary',
  query: {},
  kind: 'aggregate',
  sql: `SELECT count(DISTINCT l.customer_id) AS customers, count(DISTINCT l.order_id) AS orders,
               round(coalesce(sum(${NET}), 0), 2) AS revenue,
               round(coalesce(sum(${NET}) / nullif(count(DISTINCT l.order_id), 0), 0), 2) AS "averageOrderValue"
        FROM ${linesOf({}, false)}`,
  rowsOf: answerItself,
  compare: ['customers', 'orders', 'revenue'],
};

const revenueBy = (dimension: 'category' | 'region', filter: Filter): Question => ({
  endpoint: `revenue/by-${dimension}`,
  query: { ...filter },
  kind: 'aggregate',
  sql: `SELECT ${dimension === 'category' ? 'p.category' : 'l.region'} AS ${dimension}, round(sum(${NET}), 2) AS revenue,
               sum(l.quantity) AS quantity, count(DISTINCT l.order_id) AS orders
        FROM ${linesOf(filter, dimension === 'category')}
        GROUP BY 1 ORDER BY sum(${NET}) DESC, 1`,
  rowsOf: items,
  compare: [dimension, 'revenue', 'quantity', 'orders'],
});

const revenueByProduct = (filter: Filter): Question => ({
  endpoint: 'revenue/by-product',
  query: { ...filter },
  kind: 'aggregate',
  sql: `SELECT l.product_id AS "productId", p.name AS "productName", p.category, round(sum(${NET}), 2) AS revenue,
               sum(l.quantity) AS quantity, count(*) OVER () AS total
        FROM ${linesOf(filter, true)}
        GROUP BY l.product_id, p.name, p.category ORDER BY sum(${NET}) DESC, l.product_id LIMIT 100`,
  rowsOf: pageItems,
  compare: ['productId', 'productName', 'category', 'revenue', 'quantity', 'total'],
});

const trend = (filter: Filter): Question => ({
  endpoint: 'revenue/trend',
  query: { interval: 'month', ...filter },
  kind: 'aggregate',
  sql: `SELECT strftime(l.sale_date, '%Y-%m') AS period, round(sum(${NET}), 2) AS revenue, sum(l.quantity) AS quantity,
               count(DISTINCT l.order_id) AS orders
        FROM ${linesOf(filter, false)} GROUP BY 1 ORDER BY 1`,
  // DuckDB lists the months with sales; the API every month of the range, zero-filled.
  rowsOf: (answer) => answer.items.filter((item) => item.orders !== 0),
  compare: ['period', 'revenue', 'quantity', 'orders'],
});

/** The top n products (of each group): units desc, revenue desc, code. */
const top = (n: number, group: 'category' | 'region' | undefined, filter: Filter): Question => {
  const partition = group === 'category' ? 'p.category, ' : group === 'region' ? 'l.region, ' : '';
  return {
    endpoint: group ? `products/top/by-${group}` : 'products/top',
    query: { n: String(n), ...filter },
    kind: 'aggregate',
    sql: `SELECT ${partition}row_number() OVER (${partition ? `PARTITION BY ${partition.slice(0, -2)}` : ''}
                   ORDER BY sum(l.quantity) DESC, sum(${NET}) DESC, l.product_id) AS rank,
                 l.product_id AS "productId", p.name AS "productName", p.category, sum(l.quantity) AS quantity,
                 round(sum(${NET}), 2) AS revenue
          FROM ${linesOf(filter, true)}
          GROUP BY ${partition}l.product_id, p.name, p.category
          QUALIFY rank <= ${n}
          ORDER BY ${partition}rank`,
    rowsOf: group
      ? (answer) => answer.groups.flatMap((entry) => entry.items.map((item) => ({ ...item, [group]: entry[group] })))
      : items,
    compare: [...(group ? [group] : []), 'rank', 'productId', 'productName', 'category', 'quantity', 'revenue'],
  };
};

const profitMargin = (filter: Filter): Question => ({
  endpoint: 'products/profit-margin',
  query: { ...filter },
  kind: 'aggregate',
  sql: `SELECT l.product_id AS "productId", p.name AS "productName", p.category, round(sum(${NET}), 2) AS revenue,
               round(coalesce(sum(${COSTED}), 0), 2) AS "costedRevenue", round(sum(${COST}), 2) AS cost,
               round(sum(${COSTED}) - sum(${COST}), 2) AS profit,
               round((sum(${COSTED}) - sum(${COST})) / nullif(sum(${COSTED}), 0), 4) AS margin,
               round(sum(coalesce(sum(${COSTED}), 0)) OVER () / nullif(sum(sum(${NET})) OVER (), 0), 4) AS "costCoverage",
               count(*) OVER () AS total
        FROM ${linesOf(filter, true)}
        GROUP BY l.product_id, p.name, p.category ORDER BY sum(${NET}) DESC, l.product_id LIMIT 100`,
  rowsOf: pageItems,
  compare: ['productId', 'productName', 'category', 'revenue', 'costedRevenue', 'cost', 'profit', 'total'],
});

/** Per customer of the range: orders, revenue, first and last order day. */
const CUSTOMER_SALES = `(
  SELECT l.customer_id, count(DISTINCT l.order_id) AS orders, sum(${NET}) AS revenue,
         min(l.sale_date) AS first_order, max(l.sale_date) AS last_order
  FROM ${linesOf({}, false)} GROUP BY l.customer_id)`;

/** Lifetime value ranks the customers of the range by revenue: the customer lists' DuckDB yardstick. */
const LIFETIME_VALUE: Question = {
  endpoint: 'customers/lifetime-value',
  query: {},
  kind: 'customer list',
  sql: `SELECT s.customer_id AS "customerId", c.name, s.orders, round(s.revenue, 2) AS revenue,
               round(s.revenue / s.orders, 2) AS "averageOrderValue", s.first_order AS "firstOrder",
               s.last_order AS "lastOrder", count(*) OVER () AS total
        FROM ${CUSTOMER_SALES} s JOIN customers c USING (customer_id)
        ORDER BY s.revenue DESC, s.customer_id LIMIT 100`,
  rowsOf: pageItems,
  compare: ['customerId', 'name', 'orders', 'revenue', 'firstOrder', 'lastOrder', 'total'],
};

/** Each customer of the range with RFM scores (quintiles, best first, ties by code) and segment (first rule). */
const SCORED_CUSTOMERS = `(
  SELECT *, CASE ${SEGMENTS.map(({ segment, rule }) => `WHEN ${rule} THEN '${segment}'`).join(' ')} END AS segment
  FROM (
    SELECT s.*, c.name, 6 - ntile(5) OVER (ORDER BY s.recency, s.customer_id) AS r,
           6 - ntile(5) OVER (ORDER BY s.orders DESC, s.customer_id) AS f,
           6 - ntile(5) OVER (ORDER BY s.revenue DESC, s.customer_id) AS m
    FROM (SELECT *, $2::DATE - last_order AS recency FROM ${CUSTOMER_SALES}) s JOIN customers c USING (customer_id)))`;

const segments: Question = {
  endpoint: 'customers/segments',
  query: {},
  kind: 'customer list',
  sql: `SELECT segment, count(*) AS customers, round(sum(revenue), 2) AS revenue
        FROM ${SCORED_CUSTOMERS} GROUP BY segment
        ORDER BY list_position([${SEGMENTS.map(({ segment }) => `'${segment}'`).join(', ')}], segment)`,
  rowsOf: (answer) => answer.segments.filter((segment) => segment.customers !== 0),
  compare: ['segment', 'customers', 'revenue'],
};

const segmentMembers: Question = {
  endpoint: 'customers/segments/champions',
  query: {},
  kind: 'customer list',
  sql: `SELECT customer_id AS "customerId", name, recency, orders AS frequency, round(revenue, 2) AS monetary,
               r AS "recencyScore", f AS "frequencyScore", m AS "monetaryScore", last_order AS "lastOrder",
               count(*) OVER () AS total
        FROM ${SCORED_CUSTOMERS} WHERE segment = 'champions'
        ORDER BY revenue DESC, customer_id LIMIT 100`,
  rowsOf: pageItems,
  compare: ['customerId', 'name', 'recency', 'frequency', 'monetary', 'recencyScore', 'frequencyScore', 'lastOrder', 'total'],
};

// Each endpoint as asked, and with a category or a region filter where it takes one (the one it does not
// group by; by-product, trend, top and profit-margin take both: each gets one of them).
const byCategory = { category: CATEGORY };
const byRegion = { region: REGION };
const QUESTIONS = [
  revenue,
  revenueBy('category', {}),
  revenueBy('category', byRegion),
  revenueBy('region', {}),
  revenueBy('region', byCategory),
  revenueByProduct({}),
  revenueByProduct(byCategory),
  trend({}),
  trend(byRegion),
  top(10, undefined, {}),
  top(10, undefined, byCategory),
  top(5, 'category', {}),
  top(5, 'category', byRegion),
  top(5, 'region', {}),
  top(5, 'region', byCategory),
  profitMargin({}),
  profitMargin(byRegion),
  customerSummary,
  LIFETIME_VALUE,
  segments,
  segmentMembers,
].filter(
  (question) => !process.env.BENCH_API_ENDPOINTS || process.env.BENCH_API_ENDPOINTS.split(',').includes(question.endpoint),
);

const filterOf = (question: Question) => question.query.category ?? question.query.region;
const questionLabel = (question: Question) => {
  const query = new URLSearchParams(question.query).toString();
  return `${question.endpoint}${query ? `?${query}` : ''}`;
};

// ---- the windows ----

interface Range {
  from: string;
  to: string;
}
type WindowSet = {
  label: string;
  kind: 'one-year rolling' | 'short rolling' | 'calendar';
  /** Each a request; `explicit: false` asks without from and to (all time). */
  windows: (Range & { explicit: boolean })[];
};
const DAY_MS = 86_400_000;
const addDays = (day: string, days: number) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
const addYears = (day: string, years: number) => `${Number(day.slice(0, 4)) + years}${day.slice(4)}`.replace(/-02-29$/, '-02-28');

function windowSets(first: string, last: string): WindowSet[] {
  // The issue's first one-year window starts a year and a week after the first sale day (2023-01-08).
  const yearStart = addDays(addYears(first, 1), 7);
  const year = Array.from({ length: YEAR_WINDOWS }, (_, k) => {
    const from = addDays(yearStart, 7 * k);
    return { from, to: addDays(addYears(from, 1), -1), explicit: true };
  });
  const short = Array.from({ length: SHORT_WINDOWS_PER_LENGTH }, (_, k) => addDays(last, -1 - SHORT_STEP_DAYS * k)).flatMap(
    (to) => SHORT_LENGTHS.map((length) => ({ from: addDays(to, 1 - length), to, explicit: true })),
  );
  if (year.at(-1)!.to > last || short.some((window) => window.from < first)) {
    throw new Error(`the data (${first}..${last}) is too short for the windows`);
  }
  return [
    { label: `1-year rolling, ${year[0].from}.. by week (${year.length})`, kind: 'one-year rolling', windows: year },
    {
      label: `${SHORT_LENGTHS.join('/')}-day rolling, ending ${short.at(-1)!.to}..${short[0].to} (${short.length})`,
      kind: 'short rolling',
      windows: short,
    },
    { label: 'calendar 2023', kind: 'calendar', windows: [{ from: '2023-01-01', to: '2023-12-31', explicit: true }] },
    { label: 'all time', kind: 'calendar', windows: [{ from: first, to: last, explicit: false }] },
  ];
}

// ---- timing and comparing ----

/** The nearest-rank percentile of the samples (ms). */
function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

const sameValue = (api: unknown, duck: unknown) =>
  api === null || duck === null || api === undefined || duck === undefined
    ? (api ?? null) === (duck ?? null)
    : typeof api === 'number'
      ? api === Number(duck)
      : String(api) === String(duck);

/** The first difference between the API's answer and DuckDB's, or undefined when they agree. */
function difference(question: Question, apiRows: Row[], duckRows: Row[]): string | undefined {
  if (apiRows.length !== duckRows.length) return `${apiRows.length} rows from the API, ${duckRows.length} from DuckDB`;
  for (const [index, duckRow] of duckRows.entries()) {
    for (const column of question.compare) {
      if (!sameValue(apiRows[index][column], duckRow[column])) {
        return `row ${index + 1}, ${column}: API ${JSON.stringify(apiRows[index][column])}, DuckDB ${JSON.stringify(duckRow[column])}`;
      }
    }
  }
  return undefined;
}

type Request = Range & { explicit: boolean };

/** The requests of a row: each window once; a calendar range repeated. */
function requestsOf(question: Question, set: WindowSet): Request[] {
  const repeats =
    set.kind !== 'calendar' ? 1 : question.kind === 'customer list' ? CALENDAR_REPEATS_CUSTOMER_LISTS : CALENDAR_REPEATS;
  return set.windows.flatMap((window) => Array.from({ length: repeats }, () => window));
}

async function askApi(base: string, question: Question, window: Request): Promise<string> {
  const range: Record<string, string> = window.explicit ? { from: window.from, to: window.to } : {};
  const url = `${base}/${question.endpoint}?${new URLSearchParams({ ...range, ...question.query })}`;
  const response = await fetch(url);
  const body = await response.text();
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}: ${body}`);
  return body;
}

async function askDuckDb(duck: DuckDBConnection, question: Question, window: Range): Promise<DuckDBResultReader> {
  const filter = filterOf(question);
  return duck.runAndReadAll(question.sql, [window.from, window.to, ...(filter ? [filter] : [])]);
}

/** Wall times (ms) of each request in turn, after one untimed request (connections and plans warm). */
async function timed<T>(requests: Request[], ask: (window: Request) => Promise<T>): Promise<{ ms: number[]; answers: T[] }> {
  await ask(requests[0]);
  const result = { ms: [] as number[], answers: [] as T[] };
  for (const window of requests) {
    const started = performance.now();
    result.answers.push(await ask(window));
    result.ms.push(performance.now() - started);
  }
  return result;
}

/** The API's and DuckDB's wall times for a row; fails when an answer differs from DuckDB's. */
async function timeQuestion(base: string, duck: DuckDBConnection, question: Question, set: WindowSet) {
  const requests = requestsOf(question, set);
  const api = await timed(requests, (window) => askApi(base, question, window));
  const duckdb = await timed(requests, (window) => askDuckDb(duck, question, window));
  for (const [index, window] of requests.entries()) {
    if (index > 0 && requests[index - 1] === window) continue; // a repeat of the same question
    const apiRows = question.rowsOf(JSON.parse(api.answers[index]) as Answer);
    const mismatch = difference(question, apiRows, duckdb.answers[index].getRowObjectsJson());
    if (mismatch) {
      throw new Error(
        `${questionLabel(question)} ${window.from}..${window.to}: the API and DuckDB disagree (${mismatch}); ` +
          'if the data was generated by another version, BENCH_API_RELOAD=1 loads it again',
      );
    }
  }
  return { api: api.ms, duck: duckdb.ms };
}

// ---- the targets (the issue's table) ----

const tenMillion = rows >= 10_000_000;
/**
 * The p95 target in ms for a row (the rolling windows; the calendar ranges are printed for comparison with
 * earlier rounds), or undefined when the issue sets none for it.
 */
function target(
  question: Question,
  set: WindowSet,
  duckP95: number,
  rankingP95: number,
): { ms: number; text: string } | undefined {
  if (set.kind === 'calendar') return undefined;
  if (question.kind === 'aggregate') {
    const half = duckP95 / 2;
    if (tenMillion) return { ms: Math.min(half, 50), text: `<= 0.5x DuckDB (${half.toFixed(0)} ms) and <= 50 ms` };
    return { ms: half, text: `<= 0.5x DuckDB (${half.toFixed(0)} ms)` };
  }
  const bound = tenMillion ? 1000 : 150;
  return { ms: Math.min(bound, rankingP95), text: `<= ${bound} ms and <= DuckDB ranking (${rankingP95.toFixed(0)} ms)` };
}

// ---- the run ----

const startedRun = performance.now();
const database = await openBenchDatabase(rows);
const benchUrl = database.url;
const duckdb = await DuckDBInstance.create(':memory:');
const duck = await duckdb.connect();
try {
  const duckLoadStarted = performance.now();
  await loadDuckDb(duck, database.file);
  const duckLoadSeconds = (performance.now() - duckLoadStarted) / 1000;
  const duckLines = Number((await duck.runAndReadAll('SELECT count(*) AS n FROM lines')).getRowObjectsJson()[0].n);
  if (duckLines !== rows) throw new Error(`DuckDB read ${duckLines} lines from the file, not ${rows}`);

  const pool = createPool(benchUrl, 4);
  const config = readConfig({ ...process.env, ANALYTICS_CACHE: 'false', REFRESH_CRON: '', DATA_DIR: workDir });
  const scheduler = new RefreshScheduler({ config, pool, databaseUrl: benchUrl, logger, writeLogLine: () => {} });
  const snapshots = await SnapshotStore.forDatabase(pool, config.analytics.directory, config.analytics.limits, {
    primary: { pool, url: benchUrl, logger },
  });
  // As a server starts: the snapshot of the record's version is built if it is not published yet.
  await snapshots.catchUp();
  const reads = new ReadRouter({ pool, url: benchUrl }, [], logger);
  const server = createApp({
    pool,
    reads,
    snapshots,
    logger,
    config,
    scheduler,
    refreshToken: 'unused',
  }).listen(0, '127.0.0.1');
  try {
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
    const { rows: bounds } = await pool.query<{ first: string; last: string }>(
      "SELECT to_char(min(sale_date), 'YYYY-MM-DD') AS first, to_char(max(sale_date), 'YYYY-MM-DD') AS last FROM orders",
    );
    const sets = windowSets(bounds[0].first, bounds[0].last);

    console.log(
      `\n${rows.toLocaleString('en')} order lines (${bounds[0].first}..${bounds[0].last}); answer cache off; DuckDB ${duckdbVersion()} ` +
        `over the same CSV (read in ${duckLoadSeconds.toFixed(1)} s, in memory); each request one HTTP request on one ` +
        `connection, each DuckDB query one statement; p50 and p95 by nearest rank over the requests of the row; ` +
        `every answer equals DuckDB's; targets: the issue's ${tenMillion ? '10M' : '1M'} column\n`,
    );
    console.log('| question | windows | p50 ms | p95 ms | DuckDB p50 | DuckDB p95 | p95 / DuckDB | target p95 | |');
    console.log('|---|---|---|---|---|---|---|---|---|');
    const rankingP95 = new Map<string, number>();
    const verdicts = { met: 0, 'not met': 0 };
    for (const question of QUESTIONS) {
      for (const set of sets) {
        if (set.kind === 'calendar' && filterOf(question)) continue; // earlier rounds timed the unfiltered ones
        const timings = await timeQuestion(base, duck, question, set);
        const [apiP95, duckP95] = [percentile(timings.api, 95), percentile(timings.duck, 95)];
        if (question === LIFETIME_VALUE) rankingP95.set(set.label, duckP95);
        if (question.kind === 'customer list' && set.kind !== 'calendar' && !rankingP95.has(set.label)) {
          const ranking = await timed(requestsOf(LIFETIME_VALUE, set), (window) => askDuckDb(duck, LIFETIME_VALUE, window));
          rankingP95.set(set.label, percentile(ranking.ms, 95));
        }
        const goal = target(question, set, duckP95, rankingP95.get(set.label) ?? Number.NaN);
        const verdict = goal ? (apiP95 <= goal.ms ? 'met' : 'not met') : undefined;
        if (verdict) verdicts[verdict]++;
        console.log(
          `| ${questionLabel(question)} | ${set.label} | ${percentile(timings.api, 50).toFixed(0)} | ${apiP95.toFixed(0)} | ` +
            `${percentile(timings.duck, 50).toFixed(0)} | ${duckP95.toFixed(0)} | ${(apiP95 / duckP95).toFixed(1)}x | ` +
            `${goal?.text ?? ''} | ${verdict === 'not met' ? '**not met**' : (verdict ?? '')} |`,
        );
      }
    }
    console.log(
      `\ntargets met: ${verdicts.met}, not met: ${verdicts['not met']}; run took ${((performance.now() - startedRun) / 60_000).toFixed(1)} min`,
    );
  } finally {
    server.close();
    await reads.close();
    await pool.end();
  }
} finally {
  duck.closeSync();
  duckdb.closeSync();
  await database.stop();
}
