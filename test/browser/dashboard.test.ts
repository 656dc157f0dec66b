// The dashboard at / in a real browser (Debian's Chromium): over a generated dataset, every figure it shows
// equals the API's answer to the same question, asked here independently; its state lives in the URL; the
// filters narrow the panels; the CSV link holds the table; a refresh runs to the end; failures read plainly.
// Screenshots of the main states go to test-artifacts/ (desktop 1280x800 and narrow 375x812).
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { createPool } from '../../src/db/pool.js';
import { generateSales } from '../../src/generate/sales-generator.js';
import { createTestDatabase, type TestDatabase, useTestDatabase } from '../support/database.js';
import { freePort } from '../support/ports.js';
import { csvOf, load, writeFile } from '../support/sales-files.js';
import { startTestServer, TEST_TOKEN, type TestServer } from '../support/server.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.resolve('test-artifacts');
const LAST_DAY = '2024-06-30';
const money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
const count = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const percent = new Intl.NumberFormat('en-US', { style: 'percent', maximumFractionDigits: 1, signDisplay: 'exceptZero' });

/** The day `days` after `day` (UTC calendar days), computed apart from the page's own code. */
function shift(day: string, days: number): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

describe('dashboard in Chromium', () => {
  const db = useTestDatabase();
  let server: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let serverStopped = false;

  async function api(route: string, query: Record<string, string | number> = {}) {
    const params = new URLSearchParams(Object.entries(query).map(([name, value]) => [name, String(value)]));
    const response = await fetch(`${server.url}/api/v1${route}?${params}`);
    expect(response.status, route).to.equal(200);
    return response.json();
  }

  async function settled(target = page) {
    await target.waitForSelector('#main[aria-busy="false"]');
  }

  async function tiles(target = page) {
    return target.$$eval('[data-kpi]', (nodes) =>
      Object.fromEntries(nodes.map((node) => [(node as HTMLElement).dataset.kpi, node.querySelector('.value')!.textContent])),
    );
  }

  async function expectedTiles(from: string, to: string) {
    const [revenue, summary] = await Promise.all([api('/revenue', { from, to }), api('/customers/summary', { from, to })]);
    return {
      revenue: money.format(revenue.revenue),
      orders: count.format(revenue.orders),
      customers: count.format(summary.customers),
      averageOrderValue: money.format(summary.averageOrderValue),
    };
  }

  async function chartData(id: string) {
    return page.evaluate((canvasId) => {
      const chart = (
        globalThis as unknown as {
          Chart: { getChart(node: Element): { data: { labels: string[]; datasets: { data: number[] }[] } } };
        }
      ).Chart.getChart(document.getElementById(canvasId)!);
      return { labels: chart.data.labels, series: chart.data.datasets.map((dataset) => dataset.data) };
    }, id);
  }

  async function screenshot(name: string) {
    await page.screenshot({ path: path.join(ARTIFACTS, `dashboard-${name}-desktop.png`), fullPage: true });
    const narrow = await context.newPage();
    await narrow.setViewportSize({ width: 375, height: 812 });
    await narrow.goto(page.url());
    await settled(narrow);
    await narrow.screenshot({ path: path.join(ARTIFACTS, `dashboard-${name}-narrow.png`), fullPage: true });
    const overflow = await narrow.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow, 'no sideways scrolling at 375 px').to.equal(0);
    await narrow.close();
  }

  before(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium, or set CHROMIUM_PATH`);
    await fs.mkdir(ARTIFACTS, { recursive: true });
    const lines = [...generateSales({ rows: 4000, seed: 16, firstDay: '2023-01-01', lastDay: LAST_DAY })];
    await load(db().pool, await writeFile(csvOf(lines)));
    server = await startTestServer(db());
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 }, acceptDownloads: true });
    page = await context.newPage();
  });
  after(async () => {
    await browser?.close();
    if (!serverStopped) await server?.close();
  });

  it('shows the last 90 days up to the last sale day by default, each tile equal to the API and its change', async () => {
    const problems: string[] = [];
    const requested: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('request', (request) => requested.push(request.url()));
    await page.goto(`${server.url}/`);
    await settled();
    const from = shift(LAST_DAY, -89);
    expect(await tiles()).to.deep.equal(await expectedTiles(from, LAST_DAY));
    const previous = await api('/revenue', { from: shift(from, -90), to: shift(from, -1) });
    const current = await api('/revenue', { from, to: LAST_DAY });
    const change = await page.textContent('[data-kpi="revenue"] .change');
    expect(change).to.equal(`${percent.format((current.revenue - previous.revenue) / previous.revenue)} vs previous period`);
    const trend = await api('/revenue/trend', { from, to: LAST_DAY, interval: 'week' });
    const previousTrend = await api('/revenue/trend', { from: shift(from, -90), to: shift(from, -1), interval: 'week' });
    expect(await chartData('trend-chart')).to.deep.equal({
      labels: trend.items.map((item: { period: string }) => item.period),
      series: [trend.items, previousTrend.items].map((items) => items.map((item: { revenue: number }) => item.revenue)),
    });
    expect(requested.every((url) => url.startsWith(server.url))).to.equal(true);
    expect(
      requested.filter((url) => new URL(url).pathname.startsWith('/api/') && !new URL(url).pathname.startsWith('/api/v1/')),
    ).to.deep.equal([]);
    expect(problems).to.deep.equal([]);
    await screenshot('default');
  });

  it('keeps "last 30 days" and month granularity in the URL, and the tiles and the chart follow', async () => {
    const before = await tiles();
    const weeks = (await chartData('trend-chart')).labels.length;
    await page.selectOption('#range', { label: 'Last 30 days' });
    await settled();
    expect(new URL(page.url()).searchParams.get('range')).to.equal('last30');
    const from = shift(LAST_DAY, -29);
    const expected = await expectedTiles(from, LAST_DAY);
    expect(await tiles())
      .to.deep.equal(expected)
      .and.not.deep.equal(before);

    await page.selectOption('#interval', 'month');
    await settled();
    expect(new URL(page.url()).searchParams.get('interval')).to.equal('month');
    const months = await api('/revenue/trend', { from, to: LAST_DAY, interval: 'month' });
    const chart = await chartData('trend-chart');
    expect(chart.labels)
      .to.deep.equal(['2024-06'])
      .and.deep.equal(months.items.map((item: { period: string }) => item.period));
    expect(chart.labels.length).to.not.equal(weeks);

    // A reload (or a shared link) restores the same view.
    await page.reload();
    await settled();
    expect(await page.inputValue('#range')).to.equal('last30');
    expect(await page.inputValue('#interval')).to.equal('month');
    expect(await tiles()).to.deep.equal(expected);

    // Custom starts from the range on screen; a day typed in is kept in the URL too.
    await page.selectOption('#range', 'custom');
    await settled();
    expect(Object.fromEntries(new URL(page.url()).searchParams)).to.include({ range: 'custom', from, to: LAST_DAY });
    await page.fill('#from', '2024-02-10');
    await settled();
    expect(new URL(page.url()).searchParams.get('from')).to.equal('2024-02-10');
    expect(await tiles()).to.deep.equal(await expectedTiles('2024-02-10', LAST_DAY));
  });

  it('narrows every filterable panel to the chosen region, and says the customer panels are not', async () => {
    await page.selectOption('#range', 'all');
    await settled();
    const regions = await api('/revenue/by-region');
    const region: string = regions.items[regions.items.length - 1].region;
    await page.selectOption('#region', region);
    await settled();
    expect(new URL(page.url()).searchParams.get('region')).to.equal(region);
    const range = { from: regions.from, to: regions.to };
    const own = (await api('/revenue/by-region', range)).items.find((item: { region: string }) => item.region === region);
    const shown = await tiles();
    expect(shown.revenue).to.equal(money.format(own.revenue));
    expect(shown.orders).to.equal(count.format(own.orders));
    expect(shown.customers).to.equal('n/a');
    expect(shown.averageOrderValue).to.equal(money.format(own.revenue / own.orders));
    expect(await page.isVisible('#customers-note')).to.equal(true);

    const trend = await api('/revenue/trend', { ...range, region, interval: 'month' });
    expect((await chartData('trend-chart')).series[0]).to.deep.equal(
      trend.items.map((item: { revenue: number }) => item.revenue),
    );
    const byCategory = await api('/revenue/by-category', { ...range, region });
    expect((await chartData('category-chart')).series[0]).to.deep.equal(
      byCategory.items.map((item: { revenue: number }) => item.revenue),
    );
    expect((await chartData('region-chart')).labels).to.deep.equal([region]);
    const top = await api('/products/top', { ...range, region, n: 10 });
    const rows = await page.$$eval('#top-table tbody tr', (trs) => trs.map((tr) => tr.children[2].textContent));
    expect(rows).to.deep.equal(
      top.items.map((item: { productName: string; productId: string }) => `${item.productName} (${item.productId})`),
    );
    await screenshot('region');
  });

  it('offers the top-products table as CSV holding the same rows', async () => {
    await page.selectOption('#region', '');
    await page.selectOption('#top', 'region');
    await settled();
    expect(new URL(page.url()).searchParams.get('top')).to.equal('region');
    const table = await page.$$eval('#top-table tbody tr', (trs) =>
      trs.map((tr) => [...tr.children].map((td) => td.textContent).filter((_, i) => i !== 2 && i !== 3)),
    );
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#top-csv')]);
    const csv = await fs.readFile((await download.path())!, 'utf8');
    const [header, ...lines] = csv.trim().split(/\r?\n/);
    expect(header.split(',').slice(0, 3)).to.deep.equal(['region', 'rank', 'productId']);
    const columns = header.split(',');
    const fromCsv = lines.map((line) => {
      const cells = Object.fromEntries(line.split(',').map((value, i) => [columns[i], value]));
      return [
        cells.region,
        count.format(Number(cells.rank)),
        count.format(Number(cells.quantity)),
        money.format(Number(cells.revenue)),
      ];
    });
    expect(fromCsv).to.have.length.above(5);
    expect(fromCsv).to.deep.equal(table);
    expect(download.suggestedFilename()).to.equal('products-top-by-region.csv');
  });

  it('runs a refresh with the token to the end, shows its rejected rows, and the tiles take in the new sales', async () => {
    await page.selectOption('#top', 'overall');
    await page.selectOption('#range', 'last7');
    await settled();
    const before = await tiles();
    const added = [...generateSales({ rows: 60, seed: 99, firstDay: LAST_DAY, lastDay: LAST_DAY, firstOrder: 900_001 })];
    const bad = `999999,P1,C1,Thing,Toys,Europe,${LAST_DAY},lots,1.00,0,0,Card,Somebody,somebody@example.com,Somewhere\n`;
    await fs.writeFile(path.join(server.dataDir, 'more.csv'), csvOf(added) + bad);

    await page.fill('#refresh-token', TEST_TOKEN);
    await page.fill('#refresh-source', 'more.csv');
    await page.click('#refresh-start');
    await page.waitForSelector('#refresh-state:text-matches("succeeded")');
    await page.waitForFunction(
      (old) => document.querySelector('[data-kpi="revenue"] .value')!.textContent !== old,
      before.revenue,
    );
    await settled();
    const after = await tiles();
    expect(after).to.deep.equal(await expectedTiles(shift(LAST_DAY, -6), LAST_DAY));
    expect(after.orders).to.not.equal(before.orders);
    expect(await page.evaluate(() => sessionStorage.getItem('sales-analytics.token'))).to.equal(TEST_TOKEN);
    expect(await page.evaluate(() => localStorage.length)).to.equal(0);

    const firstRun = await page.$$eval('#runs-table tbody tr:first-child td', (tds) => tds.map((td) => td.textContent));
    expect(firstRun.slice(1, 2)).to.deep.equal(['succeeded']);
    expect(firstRun[4]).to.equal('more.csv');
    expect(firstRun[8]).to.equal('1');
    await page.click('#runs-table tbody tr:first-child button');
    await page.waitForSelector('#rejects-table tbody tr');
    const reject = await page.$$eval('#rejects-table tbody td', (tds) => tds.map((td) => td.textContent));
    expect(reject[0]).to.equal(String(added.length + 2));
    expect(reject[1]).to.contain('Quantity Sold');
    expect(reject[2]).to.equal(bad.trim());
    await screenshot('refreshed');
  });

  it('says in plain words when the API does not answer', async () => {
    serverStopped = true;
    await server.close();
    await page.selectOption('#range', 'last30');
    await page.waitForSelector('#error:not([hidden])');
    expect(await page.textContent('#error-text')).to.equal(
      'The API does not answer: the server may be stopped or unreachable. Try again once it is running.',
    );
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-api-down-desktop.png'), fullPage: true });
  });

  describe('over a database that does not answer', () => {
    let away: TestServer;
    let pool: ReturnType<typeof createPool>;
    before(async () => {
      const url = `postgres://postgres@127.0.0.1:${await freePort()}/nothing`;
      pool = createPool(url);
      away = await startTestServer({
        url,
        pool,
        analyticsDir: path.join(os.tmpdir(), 'sales-analytics-nothing'),
        drop: async () => {},
      });
    });
    after(async () => {
      await away?.close();
      await pool?.end();
    });

    it('says that the database is not ready (the API answers 503)', async () => {
      expect((await fetch(`${away.url}/api/v1/revenue`)).status).to.equal(503);
      const fresh = await context.newPage();
      await fresh.goto(`${away.url}/`);
      await fresh.waitForSelector('#error:not([hidden])');
      expect(await fresh.textContent('#error-text')).to.equal(
        'The database is not ready: it may be starting or restarting. Try again in a few seconds.',
      );
      await fresh.close();
    });
  });

  describe('over an empty database', () => {
    let empty: TestDatabase;
    let emptyServer: TestServer;
    before(async () => {
      empty = await createTestDatabase();
      emptyServer = await startTestServer(empty);
    });
    after(async () => {
      await emptyServer?.close();
      await empty?.drop();
    });

    it('says that no sales are loaded yet and still offers a refresh', async () => {
      const fresh = await context.newPage();
      await fresh.goto(`${emptyServer.url}/`);
      await settled(fresh);
      expect(await fresh.textContent('#status')).to.equal('No sales loaded yet. Start a refresh below to load a file.');
      expect(await fresh.isVisible('#panels')).to.equal(false);
      expect(await fresh.isVisible('#refresh-form')).to.equal(true);
      await fresh.screenshot({ path: path.join(ARTIFACTS, 'dashboard-empty-desktop.png'), fullPage: true });
      await fresh.close();
    });
  });
});
