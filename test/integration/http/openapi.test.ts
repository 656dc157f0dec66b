// The OpenAPI document is valid 3.1 in shape, every operation is documented in the README's API table, and
// the docs page is served from local assets.
import fs from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Validator } from '@seriousme/openapi-schema-validator';
import { expect } from 'chai';
import { publishedVersions, snapshotFile } from '../../../src/snapshot/published.js';
import { snapshotDirOf, useTestDatabase } from '../../support/database.js';
import { startTestServer, type TestServer } from '../../support/server.js';

describe('API documentation', () => {
  const db = useTestDatabase();
  let server: TestServer;
  before(async () => {
    server = await startTestServer(db());
  });
  after(() => server.close());

  it('serves a valid OpenAPI 3.1 document', async () => {
    const document = await (await fetch(`${server.url}/api/v1/openapi.json`)).json();
    const result = await new Validator().validate(document);
    expect(result.errors ?? [], JSON.stringify(result.errors)).to.deep.equal([]);
    expect(result.valid).to.equal(true);
  });

  it('lists the same operations in the README table as in the OpenAPI document', async () => {
    const document = await (await fetch(`${server.url}/api/v1/openapi.json`)).json();
    expect(document.openapi).to.equal('3.1.0');
    const documented = Object.entries(document.paths as Record<string, Record<string, unknown>>)
      .flatMap(([route, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${route}`))
      .sort();
    const readme = await fs.readFile('README.md', 'utf8');
    const table = readme.split('<!-- api-table')[1].split('\n\n')[0];
    const rows = [...table.matchAll(/^\| (GET|POST|PUT|DELETE) \| `([^`]+)` \|/gm)].map(
      ([, method, route]) => `${method} ${route}`,
    );
    expect(rows.sort()).to.deep.equal(documented);
  });

  it("lists in docs/api.md each operation's statuses and headers as the OpenAPI document does", async () => {
    const document = await (await fetch(`${server.url}/api/v1/openapi.json`)).json();
    const resolve = (response: { $ref?: string; headers?: Record<string, unknown> }) =>
      response.$ref ? document.components.responses[response.$ref.split('/').at(-1) as string] : response;
    /** What every operation may answer, which the table states once above it. */
    const everywhere = ['400', '406', '421', '500', '503'];
    const documented = Object.entries(
      document.paths as Record<string, Record<string, { operationId: string; responses: object }>>,
    )
      .flatMap(([route, methods]) =>
        Object.entries(methods).map(([method, operation]) => {
          const answers = Object.entries(
            operation.responses as Record<string, { $ref?: string; headers?: Record<string, unknown> }>,
          )
            .filter(([status]) => !everywhere.includes(status))
            .map(([status, response]) => {
              const headers = Object.keys(resolve(response).headers ?? {}).filter((name) => name !== 'X-Request-Id');
              return `${status} ${headers.sort().join(',')}`;
            });
          return `${operation.operationId} ${method.toUpperCase()} ${route}: ${answers.join('; ')}`;
        }),
      )
      .sort();
    const api = await fs.readFile('docs/api.md', 'utf8');
    const table = api.split('<!-- operations-table')[1].split('\n\n')[0];
    const rows = [...table.matchAll(/^\| `(\w+)` \| (GET|POST) \| `([^`]+)` \| (.+) \|$/gm)].map(
      ([, id, method, route, answers]) => {
        const statuses = [...answers.matchAll(/(\d{3})(?: \(([^)]*)\))?/g)].map(
          ([, status, headers]) =>
            `${status} ${[...(headers ?? '').matchAll(/`([\w-]+)`/g)]
              .map(([, name]) => name)
              .sort()
              .join(',')}`,
        );
        return `${id} ${method} ${route}: ${statuses.join('; ')}`;
      },
    );
    expect(rows.sort()).to.deep.equal(documented);
  });

  it('documents minVersion, a whole number from 0, on every analytics endpoint', async () => {
    const document = await (await fetch(`${server.url}/api/v1/openapi.json`)).json();
    const analytics = Object.entries(document.paths as Record<string, { get?: { parameters: { name: string }[] } }>).filter(
      ([route, methods]) =>
        methods.get && route.startsWith('/api/v1/') && !route.startsWith('/api/v1/refreshes') && route !== '/api/v1/openapi.json',
    );
    expect(analytics).to.have.length(13);
    for (const [route, { get }] of analytics) {
      const minVersion = get!.parameters.find((parameter) => parameter.name === 'minVersion');
      expect(minVersion, route).to.deep.include({ in: 'query' }).and.not.have.property('required');
      expect((minVersion as unknown as { schema: object }).schema, route).to.include({ type: 'integer', minimum: 0 });
    }
  });

  it('serves the interactive docs and their assets from this process', async () => {
    const page = await fetch(`${server.url}/docs`);
    expect(page.status).to.equal(200);
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map(([, url]) => url);
    expect(assets.every((url) => url.startsWith('/docs/'))).to.equal(true);
    for (const asset of assets) expect((await fetch(`${server.url}${asset}`)).status, asset).to.equal(200);
  });

  it('answers unknown routes with 404 and wrong methods with 405, as problem details', async () => {
    const missing = await fetch(`${server.url}/api/v1/nothing`);
    expect(missing.status).to.equal(404);
    expect(await missing.json()).to.include({ type: 'about:blank', title: 'Not Found', status: 404 });
    const wrong = await fetch(`${server.url}/api/v1/refreshes`, { method: 'DELETE' });
    expect(wrong.status).to.equal(405);
    expect(wrong.headers.get('allow')).to.contain('POST');
    expect(wrong.headers.get('content-type')).to.equal('application/problem+json');
    const unacceptable = await fetch(`${server.url}/api/v1/refreshes`, { headers: { Accept: 'text/csv' } });
    expect(unacceptable.status).to.equal(406);
    expect(await unacceptable.json()).to.include({ status: 406, detail: 'this resource is available as application/json only' });
  });
});

describe('health, readiness and failures', () => {
  const db = useTestDatabase();
  let server: TestServer;
  before(async () => {
    server = await startTestServer(db());
  });
  after(() => server.close());

  it('answers /health, and /ready with the data version while every migration is applied', async () => {
    expect(await (await fetch(`${server.url}/health`)).json()).to.deep.equal({ status: 'ok' });
    // Replicas are listed only when DATABASE_READ_URLS names some (the replica pass; read-pool.test.ts checks them).
    const { replicas, ...ready } = await (await fetch(`${server.url}/ready`)).json();
    expect(ready).to.deep.equal({ status: 'ready', dataVersion: 0, recordVersion: 0 });
    expect(replicas?.map((replica: { state: string }) => replica.state)).to.deep.equal(db().replicaUrl ? ['up'] : undefined);
    await db().pool.query("DELETE FROM schema_migrations WHERE name = '0003_yearly_product_rollups'");
    const pending = await fetch(`${server.url}/ready`);
    expect(pending.status).to.equal(503);
    expect(await pending.json()).to.deep.equal({
      status: 'unavailable',
      reason: 'migrations not applied',
      pendingMigrations: ['0003_yearly_product_rollups'],
    });
  });

  it('answers zeros and empty lists, with null bounds, while the database holds no sales', async () => {
    const get = async (route: string) => (await fetch(`${server.url}/api/v1/${route}`)).json();
    expect(await get('revenue')).to.deep.equal({
      from: null,
      to: null,
      revenue: 0,
      grossRevenue: 0,
      discounts: 0,
      shipping: 0,
      orders: 0,
      quantity: 0,
    });
    expect(await get('revenue/trend')).to.deep.equal({ from: null, to: null, interval: 'month', items: [] });
    expect(await get('customers/lifetime-value')).to.deep.equal({
      from: null,
      to: null,
      items: [],
      limit: 100,
      offset: 0,
      total: 0,
    });
    expect(await get('revenue/trend?from=2024-01-01&to=2024-02-15')).to.include({ from: '2024-01-01', to: '2024-02-15' });
    expect((await get('revenue/trend?from=2024-01-01&to=2024-02-15')).items).to.have.length(2);
  });

  it('answers a server fault with a 500 that names the request id and nothing of the cause', async () => {
    // A newer snapshot without the table the revenue reads: the server switches to it and its query fails.
    const directory = await snapshotDirOf(db().pool);
    const [published] = await publishedVersions(directory);
    const damaged = path.join(directory, 'damaged.duckdb');
    await fs.copyFile(snapshotFile(directory, published), damaged);
    const instance = await DuckDBInstance.create(damaged);
    const connection = await instance.connect();
    await connection.run('DROP TABLE sales_by_day_region');
    await connection.run('CHECKPOINT');
    connection.closeSync();
    instance.closeSync();
    await fs.rename(damaged, snapshotFile(directory, published + 1));
    // A query not answered before: the answer cache would otherwise serve it.
    const response = await fetch(`${server.url}/api/v1/revenue?from=2020-01-01`, { headers: { 'X-Request-Id': 'trace-me-42' } });
    expect(response.status).to.equal(500);
    expect(response.headers.get('x-request-id')).to.equal('trace-me-42');
    const body = await response.text();
    expect(JSON.parse(body)).to.deep.equal({
      type: 'about:blank',
      title: 'Internal Server Error',
      status: 500,
      detail: 'the server failed to answer this request; the log has the details under this request id',
      instance: '/api/v1/revenue',
      requestId: 'trace-me-42',
    });
    expect(body).not.to.contain('sales_by_day_region');
  });
});
