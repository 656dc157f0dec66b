// The interactive docs in a real browser (Debian's Chromium; `npm run test:browser`, which CI runs after
// installing it): Swagger UI renders every operation from local assets, under the API's own CSP.
import { existsSync } from 'node:fs';
import { expect } from 'chai';
import { type Browser, chromium } from 'playwright-core';
import { useTestDatabase } from '../support/database.js';
import { startTestServer, type TestServer } from '../support/server.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe('interactive API docs in Chromium', () => {
  const db = useTestDatabase();
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium, or set CHROMIUM_PATH`);
    server = await startTestServer(db());
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('renders every operation of the OpenAPI document, loading nothing from elsewhere, without errors', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    const requested: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('request', (request) => requested.push(request.url()));

    await page.goto(`${server.url}/docs`);
    await page.waitForSelector('.opblock-summary-path');
    const paths = await page.$$eval('.opblock-summary-path', (nodes) => nodes.map((node) => node.getAttribute('data-path')));
    const document = await (await fetch(`${server.url}/api/v1/openapi.json`)).json();
    const operations = Object.values(document.paths as Record<string, object>).reduce(
      (n, methods) => n + Object.keys(methods).length,
      0,
    );
    expect(paths).to.have.length(operations);
    expect(paths).to.include('/api/v1/revenue/trend');
    expect(requested.every((url) => url.startsWith(server.url))).to.equal(true);
    expect(problems).to.deep.equal([]);
  });
});
