// npm run bench:load: the loader against PostgreSQL's own COPY of the same file, measured in the same run.
//   1. generate N rows (default 1,000,000; BENCH_ROWS), deterministic, and the same file grown by one more
//      day of sales (a daily export)
//   2. raw COPY ... FROM STDIN (FORMAT csv) of each into an unlogged 15-text-column table, three times: the
//      baselines are the medians
//   3. a full load of the file into an empty database (the load CLI in a child process: its peak RSS)
//   4. the daily refresh: the grown file appended to what step 3 stored (every stored line unchanged)
//   5. an append of 10% of N rows, half new and half changed, into that database
//   6. a replace by the brief's six-line sample, then a replace by the file again: a load into a store that
//      has just shrunk (its statistics and pages those of the large store) costs what a load of its file does
// Each load's time is its run's, until its analytics snapshot is published (ANALYTICS_DIR, default
// .bench/analytics); the full load's build is also shown on its own.
// Each figure is checked against its target. Uses DATABASE_URL's server when set (a scratch database is
// created and dropped), else an embedded one.
import { execFile } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { startEmbeddedPostgres } from '../src/db/embedded-postgres.js';
import { DEFAULT_OPTIONS, generateSales, writeSalesCsv } from '../src/generate/sales-generator.js';
import { createLogger } from '../src/logger.js';
import { projectRoot } from '../src/paths.js';

const run = promisify(execFile);
const rows = Number(process.env.BENCH_ROWS ?? 1_000_000);
/** The targets: at 10M lines and more, the full load within 6x raw COPY and 400 MB; below, 5x and 300 MB. */
const large = rows >= 10_000_000;
const fullLoadRatio = large ? 6 : 5;
const rssTargetMb = large ? 400 : 300;
/** The daily refresh within this many raw COPYs of its file; an append of 10% at this many rows a second. */
const dailyRatio = 2;
const appendRowsPerSecond = 20_000;
const workDir = path.join(projectRoot, '.bench');
const logger = createLogger('warn').logger;
const style = { style: 'standard', extraColumns: false } as const;

const DAY_MS = 86_400_000;
const dayNumber = (day: string) => Date.parse(`${day}T00:00:00Z`) / DAY_MS;
const nextDay = new Date((dayNumber(DEFAULT_OPTIONS.lastDay) + 1) * DAY_MS).toISOString().slice(0, 10);
/** As many lines as the file holds on an average day. */
const dayRows = Math.round(rows / (dayNumber(DEFAULT_OPTIONS.lastDay) - dayNumber(DEFAULT_OPTIONS.firstDay) + 1));

function* grownLines() {
  // The whole export again, then the day after its last: new orders of the same products and customers
  // (the same rows and seed give the same products and customers, unchanged).
  yield* generateSales({ rows, seed: 42 });
  let i = 0;
  for (const line of generateSales({ rows, seed: 42, firstDay: nextDay, lastDay: nextDay, firstOrder: 60_000_001 })) {
    if (i++ === dayRows) return;
    yield line;
  }
}

function* appendLines() {
  // Half: existing lines with another quantity; half: new orders.
  let i = 0;
  for (const line of generateSales({ rows, seed: 42 })) {
    if (i++ % 20 === 0) yield { ...line, quantity: line.quantity + 1 };
  }
  yield* generateSales({ rows: rows / 20, seed: 43, firstOrder: 50_000_001 });
}

async function timed<T>(action: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await action();
  return [result, (performance.now() - started) / 1000];
}

async function loadWithCli(databaseUrl: string, file: string, mode: 'append' | 'replace' = 'append') {
  const { stdout } = await run(
    process.execPath,
    [path.join(projectRoot, 'dist/src/cli/load.js'), file, '--mode', mode, '--json'],
    {
      // info: the log line of the published snapshot, with its build time.
      env: { ANALYTICS_DIR: path.join(workDir, 'analytics'), ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'info' },
      maxBuffer: 1 << 24,
    },
  );
  const lines = stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  // The run's duration: the load and the analytics snapshot it publishes before it succeeds.
  const outcome = lines.at(-1) as {
    run: { status: string; counts: Record<string, number>; error: string | null; durationMs: number };
    peakRssMb: number;
  };
  const published = lines.find((line) => line.msg === 'analytics snapshot published');
  const succeeded = lines.find((line) => line.msg === 'refresh succeeded');
  return {
    ...outcome,
    durationMs: outcome.run.durationMs,
    snapshotMs: published?.ms as number | undefined,
    made: published?.made as string | undefined,
    recognisedBytes: (succeeded?.recognisedBytes ?? 0) as number,
  };
}

