// Every parameter of every operation in the OpenAPI document, sent hostile values: the answer is a 4xx
// problem, never a 5xx. Values every parameter must refuse are checked to be a 400 naming that parameter.
import { expect } from 'chai';
import { useTestDatabase } from '../../support/database.js';
import { documentedOperations, type Operation } from '../../support/openapi-operations.js';
import { load } from '../../support/sales-files.js';
import { startTestServer, TEST_TOKEN, type TestServer } from '../../support/server.js';

/** Raw query-string text (already percent-encoded where it needs to be). */
const ANY_PARAMETER_REFUSES = ['a%00b', '%00'];
const INTEGER_REFUSES = ['99999999999999999999', '9007199254740993', '1e2', '0x10', '1.5', '+1', '%201', '', 'ten'];
const DATE_REFUSES = ['0000-01-01', '0000-02-29', '2024-02-30', '24-01-01', '99999-01-01', ''];
const ODD_BUT_HARMLESS = ['%FF', '%ED%A0%80', '%E2%80%AE', '__proto__', '[]', 'x'.repeat(4000), '-1', '0', '9999-12-31'];

describe('hostile parameters', () => {
  const db = useTestDatabase();
  let server: TestServer;
  let operations: Operation[];
  const AUTH = { Authorization: `Bearer ${TEST_TOKEN}` };

  before(async () => {
    const outcome = await load(db().pool, 'test/fixtures/brief-sample.csv');
    server = await startTestServer(db());
    operations = await documentedOperations(server.url);
    // Valid path values, so that each query parameter is tried on a resource that exists.
    validPath.id = String(outcome.run.id);
  });
  after(() => server.close());

  const validPath: Record<string, string> = { segment: 'champions' };

  async function send(operation: Operation, name: string, raw: string): Promise<Response> {
    let route = operation.path;
    const query: string[] = [];
    for (const parameter of operation.parameters.filter((p) => p.in === 'path')) {
      route = route.replace(`{${parameter.name}}`, parameter.name === name ? raw : validPath[parameter.name]);
    }
    if (operation.parameters.some((p) => p.name === name && p.in === 'query')) query.push(`${name}=${raw}`);
    const url = `${server.url}${route}${query.length ? `?${query.join('&')}` : ''}`;
    const post = operation.method === 'post';
    return fetch(url, {
      method: operation.method.toUpperCase(),
      headers: { ...AUTH, ...(post ? { 'Content-Type': 'application/json' } : {}) },
      ...(post ? { body: JSON.stringify({ source: 'nothing-here.csv' }) } : {}),
    });
  }

  async function expectRefused(operation: Operation, name: string, raw: string): Promise<void> {
    const response = await send(operation, name, raw);
    const label = `${operation.method} ${operation.path} ${name}=${raw.slice(0, 40)}`;
    expect(response.status, label).to.equal(400);
    expect(response.headers.get('content-type'), label).to.equal('application/problem+json');
    const problem = await response.json();
    expect(
      problem['invalid-params'].map((param: { name: string }) => param.name),
      label,
    ).to.include(name);
  }

  it('refuses NUL characters, non-digit and out-of-range integers, and dates PostgreSQL cannot store, with a 400', async () => {
    let tried = 0;
    for (const operation of operations) {
      for (const parameter of operation.parameters) {
        const refused = [
          ...ANY_PARAMETER_REFUSES,
          ...(parameter.schema.type === 'integer' ? INTEGER_REFUSES : []),
          ...(parameter.schema.format === 'date' ? DATE_REFUSES : []),
        ];
        // An empty path segment is another route.
        for (const raw of refused.filter((value) => value !== '' || parameter.in === 'query')) {
          await expectRefused(operation, parameter.name, raw);
          tried += 1;
        }
      }
    }
    expect(tried).to.be.greaterThan(150);
  });

  it('answers odd but harmless values without a server error', async () => {
    for (const operation of operations) {
      for (const parameter of operation.parameters) {
        for (const raw of ODD_BUT_HARMLESS) {
          const response = await send(operation, parameter.name, raw);
          expect(response.status, `${operation.method} ${operation.path} ${parameter.name}=${raw.slice(0, 40)}`).to.be.below(500);
        }
      }
    }
  });

  it('refuses parameter names that are Object.prototype properties as unknown', async () => {
    for (const name of ['__proto__', 'constructor', 'hasOwnProperty', 'toString']) {
      const response = await fetch(`${server.url}/api/v1/revenue?${name}=x`);
      expect(response.status, name).to.equal(400);
      expect((await response.json())['invalid-params'], name).to.deep.equal([{ name, reason: 'unknown parameter' }]);
    }
  });

  it('names the limit for an offset or run id no database column can hold', async () => {
    const offset = await (await fetch(`${server.url}/api/v1/refreshes?offset=99999999999999999999`)).json();
    expect(offset['invalid-params']).to.deep.equal([{ name: 'offset', reason: 'must be <= 1000000000' }]);
    const id = await (await fetch(`${server.url}/api/v1/refreshes/99999999999999999999`)).json();
    expect(id['invalid-params']).to.deep.equal([{ name: 'id', reason: 'must be <= 9007199254740991' }]);
    const n = await (await fetch(`${server.url}/api/v1/products/top?n=1e2`)).json();
    expect(n['invalid-params']).to.deep.equal([{ name: 'n', reason: 'must be a whole number written in digits' }]);
    const nul = await (await fetch(`${server.url}/api/v1/revenue/by-region?category=%00`)).json();
    expect(nul['invalid-params']).to.deep.equal([{ name: 'category', reason: 'must not contain a NUL character' }]);
    const year0 = await (await fetch(`${server.url}/api/v1/revenue?from=0000-01-01`)).json();
    expect(year0['invalid-params']).to.deep.equal([
      { name: 'from', reason: 'must be a real date written YYYY-MM-DD (0001-01-01 to 9999-12-31)' },
    ]);
  });
});
