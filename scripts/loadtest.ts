// npm run loadtest: the server under concurrent connections (autocannon), against LOADTEST_ROWS generated
// lines (default 1,000,000; the data of bench-data.ts), LOADTEST_SECONDS per mix (default 60):
//   - hello: a bare Koa hello-world in its own process, the yardstick measured in the same run (50 connections);
//   - cached: the dashboard's questions over the last 30 days, repeated (answer-cache hits; 50 connections);
//   - uncached: the same questions, each request a window no earlier request asked (cache misses), at 16
//     connections (a team's dashboards) and at 50;
//   - metrics: the cached mix against this server (metrics on, /metrics scraped each second as a busy
//     Prometheus would) and a second one with METRICS=false at the same moments, in METRIC_ROUNDS rounds: the
//     ratio of their throughputs, per round and in all.
// The server runs as `npm start` does (its own process, cache on, no schedule); its RSS is read before the
// mixes and after them, with its peak. Prints req/s, p50 / p99 latency, errors and each figure against its target.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import autocannon from 'autocannon';
import { addDays } from '../src/analytics/range.js';
import { projectRoot } from '../src/paths.js';
import { openBenchDatabase, workDir } from './bench-data.js';

const rows = Number(process.env.LOADTEST_ROWS ?? 1_000_000);
const seconds = Number(process.env.LOADTEST_SECONDS ?? 60);
const CONNECTIONS = 50;
const UNCACHED_CONNECTIONS = 16;
/** Rounds of the cached mix against the servers with metrics on and off at once, each a third of LOADTEST_SECONDS. */
const METRIC_ROUNDS = 5;
/** The least share of its throughput the cached mix keeps with metrics on. */
const METRICS_SHARE = 0.95;
/** The most the server's RSS may reach (the issue's bound at 10M lines). */
const PEAK_RSS_MB = 1024;

/** The questions the dashboard asks of a range. */
const QUESTIONS = [
  '/api/v1/revenue',
  '/api/v1/revenue/by-category',
  '/api/v1/revenue/by-region',
  '/api/v1/revenue/trend?interval=day',
  '/api/v1/products/top?n=10',
  '/api/v1/customers/summary',
  '/api/v1/customers/segments',
  '/api/v1/customers/lifetime-value?limit=10',
];
const WINDOW_DAYS = [7, 30, 90, 365];
const withRange = (question: string, from: string, to: string) =>
  `${question}${question.includes('?') ? '&' : '?'}from=${from}&to=${to}`;

/** Starts a node script in its own process; resolves with the first line it prints (a port) when asked. */
function startProcess(script: string, env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, [path.join(projectRoot, 'dist', script)], { env, stdio: ['ignore', 'pipe', 'inherit'] });
}

async function firstLine(child: ChildProcess): Promise<string> {
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  return chunk.toString().split('\n')[0].trim();
}

async function waitReady(base: string): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    const response = await fetch(`${base}/ready`).catch(() => undefined);
    if (response?.status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the server at ${base} did not become ready`);
}

async function freePort(): Promise<number> {
  const probe = net.createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** The process's resident memory now (VmRSS) or at its peak so far (VmHWM), in MiB. */
async function rssMiB(pid: number, which: 'VmRSS' | 'VmHWM' = 'VmRSS'): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${which}:\\s+(\\d+)`).exec(status)![1]) / 1024;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

interface Mix {
  name: string;
  req: number;
  p50: number;
  p99: number;
  errors: number;
}

async function hammer(
  name: string,
  url: string,
  nextPath?: () => string,
  connections = CONNECTIONS,
  duration = seconds,
): Promise<Mix> {
  const result = await autocannon({
    url,
    connections,
    duration,
    ...(nextPath ? { requests: [{ setupRequest: (request) => ({ ...request, path: nextPath() }) }] } : {}),
  });
  const errors = result.errors + result.timeouts + result.non2xx;
  return { name, req: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors };
}

/**
 * The cached mix against `on` (its /metrics read each second meanwhile) and `off` at the same moments, half the
 * connections each: both servers share the machine as it is then, so its drift, which moves runs taken in turn
 * by 30% here, falls on both alike, and each gets the CPU its answers cost.
 */
async function metricsSideBySide(on: string, off: string, dashboard: string[]): Promise<{ on: Mix; off: Mix }[]> {
  const cachedMix = (base: string) => {
    let asked = 0;
    return hammer('cached', base, () => dashboard[asked++ % dashboard.length], CONNECTIONS / 2, Math.round(seconds / 3));
  };
  const scraper = setInterval(() => void fetch(`${on}/metrics`).then((response) => response.text()), 1000);
  try {
    const rounds = [];
    for (let round = 0; round < METRIC_ROUNDS; round++) {
      const [a, b] = await Promise.all([cachedMix(on), cachedMix(off)]);
      rounds.push({ on: a, off: b });
    }
    return rounds;
  } finally {
    clearInterval(scraper);
  }
}