await fs.mkdir(workDir, { recursive: true });
const full = path.join(workDir, `sales-${rows}.csv`);
const grown = path.join(workDir, `grown-${rows}.csv`);
const append = path.join(workDir, `append-${rows}.csv`);
if (!existsSync(full)) await writeSalesCsv(full, generateSales({ rows, seed: 42 }), style);
if (!existsSync(grown)) await writeSalesCsv(grown, grownLines(), style);
if (!existsSync(append)) await writeSalesCsv(append, appendLines(), style);
const size = (await fs.stat(full)).size;

/** Raw COPYs per baseline: the median of three, as one COPY of the 10M file took 16.7 to 37.1 s across runs. */
const RAW_COPY_RUNS = 3;

/** PostgreSQL's own COPY of the file into an unlogged table of 15 text columns, in seconds: the median of RAW_COPY_RUNS. */
async function rawCopySeconds(client: pg.Client, file: string): Promise<number> {
  const runs: number[] = [];
  for (let run = 0; run < RAW_COPY_RUNS; run++) {
    await client.query(`CREATE UNLOGGED TABLE raw_copy (${Array.from({ length: 15 }, (_, i) => `c${i} text`).join(', ')})`);
    const [, seconds] = await timed(() =>
      pipeline(
        createReadStream(file, { highWaterMark: 1 << 20 }),
        client.query(copyFrom('COPY raw_copy FROM STDIN (FORMAT csv, HEADER)')),
      ),
    );
    await client.query('DROP TABLE raw_copy');
    runs.push(seconds);
  }
  return runs.sort((a, b) => a - b)[Math.floor(RAW_COPY_RUNS / 2)];
}

const verdict = (met: boolean) => (met ? 'met' : 'NOT MET');

const embedded = process.env.DATABASE_URL
  ? undefined
  : await startEmbeddedPostgres({ dataDir: path.join(workDir, 'postgres'), port: 54_399, logger });
const serverUrl = process.env.DATABASE_URL ?? embedded!.url;
const admin = new pg.Client(serverUrl);
await admin.connect();
await admin.query('DROP DATABASE IF EXISTS sales_bench WITH (FORCE)');
await admin.query('CREATE DATABASE sales_bench');
const benchUrl = Object.assign(new URL(serverUrl), { pathname: '/sales_bench' }).toString();

