// Random requests to every operation of the OpenAPI document: each parameter given a random value (any
// unicode, control characters, invalid percent-encoding, very long text, numbers far out of range, valid values
// in odd combinations), sometimes repeated, beside unknown parameters. The answer is never a 5xx; every 4xx is
// a problem document (semantics.md, HTTP details) whose invalid-params name each parameter the contract
// refuses; a 200 holds no more items than the document's limits allow. hostile-parameters.test.ts sends
// the fixed hostile values; this file looks for the ones nobody thought of.
import { expect } from 'chai';
import fc from 'fast-check';
import { generateSales } from '../../../src/generate/sales-generator.js';
import { useTestDatabase } from '../../support/database.js';
import { documentedOperations, type Operation, type Parameter } from '../../support/openapi-operations.js';
import { csvOf, load, writeFile } from '../../support/sales-files.js';
import { startTestServer, TEST_TOKEN, type TestServer } from '../../support/server.js';

/** ~30% of the requests are valid (200); the rest are refused for one reason or several. */
const RUNS_PER_SERVER = 800;
const SEED = 20_261_202;
/** Generous per-item room for a 200 answer's bytes (the longest item here, a profit-margin row, is ~200). */
const BYTES_PER_ITEM = 1024;
const BYTES_BESIDE_ITEMS = 8192;

const encode = (text: string) => encodeURIComponent(text);
/** Raw query text that no encoder writes: bad escapes, overlong or surrogate UTF-8, a '+' for a space. */
const RAW_ODDITIES = ['%', '%F', '%zz', '%FF', '%C0%80', '%ED%A0%80', '%F4%90%80%80', '+', '%2B1', '1%20', '%EF%BB%BF1'];
const CONTROL = [
  '\u0000',
  '\u0001',
  '\u001f',
  '\u007f',
  '\u0085',
  '\u200b',
  '\u202e',
  '\ufeff',
  '\n',
  '\r',
  '\t',
  ' ',
  '&',
  '=',
  '#',
  '/',
];
const DATE_LIMITS = { min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T00:00:00Z') };

/** Any text, as raw query text. */
const hostileArb: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }).map(encode),
  fc.string({ unit: fc.constantFrom(...CONTROL), maxLength: 8 }).map(encode),
  fc.constantFrom(...RAW_ODDITIES),
  fc.integer({ min: 1000, max: 6000 }).map((n) => 'x'.repeat(n)),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
  fc.double().map(String),
);

const dayArb = fc.date({ ...DATE_LIMITS, noInvalidDate: true }).map((day) => day.toISOString().slice(0, 10));

/** Values of the parameter's own kind, valid or just outside what it allows, as raw query text. */
function ownKindArb(parameter: Parameter, names: { categories: string[]; regions: string[] }): fc.Arbitrary<string> {
  const { schema } = parameter;
  if (schema.type === 'integer') {
    const min = BigInt(schema.minimum ?? 0);
    const max = BigInt(schema.maximum ?? Number.MAX_SAFE_INTEGER);
    return fc.oneof(
      fc.constantFrom(min, max, min - 1n, max + 1n, 0n).map(String),
      fc.bigInt({ min: min - 2n, max: max + 2n }).map(String),
      fc.bigInt({ min, max: min + 20n }).map(String),
    );
  }
  if (schema.format === 'date') {
    return fc.oneof(
      dayArb,
      fc.constantFrom('0001-01-01', '9999-12-31', '2024-02-29', '2023-02-29', '2024-03-10'),
      dayArb.map((d) => `${d}T00:00`),
    );
  }
  if (schema.enum) {
    return fc.oneof(
      fc.constantFrom(...schema.enum),
      fc.constantFrom(...schema.enum).map((value) => encode(` ${value.toUpperCase()}`)),
    );
  }
  if (schema.type === 'boolean') return fc.constantFrom('true', 'false', '1', 'TRUE', '');
  const known = parameter.name === 'category' ? names.categories : names.regions;
  return fc.oneof(
    fc.constantFrom(...known),
    fc.constantFrom(...known).map((name) => encode(name.toLowerCase())),
    fc.constant(''),
  );
}

/** What the contract refuses in a parameter's (decoded) value, judged from its schema. */
function refuses(parameter: Parameter, value: string): boolean {
  const { schema } = parameter;
  if (value.includes('\u0000')) return true;
  if (schema.type === 'integer') {
    return !/^\d+$/.test(value) || BigInt(value) < BigInt(schema.minimum ?? 0) || BigInt(value) > BigInt(schema.maximum ?? 0);
  }
  if (schema.format === 'date') {
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
    if (!match) return true;
    const [year, month, day] = match.slice(1).map(Number);
    const calendar = new Date(Date.UTC(2000, month - 1, day));
    calendar.setUTCFullYear(year);
    return year < 1 || calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day;
  }
  if (schema.enum) return !schema.enum.includes(value);
  if (schema.type === 'boolean') return value !== 'true' && value !== 'false';
  return value.length < (schema.minLength ?? 0);
}