const database = await openBenchDatabase(rows);
const hello = startProcess('scripts/loadtest-hello.js', process.env);
/** A server as `npm start` runs it, over the benchmark's database, on a port of its own. */
async function startServer(env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; base: string }> {
  const port = await freePort();
  const child = startProcess('src/cli/start.js', {
    ...process.env,
    DATABASE_URL: database.url,
    PORT: String(port),
    SEED_ON_START: 'false',
    REFRESH_CRON: '',
    LOG_LEVEL: 'warn',
    DATA_DIR: path.join(workDir, 'loadtest-data'),
    LOG_DIR: path.join(workDir, 'loadtest-logs'),
    ...env,
  });
  return { child, base: `http://127.0.0.1:${port}` };
}
const { child: server, base } = await startServer();
const { child: bare, base: bareBase } = await startServer({ METRICS: 'false' });
try {
  const helloUrl = `http://127.0.0.1:${await firstLine(hello)}/`;
  await waitReady(base);
  await waitReady(bareBase);
  const { to: last } = (await (await fetch(`${base}/api/v1/revenue`)).json()) as { to: string };
  const first = addDays(last, -29);
  const dashboard = QUESTIONS.map((question) => withRange(question, first, last));
  // Each server's cache warmed once.
  for (const question of dashboard) for (const server of [base, bareBase]) await fetch(`${server}${question}`);
  const rssBefore = await rssMiB(server.pid!);

  const yardstick = await hammer('bare Koa hello-world', helloUrl);
  let asked = 0;
  const cached = await hammer('cached: the dashboard, last 30 days, repeated', base, () => dashboard[asked++ % dashboard.length]);
  // Before the uncached mixes, whose questions still queued when they end would slow the first round.
  const rounds = await metricsSideBySide(base, bareBase, dashboard);
  // Each request a window none before it asked: the question, the window's length and its end day all vary.
  let distinct = 0;
  const distinctWindow = () => {
    const n = distinct++;
    const question = QUESTIONS[n % QUESTIONS.length];
    const days = WINDOW_DAYS[Math.floor(n / QUESTIONS.length) % WINDOW_DAYS.length];
    const end = addDays(last, -Math.floor(n / (QUESTIONS.length * WINDOW_DAYS.length)));
    return withRange(question, addDays(end, 1 - days), end);
  };
  const uncached = await hammer(
    `uncached: the dashboard questions over distinct windows, ${UNCACHED_CONNECTIONS} connections`,
    base,
    distinctWindow,
    UNCACHED_CONNECTIONS,
  );
  const uncachedMore = await hammer(`uncached: the same, ${CONNECTIONS} connections`, base, distinctWindow);
  const rssAfter = await rssMiB(server.pid!);
  const rssPeak = await rssMiB(server.pid!, 'VmHWM');

  const growth = rssAfter / rssBefore - 1;
  const verdict = (met: boolean) => (met ? 'met' : '**not met**');
  console.log(`\n${rows.toLocaleString('en')} order lines; ${seconds} s per mix\n`);
  console.log('| mix | req/s | p50 ms | p99 ms | errors | target | |');
  console.log('|---|---|---|---|---|---|---|');
  const line = (mix: Mix, target: string, met?: boolean) =>
    console.log(
      `| ${mix.name} | ${mix.req.toFixed(0)} | ${mix.p50} | ${mix.p99} | ${mix.errors} | ${target} | ${met === undefined ? '' : verdict(met)} |`,
    );
  line(yardstick, '');
  const share = cached.req / yardstick.req;
  line(cached, `>= 40% of hello-world (${(share * 100).toFixed(0)}%), no errors`, share >= 0.4 && cached.errors === 0);
  line(uncached, 'p99 <= 250 ms, no errors', uncached.p99 <= 250 && uncached.errors === 0);
  line(uncachedMore, 'no errors', uncachedMore.errors === 0);
  const on = rounds.reduce((total, round) => total + round.on.req, 0);
  const off = rounds.reduce((total, round) => total + round.off.req, 0);
  const ratios = rounds.map((round) => round.on.req / round.off.req);
  console.log(
    `\nmetrics on / off, the cached mix against both at once (${CONNECTIONS / 2} connections each), ` +
      `${METRIC_ROUNDS} rounds of ${Math.round(seconds / 3)} s: ` +
      `${rounds.map((round) => `${round.on.req.toFixed(0)} / ${round.off.req.toFixed(0)}`).join('; ')} req/s; ` +
      `ratios ${ratios.map((ratio) => ratio.toFixed(3)).join(', ')}; ` +
      `all rounds ${(on / off).toFixed(3)} (target >= ${METRICS_SHARE}: ${verdict(on / off >= METRICS_SHARE)})`,
  );
  console.log(
    `\nserver RSS: ${rssBefore.toFixed(0)} MB before the mixes, ${rssAfter.toFixed(0)} MB after ` +
      `(${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(1)}%), peak ${rssPeak.toFixed(0)} MB ` +
      `(target <= ${PEAK_RSS_MB} MB: ${verdict(rssPeak <= PEAK_RSS_MB)}); uncached windows asked: ${distinct}`,
  );
} finally {
  await Promise.all([stop(hello), stop(server), stop(bare)]);
  await database.stop();
}
