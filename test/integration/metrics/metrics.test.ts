// GET /metrics of a real server over a real database: what each metric says is checked against what the
// test did and what the record holds, read independently.
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { runRefresh } from '../../../src/refresh/refresh.js';
import { useTestDatabase } from '../../support/database.js';
import { type Exposition, parseExposition, sampleOf } from '../../support/exposition.js';
import { heldAt, lockTable } from '../../support/held-load.js';
import { quietLogger, TEST_ANALYTICS_LIMITS, writeFile } from '../../support/sales-files.js';
import { finishedRun, startTestServer, TEST_TOKEN, type TestServer } from '../../support/server.js';
import { until } from '../../support/service-process.js';

const SAMPLE = 'test/fixtures/brief-sample.csv';
const AUTH = { Authorization: `Bearer ${TEST_TOKEN}` };
const HTTP = 'sales_analytics_http_request_duration_seconds_count';

async function scrape(server: TestServer, headers: Record<string, string> = {}): Promise<Exposition> {
  const response = await fetch(`${server.url}/metrics`, { headers });
  expect(response.status).to.equal(200);
  return parseExposition(await response.text());
}

/**
 * The service's own series of an exposition, without their values. The process defaults label some series by
 * what the runtime has met so far (a kind of garbage collection, a type of handle): a bounded set that grows
 * the first time the process collects that way or opens that kind of handle, whatever it was doing.
 */
const seriesOf = (exposition: Exposition) => [...exposition.keys()].filter((name) => name.startsWith('sales_analytics_')).sort();