/** The most items a 200 answer may list: the document's bound for the operation's list parameter. */
function itemBound(operation: Operation, given: Map<string, string>): number {
  const bounded = operation.parameters.find((p) => p.name === 'limit' || p.name === 'n');
  if (bounded) return Number(given.get(bounded.name) ?? bounded.schema.default);
  const interval = operation.parameters.find((p) => p.name === 'interval');
  const periods = interval && /at most (\d+) periods/.exec(interval.schema.description ?? '');
  if (periods) return Number(periods[1]);
  return 10; // the segments: all seven, in rule order
}

/** Node refuses a request line and headers over 16 KiB before the app sees it (431): stay inside. */
const MAX_URL = 12_000;
const fitsTheRequestLine = (request: Request) =>
  [...request.query.flat(), ...Object.values(request.pathValues)].reduce((total, text) => total + text.length + 1, 0) <= MAX_URL;

interface Request {
  /** 'get /api/v1/revenue': the counterexample stays readable. */
  operation: string;
  /** Raw query pairs, in order; a name may come twice. */
  query: [string, string][];
  pathValues: Record<string, string>;
  accept: string;
}

describe('parameter fuzzing', () => {
  const db = useTestDatabase();
  let operations: Operation[];
  const operationOf = (request: Request) => operations.find((o) => `${o.method} ${o.path}` === request.operation)!;
  let runId: number;
  const names = { categories: [] as string[], regions: [] as string[] };

  before(async () => {
    const lines = [...generateSales({ rows: 400, seed: 15, extraColumns: true })];
    const outcome = await load(db().pool, await writeFile(csvOf(lines, { style: 'standard', extraColumns: true })));
    runId = outcome.run.id;
    names.categories = [...new Set(lines.map((line) => line.category))];
    names.regions = [...new Set(lines.map((line) => line.region))];
    // A second run with rejects, so that the rejects endpoint has rows to page through.
    const bad = csvOf(lines.slice(0, 30).map((line) => ({ ...line, quantity: 0 })));
    await load(db().pool, await writeFile(bad));
  });

  function requestArb(): fc.Arbitrary<Request> {
    return fc
      .constantFrom(...operations)
      .chain((operation) => {
        const queryParameters = operation.parameters.filter((p) => p.in === 'query');
        const documented = new Set(operation.parameters.map((p) => p.name));
        const randomValue = (parameter: Parameter) =>
          fc.oneof({ arbitrary: ownKindArb(parameter, names), weight: 6 }, hostileArb);
        const given: fc.Arbitrary<[string, string][]> = fc
          .subarray(queryParameters)
          .chain((chosen) => fc.tuple(...chosen.map((p) => randomValue(p).map((raw): [string, string] => [p.name, raw]))));
        const unknown = fc
          .oneof(
            { arbitrary: fc.constant([]), weight: 5 },
            fc.array(fc.tuple(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }), hostileArb), {
              minLength: 1,
              maxLength: 2,
            }),
          )
          .map((pairs) =>
            pairs.filter(([name]) => !documented.has(name)).map(([name, raw]): [string, string] => [encode(name), raw]),
          );
        const pathValues = fc.record(
          Object.fromEntries(
            operation.parameters
              .filter((p) => p.in === 'path')
              .map((p) => [
                p.name,
                fc.oneof({ arbitrary: fc.constant(p.name === 'id' ? String(runId) : 'champions'), weight: 3 }, randomValue(p)),
              ]),
          ),
        ) as fc.Arbitrary<Record<string, string>>;
        return fc.record({
          operation: fc.constant(`${operation.method} ${operation.path}`),
          query: fc
            .tuple(
              given,
              unknown,
              fc.nat(5).map((n) => n === 0),
              fc.nat(),
            )
            .map(([pairs, extra, repeat, which]) => [
              ...pairs,
              ...extra,
              ...(repeat && pairs.length > 0 ? [pairs[which % pairs.length]] : []),
            ]),
          pathValues,
          accept: fc.constantFrom('application/json', 'text/csv', '*/*', 'text/csv, application/json;q=0.5'),
        });
      })
      .filter(fitsTheRequestLine);
  }

  async function send(server: TestServer, request: Request): Promise<Response> {
    const operation = operationOf(request);
    let route = operation.path;
    for (const [name, raw] of Object.entries(request.pathValues)) route = route.replace(`{${name}}`, raw);
    const query = request.query.map(([name, raw]) => `${name}=${raw}`).join('&');
    return fetch(`${server.url}${route}${query ? `?${query}` : ''}`, {
      method: operation.method.toUpperCase(),
      headers: { Authorization: `Bearer ${TEST_TOKEN}`, Accept: request.accept },
    });
  }

  /** The names the contract says a 400 must list: unknown and repeated ones, and refused values. */
  function mustName(request: Request): Set<string> {
    const operation = operationOf(request);
    const byName = new Map(operation.parameters.map((p) => [p.name, p]));
    const seen = new Set<string>();
    const named = new Set<string>();
    for (const [name, value] of new URLSearchParams(request.query.map(([n, raw]) => `${n}=${raw}`).join('&'))) {
      const parameter = byName.get(name);
      if (seen.has(name) || !parameter || parameter.in === 'path' || refuses(parameter, value)) named.add(name);
      seen.add(name);
    }
    for (const [name, raw] of Object.entries(request.pathValues)) {
      let value: string | undefined;
      try {
        value = decodeURIComponent(raw);
      } catch {
        value = undefined; // not a path the router can decode: any 4xx will do
      }
      if (value !== undefined && refuses(byName.get(name)!, value)) named.add(name);
    }
    return named;
  }

  async function expectContract(server: TestServer, request: Request): Promise<void> {
    const response = await send(server, request);
    const operation = operationOf(request);
    const label = `${request.operation} ?${request.query
      .map((pair) => pair.join('='))
      .join('&')
      .slice(0, 300)} ${JSON.stringify(request.pathValues).slice(0, 200)}`;
    expect(response.status, label).to.be.below(500);
    const text = await response.text();
    if (response.status >= 400) {
      expect(response.headers.get('content-type'), label).to.equal('application/problem+json');
      const problem = JSON.parse(text);
      for (const field of ['type', 'title', 'detail']) expect(problem[field], `${label}: ${field}`).to.be.a('string');
      expect(problem.status, label).to.equal(response.status);
    }
    // A path value holding a slash, or a dot segment, or nothing, names another route (404): not a parameter.
    const pathOk = !Object.values(request.pathValues).some((raw) => /%2F|^(\.|%2E){0,2}$/i.test(raw));
    // The Accept header is judged first: an operation without CSV answers 406 to text/csv alone.
    const acceptable = request.accept !== 'text/csv' || operation.parameters.some((p) => p.name === 'format');
    const must = mustName(request);
    if (must.size > 0 && pathOk && acceptable) {
      expect(response.status, label).to.equal(400);
      const listed = (JSON.parse(text)['invalid-params'] as { name: string; reason: string }[]).map((param) => param.name);
      for (const name of must) expect(listed, label).to.include(name);
      return;
    }
    if (response.status !== 200) return;
    const given = new Map(new URLSearchParams(request.query.map(([n, raw]) => `${n}=${raw}`).join('&')));
    const bound = itemBound(operation, given);
    expect(text.length, `${label}: answer size`).to.be.at.most(BYTES_BESIDE_ITEMS + bound * BYTES_PER_ITEM);
    if (response.headers.get('content-type')?.startsWith('application/json')) {
      const answer = JSON.parse(text);
      const lists: unknown[][] = answer.groups
        ? answer.groups.map((group: { items: unknown[] }) => group.items)
        : [answer.items ?? answer.segments ?? []];
      for (const items of lists) expect(items.length, `${label}: items`).to.be.at.most(bound);
    }
  }

  for (const cache of ['true', 'false']) {
    describe(`with the analytics cache ${cache === 'true' ? 'on' : 'off'}`, () => {
      let server: TestServer;
      before(async () => {
        server = await startTestServer(db(), { ANALYTICS_CACHE: cache });
        operations = await documentedOperations(server.url);
      });
      after(() => server.close());

      it('answers random parameters of every operation with a 200 within bounds or a 4xx problem naming them, never a 5xx', async function () {
        this.timeout(300_000);
        const tried = new Set<string>();
        await fc.assert(
          fc.asyncProperty(requestArb(), async (request) => {
            tried.add(request.operation);
            await expectContract(server, request);
          }),
          { numRuns: RUNS_PER_SERVER, seed: SEED },
        );
        expect(tried.size).to.equal(operations.length);
        const ready = await fetch(`${server.url}/ready`);
        expect(ready.status).to.equal(200);
        expect((await ready.json()).status).to.equal('ready');
      });
    });
  }
});