try {
  const client = new pg.Client(benchUrl);
  await client.connect();
  const copySeconds = await rawCopySeconds(client, full);
  const grownCopySeconds = await rawCopySeconds(client, grown);
  await client.end();

  // The application's schema: migrate through the CLI, as a user would.
  await run(process.execPath, [path.join(projectRoot, 'dist/src/cli/migrate.js')], {
    env: { ...process.env, DATABASE_URL: benchUrl },
  });
  const first = await loadWithCli(benchUrl, full);
  const daily = await loadWithCli(benchUrl, grown);
  const second = await loadWithCli(benchUrl, append);
  const shrunk = await loadWithCli(benchUrl, path.join(projectRoot, 'test/fixtures/brief-sample.csv'), 'replace');
  const regrown = await loadWithCli(benchUrl, full, 'replace');
  for (const outcome of [first, daily, second, shrunk, regrown]) {
    if (outcome.run.status !== 'succeeded') throw new Error(`a load failed: ${outcome.run.error}`);
  }
  const { inserted, updated, unchanged, rejected } = daily.run.counts;
  if (inserted !== dayRows || updated !== 0 || unchanged !== rows || rejected !== 0) {
    throw new Error(`the daily refresh was not one new day on unchanged lines: ${JSON.stringify(daily.run.counts)}`);
  }
  const loadSeconds = first.durationMs / 1000;
  const dailySeconds = daily.durationMs / 1000;
  const appendSeconds = second.durationMs / 1000;
  const appendRows = second.run.counts.read;
  const regrownSeconds = regrown.durationMs / 1000;
  const buildSeconds = (first.snapshotMs ?? Number.NaN) / 1000;
  const peakRss = Math.max(first.peakRssMb, daily.peakRssMb, second.peakRssMb, regrown.peakRssMb);

  console.log(
    `machine: ${os.cpus().length} x ${os.cpus()[0]?.model.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`,
  );
  console.log(
    `file: ${rows.toLocaleString('en')} rows, ${(size / 1e6).toFixed(0)} MB; grown by ${nextDay}: ${(rows + dayRows).toLocaleString('en')} rows`,
  );
  console.table({
    'raw COPY (baseline, median of 3)': {
      seconds: copySeconds.toFixed(2),
      'x raw COPY': '1.0',
      'rows/s': Math.round(rows / copySeconds),
    },
    'full load, empty database': {
      seconds: loadSeconds.toFixed(2),
      'x raw COPY': (loadSeconds / copySeconds).toFixed(1),
      'rows/s': Math.round(rows / loadSeconds),
      target: `<= ${fullLoadRatio}x raw COPY`,
      '': verdict(loadSeconds <= fullLoadRatio * copySeconds),
    },
    'of which the analytics snapshot build': {
      seconds: buildSeconds.toFixed(2),
      'x raw COPY': (buildSeconds / copySeconds).toFixed(1),
      target: '<= 1x raw COPY',
      '': verdict(buildSeconds <= copySeconds),
    },
    'raw COPY of the grown file (baseline, median of 3)': {
      seconds: grownCopySeconds.toFixed(2),
      'x raw COPY': '1.0',
      'rows/s': Math.round((rows + dayRows) / grownCopySeconds),
    },
    [`daily refresh: the grown file, append (${dayRows} new)`]: {
      seconds: dailySeconds.toFixed(2),
      'x raw COPY': (dailySeconds / grownCopySeconds).toFixed(1),
      'rows/s': Math.round((rows + dayRows) / dailySeconds),
      target: `<= ${dailyRatio}x its raw COPY`,
      '': verdict(dailySeconds <= dailyRatio * grownCopySeconds),
    },
    [`append ${appendRows.toLocaleString('en')} (half new, half changed)`]: {
      seconds: appendSeconds.toFixed(2),
      'x raw COPY': '',
      'rows/s': Math.round(appendRows / appendSeconds),
      target: `>= ${appendRowsPerSecond.toLocaleString('en')} rows/s`,
      '': verdict(appendRows / appendSeconds >= appendRowsPerSecond),
    },
    'replace by the file over the six-line sample': {
      seconds: regrownSeconds.toFixed(2),
      'x raw COPY': (regrownSeconds / copySeconds).toFixed(1),
      'rows/s': Math.round(rows / regrownSeconds),
      target: `${(regrownSeconds / loadSeconds).toFixed(2)}x the full load`,
    },
  });
  console.log(
    `loader peak RSS: full load ${first.peakRssMb} MB, daily refresh ${daily.peakRssMb} MB, append ${second.peakRssMb} MB, ` +
      `replace over the sample ${regrown.peakRssMb} MB ` +
      `(target <= ${rssTargetMb} MB: ${verdict(peakRss <= rssTargetMb)})`,
  );
  console.log(
    `daily refresh: ${(daily.recognisedBytes / 1e6).toFixed(0)} MB recognised as the full load's file, snapshot ${daily.made} ` +
      `(${((daily.snapshotMs ?? Number.NaN) / 1000).toFixed(2)} s); counts ${JSON.stringify(daily.run.counts)}`,
  );
  console.log(`append: snapshot ${second.made} (${((second.snapshotMs ?? Number.NaN) / 1000).toFixed(2)} s)`);
  console.log(`append counts: ${JSON.stringify(second.run.counts)}`);
} finally {
  await admin.query('DROP DATABASE IF EXISTS sales_bench WITH (FORCE)');
  await admin.end();
  await embedded?.stop();
}