describe('GET /metrics', () => {
  const db = useTestDatabase();
  let server: TestServer;

  before(async () => {
    server = await startTestServer(db());
    await fs.copyFile(SAMPLE, path.join(server.dataDir, 'sales.csv'));
  });
  after(() => server.close());

  it('answers the Prometheus text format, uncached, with the process defaults', async () => {
    const response = await fetch(`${server.url}/metrics`);
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.equal('text/plain; version=0.0.4; charset=utf-8');
    expect(response.headers.get('cache-control')).to.equal('no-store');
    const metrics = parseExposition(await response.text());
    for (const name of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'nodejs_eventloop_lag_seconds',
      'sales_analytics_memory_limit_bytes',
      'sales_analytics_heap_limit_bytes',
      'sales_analytics_http_requests_in_flight',
    ]) {
      expect(sampleOf(metrics, name), name).to.be.a('number');
    }
    expect(sampleOf(metrics, 'sales_analytics_ready')).to.equal(1);
    expect(sampleOf(metrics, 'sales_analytics_postgres_up')).to.equal(1);
    // This server has no schedule (REFRESH_CRON is empty): no next run, and no refresh worker.
    expect(sampleOf(metrics, 'sales_analytics_refresh_next_run_timestamp_seconds')).to.equal(0);
    expect(sampleOf(metrics, 'sales_analytics_loader_heap_used_bytes')).to.equal(0);
  });

  it('counts each request under its operation and status class, the in-flight one included', async () => {
    const before = await scrape(server);
    for (let i = 0; i < 3; i++) expect((await fetch(`${server.url}/api/v1/revenue`)).status).to.equal(200);
    expect((await fetch(`${server.url}/api/v1/revenue?from=2024-13-01`)).status).to.equal(400);
    expect((await fetch(`${server.url}/health`)).status).to.equal(200);
    expect((await fetch(`${server.url}/no/such/path`)).status).to.equal(404);
    expect((await fetch(`${server.url}/api/v1/refreshes`, { method: 'DELETE' })).status).to.equal(405);
    const after = await scrape(server);
    const moved = (labels: Record<string, string>) =>
      (sampleOf(after, HTTP, labels) ?? 0) - (sampleOf(before, HTTP, labels) ?? 0);
    expect(moved({ operation: 'revenue', status_class: '2xx' })).to.equal(3);
    expect(moved({ operation: 'revenue', status_class: '4xx' })).to.equal(1);
    expect(moved({ operation: '/health', status_class: '2xx' })).to.equal(1);
    expect(moved({ operation: 'none', status_class: '4xx' })).to.equal(2);
    // The scrape before this one was counted as it ended; the one answering now is in flight.
    expect(moved({ operation: '/metrics', status_class: '2xx' })).to.equal(1);
    expect(sampleOf(after, 'sales_analytics_http_requests_in_flight')).to.equal(1);
  });

  it('adds no series for 10,000 distinct unknown paths', async function () {
    this.timeout(120_000);
    await fetch(`${server.url}/warm/up`);
    await scrape(server); // counted as it ends, so the series of a scrape exist from the next one on
    const before = seriesOf(await scrape(server));
    const paths = Array.from({ length: 10_000 }, (_, i) => `/unknown-${i}/${(i * 7919).toString(36)}?q=${i}`);
    for (let start = 0; start < paths.length; start += 50) {
      await Promise.all(
        paths.slice(start, start + 50).map(async (unknown) => (await fetch(`${server.url}${unknown}`)).arrayBuffer()),
      );
    }
    const after = await scrape(server);
    expect(seriesOf(after)).to.deep.equal(before);
    expect([...after.keys()].filter((name) => name.includes('unknown-'))).to.deep.equal([]);
  });

  it('counts the answer cache: a miss, then a hit, and the bytes it keeps', async () => {
    const question = `${server.url}/api/v1/revenue/by-region?from=2024-01-01&to=2024-12-31`;
    const before = await scrape(server);
    expect((await fetch(question)).status).to.equal(200);
    expect((await fetch(question)).status).to.equal(200);
    const after = await scrape(server);
    const moved = (name: string) => (sampleOf(after, name) ?? 0) - (sampleOf(before, name) ?? 0);
    expect(moved('sales_analytics_answer_cache_misses_total')).to.equal(1);
    expect(moved('sales_analytics_answer_cache_hits_total')).to.equal(1);
    expect(moved('sales_analytics_answer_cache_bytes')).to.be.greaterThan(0);
    expect(sampleOf(after, 'sales_analytics_answer_cache_limit_bytes')).to.equal(64 * 1024 ** 2);
    expect(sampleOf(after, 'sales_analytics_questions', { state: 'waiting' })).to.equal(0);
  });

  it('says what the run history says: runs by trigger and outcome, lines, the last success and failure, phases', async () => {
    await scrape(server); // the first scrape of the histograms' runs: those that succeed from here on count
    const response = await fetch(`${server.url}/api/v1/refreshes`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...AUTH },
      body: JSON.stringify({ source: 'sales.csv' }),
    });
    expect(response.status).to.equal(202);
    const succeeded = await finishedRun(server.url, (await response.json()).id);
    expect(succeeded.status).to.equal('succeeded');
    // A run of another process (the CLI's) counts as well: it is in the record.
    const broken = path.join(server.dataDir, 'broken.json');
    await fs.writeFile(broken, '{"not": "an array"');
    const cli = await runRefresh(db().pool, quietLogger, {
      file: broken,
      source: 'broken.json',
      mode: 'append',
      trigger: 'cli',
      analytics: { directory: db().analyticsDir, limits: TEST_ANALYTICS_LIMITS },
    });
    expect(cli.run.status).to.equal('failed');

    const metrics = await scrape(server);
    const { rows } = await db().pool.query(
      `SELECT trigger, status, count(*)::integer AS runs FROM refresh_runs WHERE status <> 'running' GROUP BY 1, 2`,
    );
    for (const row of rows) {
      expect(sampleOf(metrics, 'sales_analytics_refresh_runs_total', { trigger: row.trigger, outcome: row.status })).to.equal(
        row.runs,
      );
    }
    expect(sampleOf(metrics, 'sales_analytics_refresh_runs_total', { trigger: 'api', outcome: 'succeeded' })).to.equal(1);
    expect(sampleOf(metrics, 'sales_analytics_refresh_runs_total', { trigger: 'cli', outcome: 'failed' })).to.equal(1);
    expect(sampleOf(metrics, 'sales_analytics_refresh_lines_total', { kind: 'read' })).to.equal(6);
    expect(sampleOf(metrics, 'sales_analytics_refresh_lines_total', { kind: 'inserted' })).to.equal(6);
    expect(sampleOf(metrics, 'sales_analytics_refresh_last_success_timestamp_seconds')).to.equal(
      Date.parse(succeeded.finishedAt as string) / 1000,
    );
    expect(sampleOf(metrics, 'sales_analytics_refresh_last_failure_timestamp_seconds')).to.equal(
      Date.parse(cli.run.finishedAt as string) / 1000,
    );
    expect(sampleOf(metrics, 'sales_analytics_refresh_running')).to.equal(0);

    const { version } = (await db().pool.query('SELECT version::integer FROM data_version')).rows[0];
    expect(sampleOf(metrics, 'sales_analytics_data_version')).to.equal(version);
    expect(sampleOf(metrics, 'sales_analytics_snapshot_version')).to.equal(version);
    expect(sampleOf(metrics, 'sales_analytics_snapshot_build_seconds')).to.be.greaterThan(0);
    expect(sampleOf(metrics, 'sales_analytics_snapshot_age_seconds')).to.be.within(0, 60);

    const phases = (await db().pool.query('SELECT phase_seconds FROM refresh_runs WHERE id = $1', [succeeded.id])).rows[0]
      .phase_seconds as Record<string, number>;
    expect(Object.keys(phases).sort()).to.deep.equal(['applying', 'preparing', 'reading', 'snapshot']);
    for (const [phase, seconds] of Object.entries(phases)) {
      const name = 'sales_analytics_refresh_phase_duration_seconds';
      expect(sampleOf(metrics, `${name}_count`, { phase }), phase).to.equal(1);
      expect(sampleOf(metrics, `${name}_sum`, { phase }), phase).to.be.closeTo(seconds, 1e-9);
    }
    expect(sampleOf(metrics, 'sales_analytics_refresh_duration_seconds_count')).to.equal(1);
    expect(sampleOf(metrics, 'sales_analytics_refresh_duration_seconds_sum')).to.be.closeTo(
      (succeeded.durationMs as number) / 1000,
      0.002,
    );
  });

  it('while a refresh runs: says so, with the heap of its worker', async () => {
    // The run waits at its upserts (a lock held on orders) while the metrics are read.
    const lock = await lockTable(db().url, 'orders');
    let id = 0;
    try {
      await fs.writeFile(path.join(server.dataDir, 'more.csv'), (await fs.readFile(SAMPLE, 'utf8')).replace(/^100/gm, '200'));
      const response = await fetch(`${server.url}/api/v1/refreshes`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...AUTH },
        body: JSON.stringify({ source: 'more.csv' }),
      });
      expect(response.status).to.equal(202);
      id = (await response.json()).id;
      await heldAt(db().pool, 'upsert orders');
      const metrics = await until('the worker to post its heap', async () => {
        const scraped = await scrape(server);
        return (sampleOf(scraped, 'sales_analytics_loader_heap_used_bytes') ?? 0) > 0 ? scraped : undefined;
      });
      expect(sampleOf(metrics, 'sales_analytics_refresh_running')).to.equal(1);
      expect(sampleOf(metrics, 'sales_analytics_loader_heap_limit_bytes')).to.be.greaterThan(
        sampleOf(metrics, 'sales_analytics_loader_heap_used_bytes') as number,
      );
    } finally {
      await lock.release();
    }
    expect((await finishedRun(server.url, id)).status).to.equal('succeeded');
    const after = await scrape(server);
    expect(sampleOf(after, 'sales_analytics_refresh_running')).to.equal(0);
    expect(sampleOf(after, 'sales_analytics_loader_heap_used_bytes')).to.equal(0);
  });

  it('shows the primary pool, and no replica series without replicas', async () => {
    const metrics = await scrape(server);
    expect(sampleOf(metrics, 'sales_analytics_db_pool_connections', { pool: 'primary', state: 'open' })).to.be.at.least(1);
    expect(sampleOf(metrics, 'sales_analytics_db_pool_waiting', { pool: 'primary' })).to.equal(0);
    expect(server.reads.replicas).to.have.length(0);
    expect([...metrics.keys()].filter((series) => series.startsWith('sales_analytics_replica_'))).to.deep.equal([]);
  });
});

