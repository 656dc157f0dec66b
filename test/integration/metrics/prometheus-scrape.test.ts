// A real Prometheus (Debian's package) scrapes a real server once a second, with the repository's alerting
// rules loaded: it sees the target up, the request rate and the refresh counters move as the test sends
// traffic and a refresh, and every metric the rules name exists (a rule over a renamed metric never fires).
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { projectRoot } from '../../../src/paths.js';
import { useTestDatabase } from '../../support/database.js';
import { freePort } from '../../support/ports.js';
import { finishedRun, startTestServer, TEST_TOKEN, type TestServer } from '../../support/server.js';
import { until } from '../../support/service-process.js';

const RULES = path.join(projectRoot, 'docs/deploy/prometheus/alerts.yml');

describe('Prometheus scraping the server', function () {
  this.timeout(180_000);
  const db = useTestDatabase();
  let server: TestServer;
  let prometheus: ChildProcess;
  let prometheusUrl: string;
  let dir: string;

  /** An instant query through Prometheus's HTTP API: each series' value. */
  async function query(promql: string): Promise<number[]> {
    const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = await response.json();
    expect(body.status, JSON.stringify(body)).to.equal('success');
    return body.data.result.map((series: { value: [number, string] }) => Number(series.value[1]));
  }
  /** Waits for a query to answer one series whose value passes `ok`. */
  const waitFor = (promql: string, ok: (value: number) => boolean) =>
    until(`Prometheus to answer ${promql}`, async () => {
      const [value] = await query(promql);
      return value !== undefined && ok(value) ? value : undefined;
    });

  before(async () => {
    server = await startTestServer(db());
    await fs.copyFile('test/fixtures/brief-sample.csv', path.join(server.dataDir, 'sales.csv'));
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sales-prometheus-'));
    const config = path.join(dir, 'prometheus.yml');
    await fs.writeFile(
      config,
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        `rule_files: ['${RULES}']`,
        'scrape_configs:',
        '  - job_name: sales-analytics',
        `    static_configs: [{ targets: ['${new URL(server.url).host}'] }]`,
      ].join('\n'),
    );
    const port = await freePort();
    prometheusUrl = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      'prometheus',
      [`--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    prometheus.stderr?.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-4000);
    });
    const exited = once(prometheus, 'exit').then(() => {
      throw new Error(`prometheus exited:\n${log}`);
    });
    exited.catch(() => {});
    await Promise.race([
      exited,
      until('Prometheus to be ready', async () =>
        (await fetch(`${prometheusUrl}/-/ready`).catch(() => undefined))?.ok ? true : undefined,
      ),
    ]);
  });

  after(async () => {
    if (prometheus && prometheus.exitCode === null) {
      prometheus.kill('SIGTERM');
      await once(prometheus, 'exit');
    }
    await server?.close();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('sees the server up, then its request rate and refresh counters move', async () => {
    await waitFor('up{job="sales-analytics"}', (value) => value === 1);
    // A series starts at its first value: one request, seen scraped, before those whose rate is measured.
    const revenue = 'sales_analytics_http_request_duration_seconds_count{operation="revenue",status_class="2xx"}';
    expect((await fetch(`${server.url}/api/v1/revenue`)).status).to.equal(200);
    const before = await waitFor(revenue, (value) => value === 1);
    const runs = 'sales_analytics_refresh_runs_total{trigger="api",outcome="succeeded"}';
    expect(await query(runs)).to.deep.equal([]);

    for (let i = 0; i < 20; i++) expect((await fetch(`${server.url}/api/v1/revenue`)).status).to.equal(200);
    const response = await fetch(`${server.url}/api/v1/refreshes`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TEST_TOKEN}` },
      body: JSON.stringify({ source: 'sales.csv' }),
    });
    expect(response.status).to.equal(202);
    expect((await finishedRun(server.url, (await response.json()).id)).status).to.equal('succeeded');

    await waitFor(revenue, (value) => value === before + 20);
    await waitFor(`rate(${revenue}[1m])`, (value) => value > 0);
    await waitFor(runs, (value) => value === 1);
    await waitFor('sales_analytics_refresh_lines_total{kind="inserted"}', (value) => value === 6);
    await waitFor('time() - sales_analytics_refresh_last_success_timestamp_seconds', (value) => value >= 0 && value < 120);
    const { rows } = await db().pool.query('SELECT version::integer FROM data_version');
    await waitFor('sales_analytics_snapshot_version', (value) => value === rows[0].version);
  });

  it('has every metric its alerting rules name, and evaluates the rules without error', async () => {
    const rules = await fs.readFile(RULES, 'utf8');
    const named = new Set(
      [...rules.matchAll(/^\s+expr:([\s\S]*?)(?=^\s+for:)/gm)].flatMap(([, expr]) =>
        [...expr.matchAll(/\b(?:up|(?:process|nodejs|sales_analytics)_\w+)\b/g)].map(([name]) => name),
      ),
    );
    expect([...named]).to.include.members(['up', 'sales_analytics_ready', 'sales_analytics_replica_up']);
    // The replicas' series exist only with replicas (DATABASE_READ_URLS); the test server has none.
    for (const name of [...named].filter((metric) => !metric.startsWith('sales_analytics_replica_'))) {
      await waitFor(`count({__name__="${name}"})`, (value) => value >= 1);
    }
    const { data } = await (await fetch(`${prometheusUrl}/api/v1/rules`)).json();
    const loaded = data.groups.flatMap((group: { rules: { name: string; health: string; lastError?: string }[] }) => group.rules);
    expect(loaded.length).to.be.at.least(10);
    await until('every rule to be evaluated', async () => {
      const { data: now } = await (await fetch(`${prometheusUrl}/api/v1/rules`)).json();
      const states = now.groups.flatMap((group: { rules: { health: string }[] }) => group.rules.map((rule) => rule.health));
      return states.every((health: string) => health === 'ok') ? true : undefined;
    });
  });
});
