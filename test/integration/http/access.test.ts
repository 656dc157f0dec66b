// Who may read what: rejected rows (customer data) need REFRESH_TOKEN; the rest of /api is open unless
// API_TOKEN is set; the OpenAPI document states exactly what the server enforces; and a service on loopback
// answers only loopback Host names (DNS rebinding), plus ALLOWED_HOSTS.
import http from 'node:http';
import { expect } from 'chai';
import { ConfigError, readConfig } from '../../../src/config.js';
import { useTestDatabase } from '../../support/database.js';
import { load } from '../../support/sales-files.js';
import { startTestServer, TEST_TOKEN, type TestServer } from '../../support/server.js';

const API_TOKEN = 'api-token-abcdefghij';
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

interface DocumentedOperation {
  method: string;
  route: string;
  security?: Record<string, unknown>[];
}

describe('access', () => {
  const db = useTestDatabase();
  let runId: number;
  before(async () => {
    runId = (await load(db().pool, 'test/fixtures/brief-sample.csv')).run.id;
  });

  async function documented(server: TestServer): Promise<DocumentedOperation[]> {
    const document = await (await fetch(`${server.url}/api/v1/openapi.json`)).json();
    return Object.entries(document.paths as Record<string, Record<string, { security?: Record<string, unknown>[] }>>).flatMap(
      ([route, methods]) =>
        Object.entries(methods).map(([method, operation]) => ({ method, route, security: operation.security })),
    );
  }
  const urlOf = (server: TestServer, route: string) =>
    `${server.url}${route.replace('{id}', String(runId)).replace('{segment}', 'champions')}`;
  const call = (server: TestServer, operation: DocumentedOperation, headers: Record<string, string> = {}) =>
    fetch(urlOf(server, operation.route), {
      method: operation.method.toUpperCase(),
      headers: { 'Content-Type': 'application/json', ...headers },
      ...(operation.method === 'post' ? { body: '{"source":"nothing-here.csv"}' } : {}),
    });
  const schemesOf = (operation: DocumentedOperation) => (operation.security ?? []).flatMap((entry) => Object.keys(entry));

  describe('without API_TOKEN', () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(db());
    });
    after(() => server.close());

    it('needs REFRESH_TOKEN for rejected rows and for starting a refresh; the rest is open', async () => {
      const rejects = await fetch(`${server.url}/api/v1/refreshes/${runId}/rejects`);
      expect(rejects.status).to.equal(401);
      expect(await rejects.json()).to.include({ detail: 'this endpoint needs Authorization: Bearer <REFRESH_TOKEN>' });
      expect((await fetch(`${server.url}/api/v1/refreshes/${runId}/rejects?format=csv`)).status).to.equal(401);
      expect((await fetch(`${server.url}/api/v1/refreshes/${runId}/rejects`, { headers: bearer(TEST_TOKEN) })).status).to.equal(
        200,
      );
      const operations = await documented(server);
      const secured = operations
        .filter((operation) => (operation.security ?? []).length > 0)
        .map((operation) => `${operation.method} ${operation.route}`);
      expect(secured.sort()).to.deep.equal(['get /api/v1/refreshes/{id}/rejects', 'post /api/v1/refreshes']);
    });

    it('enforces exactly the security the OpenAPI document declares, before looking at parameters', async () => {
      for (const operation of await documented(server)) {
        const label = `${operation.method} ${operation.route}`;
        const anonymous = await call(server, operation);
        expect(anonymous.status === 401, label).to.equal(schemesOf(operation).length > 0);
        // A bad parameter is only reported to a caller who may call the operation.
        const url = `${urlOf(server, operation.route)}?nonsense=1`;
        const probing = await fetch(url, { method: operation.method.toUpperCase() });
        expect(probing.status, label).to.equal(schemesOf(operation).length > 0 ? 401 : 400);
      }
    });
  });

  describe('with API_TOKEN', () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(db(), { API_TOKEN });
    });
    after(() => server.close());

    it('needs API_TOKEN or REFRESH_TOKEN for every read of /api, and REFRESH_TOKEN alone for rejected rows', async () => {
      const revenue = `${server.url}/api/v1/revenue`;
      const anonymous = await fetch(revenue);
      expect(anonymous.status).to.equal(401);
      expect(await anonymous.json()).to.include({
        detail: 'this endpoint needs Authorization: Bearer <API_TOKEN or REFRESH_TOKEN>',
      });
      const wrong = await fetch(revenue, { headers: bearer('guess') });
      expect(await wrong.json()).to.include({ status: 401, detail: 'the bearer token is neither API_TOKEN nor REFRESH_TOKEN' });
      expect((await fetch(revenue, { headers: bearer(API_TOKEN) })).status).to.equal(200);
      expect((await fetch(revenue, { headers: bearer(TEST_TOKEN) })).status).to.equal(200);
      const rejects = `${server.url}/api/v1/refreshes/${runId}/rejects`;
      const readerOnRejects = await fetch(rejects, { headers: bearer(API_TOKEN) });
      expect(readerOnRejects.status).to.equal(401);
      expect(await readerOnRejects.json()).to.include({ detail: 'the bearer token is not REFRESH_TOKEN' });
      expect((await fetch(rejects, { headers: bearer(TEST_TOKEN) })).status).to.equal(200);
      // Outside the data: liveness, readiness and the API's description stay open.
      for (const route of ['/health', '/ready', '/api/v1/openapi.json', '/docs']) {
        expect((await fetch(`${server.url}${route}`)).status, route).to.equal(200);
      }
    });

    it('declares and enforces a token on every operation', async () => {
      for (const operation of await documented(server)) {
        const label = `${operation.method} ${operation.route}`;
        const expected =
          operation.route.endsWith('/rejects') || operation.method === 'post'
            ? ['REFRESH_TOKEN']
            : ['API_TOKEN', 'REFRESH_TOKEN'];
        expect(schemesOf(operation), label).to.deep.equal(expected);
        expect((await call(server, operation)).status, label).to.equal(401);
        expect((await call(server, operation, bearer(TEST_TOKEN))).status, label).to.be.oneOf([200, 400]);
      }
    });
  });

  describe('Host header', () => {
    let server: TestServer;
    afterEach(() => server.close());

    /** fetch cannot set Host; node:http can. To the server itself: a proxy would send a Host of its own. */
    const statusFor = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const request = http.get(`${server.origin}/api/v1/revenue`, { headers: { Host: host } }, (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        });
        request.on('error', reject);
      });

    it('answers only the loopback names with the port it listens on when bound to loopback', async () => {
      server = await startTestServer(db());
      const { port } = new URL(server.origin);
      for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) {
        expect(await statusFor(host), host).to.equal(200);
      }
      for (const host of [`attacker.example:${port}`, 'attacker.example', `127.0.0.1:${Number(port) + 1}`, '127.0.0.1', 'a b']) {
        expect(await statusFor(host), host).to.equal(421);
      }
    });

    it('also answers ALLOWED_HOSTS, with any port unless the entry names one', async () => {
      server = await startTestServer(db(), { ALLOWED_HOSTS: 'analytics.example.com, proxy.example:8443' });
      expect(await statusFor('analytics.example.com')).to.equal(200);
      expect(await statusFor('Analytics.Example.com:443')).to.equal(200);
      expect(await statusFor('proxy.example:8443')).to.equal(200);
      expect(await statusFor('proxy.example:8444')).to.equal(421);
      expect(await statusFor('other.example')).to.equal(421);
    });

    it('answers any Host when bound elsewhere without ALLOWED_HOSTS, and only those with it', async () => {
      server = await startTestServer(db(), { HOST: '0.0.0.0' });
      expect(await statusFor('analytics.example.com')).to.equal(200);
      await server.close();
      server = await startTestServer(db(), { HOST: '0.0.0.0', ALLOWED_HOSTS: 'analytics.example.com' });
      expect(await statusFor('analytics.example.com')).to.equal(200);
      expect(await statusFor('localhost')).to.equal(421);
    });
  });

  describe('ALLOWED_HOSTS', () => {
    it('refuses an ALLOWED_HOSTS entry that is not a host name', () => {
      expect(() => readConfig({ ALLOWED_HOSTS: 'http://example.com' })).to.throw(
        ConfigError,
        "ALLOWED_HOSTS must list host or host:port names, comma-separated (got 'http://example.com')",
      );
    });
  });
});