describe('GET /metrics, configured', () => {
  const db = useTestDatabase();

  it('with METRICS_TOKEN: answers its bearer only, with WWW-Authenticate otherwise', async () => {
    const server = await startTestServer(db(), { METRICS_TOKEN: 'metrics-token-0123456789', API_TOKEN: 'api-token-0123456789' });
    try {
      const asked = (token?: string) =>
        fetch(`${server.url}/metrics`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
      const anonymous = await asked();
      expect(anonymous.status).to.equal(401);
      expect(anonymous.headers.get('www-authenticate')).to.equal('Bearer realm="sales-analytics"');
      expect((await anonymous.json()).detail).to.equal('this endpoint needs Authorization: Bearer <METRICS_TOKEN>');
      expect((await asked('api-token-0123456789')).status).to.equal(401);
      expect((await asked(TEST_TOKEN)).status).to.equal(401);
      const scraped = await asked('metrics-token-0123456789');
      expect(scraped.status).to.equal(200);
      expect(await scraped.text()).to.include('sales_analytics_ready 1');
    } finally {
      await server.close();
    }
  });

  it('with METRICS=false: no /metrics', async () => {
    const server = await startTestServer(db(), { METRICS: 'false' });
    try {
      expect((await fetch(`${server.url}/metrics`)).status).to.equal(404);
    } finally {
      await server.close();
    }
  });

  it('with a schedule: when it runs next, read on its time zone', async () => {
    const server = await startTestServer(db(), { REFRESH_CRON: '0 2 * * *', REFRESH_TZ: 'Europe/Paris' });
    try {
      const metrics = await scrape(server);
      // Independently: the first whole hour from now at which Paris's clock reads 02:00 (its offsets are whole hours).
      const paris = new Intl.DateTimeFormat('en-GB', {
        timeZone: 'Europe/Paris',
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      });
      let hour = Math.ceil(Date.now() / 3_600_000) * 3_600_000;
      while (paris.format(hour) !== '02:00') hour += 3_600_000;
      expect(sampleOf(metrics, 'sales_analytics_refresh_next_run_timestamp_seconds')).to.equal(hour / 1000);
    } finally {
      await server.close();
    }
  });
});

describe('GET /metrics, a CSV body streamed to a client that reads slowly', () => {
  const db = useTestDatabase();
  const PAUSE_MS = 1500;

  it('counts the time until the body was sent whole, not until the answer began', async function () {
    this.timeout(120_000);
    // Rejects enough to outlast every buffer between the server and the client (~40 MB of CSV).
    const HEADER =
      'Order ID,Product ID,Customer ID,Product Name,Category,Region,Date of Sale,Quantity Sold,Unit Price,Discount,Shipping Cost,Payment Method,Customer Name,Customer Email,Customer Address';
    const address = 'x'.repeat(200);
    const rows = Array.from(
      { length: 160_000 },
      (_, i) => `${i},P1,C1,Shoe,Shoes,Europe,not-a-date,1,10.00,0,0,Cash,Ann,ann@example.com,${address}`,
    );
    const file = await writeFile(`${HEADER}\n${rows.join('\n')}\n`);
    const { run } = await runRefresh(db().pool, quietLogger, { file, source: 'rejects.csv', mode: 'append', trigger: 'cli' });
    expect(run.counts?.rejected).to.equal(rows.length);
    const server = await startTestServer(db());
    try {
      const labels = { operation: 'listRefreshRejects', status_class: '2xx' };
      const histogram = 'sales_analytics_http_request_duration_seconds';
      const before = await scrape(server);
      const response = await fetch(`${server.url}/api/v1/refreshes/${run.id}/rejects?format=csv`, { headers: AUTH });
      expect(response.status).to.equal(200);
      const reader = response.body!.getReader();
      await reader.read();
      await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
      let bytes = 0;
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) bytes += chunk.value.length;
      expect(bytes).to.be.greaterThan(32 * 1024 ** 2);
      const after = await until('the answer to be counted', async () => {
        const scraped = await scrape(server);
        return sampleOf(scraped, `${histogram}_count`, labels) === 1 ? scraped : undefined;
      });
      const moved = (name: string, extra: Record<string, string> = {}) =>
        (sampleOf(after, name, { ...labels, ...extra }) ?? 0) - (sampleOf(before, name, { ...labels, ...extra }) ?? 0);
      expect(moved(`${histogram}_sum`)).to.be.at.least(PAUSE_MS / 1000);
      expect(moved(`${histogram}_bucket`, { le: '1' })).to.equal(0);
    } finally {
      await server.close();
    }
  });
});
