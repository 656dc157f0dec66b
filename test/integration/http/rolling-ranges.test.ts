// Rolling ranges (1, 7, 30, 90 days, a year from mid-month, mid-week to mid-week, across year ends) for every
// analytics endpoint, with and without the category and region filters it takes, against the independent
// oracle: after a first load into an empty database, after an append that adds orders and changes stored
// ones (lines, days, regions, customers), and after one that moves products to another category.
import { expect } from 'chai';
import { type GeneratedLine, generateSales } from '../../../src/generate/sales-generator.js';
import * as oracle from '../../support/analytics-oracle.js';
import { useTestDatabase } from '../../support/database.js';
import { csvOf, load, writeFile } from '../../support/sales-files.js';
import { startTestServer, type TestServer } from '../../support/server.js';

type Params = Record<string, string | number>;
type Filter = 'category' | 'region';

interface Endpoint {
  /** As in the OpenAPI document, after /api/v1/. */
  path: string;
  filters: Filter[];
  /** Each asked without a filter and with each combination of the filters the endpoint takes. */
  variants: Params[];
  /** Asked without a filter only: further pages, sizes and intervals. */
  unfiltered?: Params[];
  answer: (lines: GeneratedLine[], range: oracle.Range, params: Params) => unknown;
}

const page = (params: Params) => ({ limit: Number(params.limit ?? 100), offset: Number(params.offset ?? 0) });

const ENDPOINTS: Endpoint[] = [
  { path: 'revenue', filters: [], variants: [{}], answer: (lines, range) => oracle.revenue(lines, range) },
  {
    path: 'revenue/by-product',
    filters: ['category', 'region'],
    variants: [{ limit: 1000 }],
    unfiltered: [{ limit: 3, offset: 2 }],
    answer: (lines, range, params) => oracle.byProduct(lines, range, page(params)),
  },
  {
    path: 'revenue/by-category',
    filters: ['region'],
    variants: [{}],
    answer: (lines, range) => oracle.byDimension(lines, range, 'category'),
  },
  {
    path: 'revenue/by-region',
    filters: ['category'],
    variants: [{}],
    answer: (lines, range) => oracle.byDimension(lines, range, 'region'),
  },
  {
    path: 'revenue/trend',
    filters: ['category', 'region'],
    variants: [{}, { interval: 'day' }, { interval: 'week' }],
    unfiltered: [{ interval: 'month' }, { interval: 'quarter' }, { interval: 'year' }],
    answer: (lines, range, params) => oracle.trend(lines, range, String(params.interval ?? 'month')),
  },
  {
    path: 'products/top',
    filters: ['category', 'region'],
    variants: [{}],
    unfiltered: [{ n: 3 }],
    answer: (lines, range, params) => oracle.top(lines, range, Number(params.n ?? 10)),
  },
  {
    path: 'products/top/by-category',
    filters: ['region'],
    variants: [{}],
    unfiltered: [{ n: 2 }],
    answer: (lines, range, params) => oracle.topBy(lines, range, Number(params.n ?? 5), 'category'),
  },
  {
    path: 'products/top/by-region',
    filters: ['category'],
    variants: [{}],
    unfiltered: [{ n: 2 }],
    answer: (lines, range, params) => oracle.topBy(lines, range, Number(params.n ?? 5), 'region'),
  },
  {
    path: 'products/profit-margin',
    filters: ['category', 'region'],
    variants: [{ limit: 1000 }],
    unfiltered: [{ limit: 4, offset: 3 }],
    answer: (lines, range, params) => oracle.profitMargin(lines, range, page(params)),
  },
  { path: 'customers/summary', filters: [], variants: [{}], answer: (lines, range) => oracle.customerSummary(lines, range) },
  {
    path: 'customers/lifetime-value',
    filters: [],
    variants: [{ limit: 1000 }, { limit: 7, offset: 3 }],
    answer: (lines, range, params) => oracle.lifetimeValue(lines, range, page(params)),
  },
  { path: 'customers/segments', filters: [], variants: [{}], answer: (lines, range) => oracle.segments(lines, range) },
  {
    path: 'customers/segments/{segment}',
    filters: [],
    variants: [...oracle.SEGMENT_NAMES.map((segment) => ({ segment })), { segment: 'hibernating', limit: 5, offset: 2 }],
    answer: (lines, range, params) => oracle.segmentMembers(lines, range, String(params.segment), page(params)),
  },
];

/** Filters as a user might type them: exact, lower and upper case, alone and together. */
const FILTERS: Partial<Record<Filter, string>>[] = [
  {},
  { category: 'Electronics' },
  { region: 'north america' },
  { category: 'HOME', region: 'Europe' },
];
const matching = (filter: Partial<Record<Filter, string>>) => (line: GeneratedLine) =>
  Object.entries(filter).every(([key, name]) => line[key as Filter].toLowerCase() === name.toLowerCase());

const DAY = 86_400_000;
const addDays = (day: string, days: number) => new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY).toISOString().slice(0, 10);
const lastSaleDay = (lines: GeneratedLine[]) => oracle.effectiveRange(lines, {}).to;

/** Ranges as asked (a missing bound is defaulted by the API); some depend on the data loaded. */
const RANGES: [string, (lines: GeneratedLine[]) => Partial<oracle.Range>][] = [
  ['one day (a leap day, a Thursday)', () => ({ from: '2024-02-29', to: '2024-02-29' })],
  ['two days across a year end', () => ({ from: '2022-12-31', to: '2023-01-01' })],
  ['7 days, Thursday to Wednesday across a month end', () => ({ from: '2023-06-29', to: '2023-07-05' })],
  ['7 days across a year end', () => ({ from: '2023-12-28', to: '2024-01-03' })],
  ['30 days, mid-month to mid-month', () => ({ from: '2023-09-17', to: '2023-10-16' })],
  ['30 days, Sunday to Monday across a month end', () => ({ from: '2024-11-03', to: '2024-12-02' })],
  ['90 days across a year end', () => ({ from: '2022-11-17', to: '2023-02-14' })],
  ['a rolling year from mid-month', () => ({ from: '2023-01-08', to: '2024-01-07' })],
  ['Wednesday to Wednesday across two year ends', () => ({ from: '2022-03-16', to: '2024-08-21' })],
  ['whole months', () => ({ from: '2023-02-01', to: '2024-01-31' })],
  ['whole ISO weeks, Monday to Sunday across a month end', () => ({ from: '2023-10-23', to: '2023-11-19' })],
  ['no sales, mid-month to mid-month', () => ({ from: '2021-07-14', to: '2021-11-09' })],
  ['45 days ending on the last sale day', (lines) => ({ from: addDays(lastSaleDay(lines), -44), to: lastSaleDay(lines) })],
  ['since a mid-month Saturday (to defaulted)', () => ({ from: '2024-06-08' })],
  ['up to a mid-month Wednesday (from defaulted)', () => ({ to: '2022-04-20' })],
  ['all time (both bounds defaulted)', () => ({})],
];

// The data: three years, six regions, eight categories, multi-line orders, discounts, mostly known unit costs.
const generated = [...generateSales({ rows: 6000, seed: 14, extraColumns: true })];
const heldBack = (line: GeneratedLine) => line.dateOfSale > '2024-10-15' || Number(line.orderId) % 7 === 3;
const firstLoad = generated.filter((line) => !heldBack(line));

/** Within one file an order's fields come from its first row: make its other rows agree. */
function withOrderFieldsOfFirstRow(file: GeneratedLine[]): GeneratedLine[] {
  const firstRows = new Map<string, GeneratedLine>();
  return file.map((line) => {
    const first = firstRows.get(line.orderId) ?? line;
    firstRows.set(line.orderId, first);
    const { customerId, customerName, customerEmail, customerAddress, dateOfSale, region, paymentMethod } = first;
    return { ...line, customerId, customerName, customerEmail, customerAddress, dateOfSale, region, paymentMethod };
  });
}

/** Days that orders move to in the append: across a year end, off a leap day; others move by 9 days. */
const MOVED_DAYS: Record<string, string> = {
  '2022-12-31': '2023-01-01',
  '2023-12-30': '2024-01-02',
  '2023-12-31': '2024-01-02',
  '2024-02-29': '2024-03-01',
};

/**
 * The orders held back from the first load, and corrections of stored orders: some move to another day, region
 * and customer (only their first line is sent: the others follow the order), some get a new line, some lines
 * change quantity and discount, some are sent again unchanged.
 */
function laterExport(): GeneratedLine[] {
  const regions = [...new Set(generated.map((line) => line.region))].sort();
  const customers = [...new Map(generated.map((line) => [line.customerId, line])).values()];
  const orders = new Map<string, GeneratedLine[]>();
  for (const line of firstLoad) orders.set(line.orderId, [...(orders.get(line.orderId) ?? []), line]);
  const corrections: GeneratedLine[] = [];
  for (const [orderId, lines] of orders) {
    const id = Number(orderId);
    const [first] = lines;
    const movedDay = MOVED_DAYS[first.dateOfSale] ?? (id % 53 === 0 ? addDays(first.dateOfSale, 9) : undefined);
    if (movedDay) {
      const { customerId, customerName, customerEmail, customerAddress } = customers[id % customers.length];
      const region = regions[(regions.indexOf(first.region) + 1) % regions.length];
      corrections.push({ ...first, dateOfSale: movedDay, region, customerId, customerName, customerEmail, customerAddress });
    }
    if (id % 61 === 0) {
      const product = generated.slice(id % 500).find((line) => !lines.some((own) => own.productId === line.productId))!;
      const { productId, productName, category, unitPrice, unitCost } = product;
      corrections.push({ ...first, productId, productName, category, unitPrice, unitCost, quantity: 3, discount: '0.1' });
    }
  }
  firstLoad.forEach((line, index) => {
    if (index % 41 === 0) corrections.push({ ...line, quantity: line.quantity + 2, discount: '0.3' });
    else if (index % 97 === 0) corrections.push(line);
  });
  return withOrderFieldsOfFirstRow([...corrections, ...generated.filter(heldBack)]);
}

/** Two products change category (one to a new category, and its name), a customer changes name, a line changes. */
function productAndCustomerChanges(stored: GeneratedLine[]): GeneratedLine[] {
  const latest = (keep: (line: GeneratedLine) => boolean) =>
    stored.filter(keep).sort((a, b) => (a.dateOfSale < b.dateOfSale ? 1 : -1))[0];
  const sent = [
    latest((line) => line.productId === 'P1003'),
    latest((line) => line.productId === 'P1001'),
    latest((line) => line.customerId === 'C10000'),
  ];
  return [...new Set(sent)].map((line, index) => ({
    ...line,
    quantity: line.quantity + (index === 0 ? 1 : 0),
    ...(line.productId === 'P1003' && { productName: 'Terra Garden Hose 103', category: 'Garden' }),
    ...(line.productId === 'P1001' && { category: 'Electronics' }),
    ...(line.customerId === 'C10000' && { customerName: 'Ana Renamed' }),
  }));
}

/** Runs `task` over `items`, `concurrency` at a time. */
async function inParallel<T>(items: T[], concurrency: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await task(items[next++]);
    }),
  );
}

describe('every analytics endpoint over rolling ranges, after a first load and after appends', () => {
  const db = useTestDatabase();
  let server: TestServer;
  const files: GeneratedLine[][] = [];
  let stored: GeneratedLine[] = [];

  before(async () => {
    server = await startTestServer(db(), { ANALYTICS_CACHE: 'false' });
  });
  after(() => server.close());

  async function append(file: GeneratedLine[]) {
    const keys = new Set(stored.map((line) => `${line.orderId}/${line.productId}`));
    const inserted = new Set(file.map((line) => `${line.orderId}/${line.productId}`).filter((key) => !keys.has(key)));
    const outcome = await load(db().pool, await writeFile(csvOf(file, { style: 'standard', extraColumns: true })));
    expect(outcome.run.status, outcome.run.error ?? '').to.equal('succeeded');
    expect(outcome.result!.counts).to.include({ rejected: 0, inserted: inserted.size });
    files.push(file);
    stored = oracle.afterAppends(...files);
  }

  function routeOf(endpoint: Endpoint, params: Params): string {
    let path = endpoint.path;
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) {
      if (path.includes(`{${name}}`)) path = path.replace(`{${name}}`, String(value));
      else search.set(name, String(value));
    }
    return `${path}?${search}`;
  }

  /** Asks every endpoint, variant and filter over one range; reports every answer that differs. */
  async function checkEveryEndpoint(query: Partial<oracle.Range>) {
    const range = oracle.effectiveRange(stored, query);
    const cases = ENDPOINTS.flatMap((endpoint) => {
      const filters = FILTERS.filter((filter) => Object.keys(filter).every((name) => endpoint.filters.includes(name as Filter)));
      return [
        ...endpoint.variants.flatMap((variant) => filters.map((filter) => ({ endpoint, variant, filter }))),
        ...(endpoint.unfiltered ?? []).map((variant) => ({ endpoint, variant, filter: {} })),
      ];
    });
    const failures: { route: string; error: Error }[] = [];
    await inParallel(cases, 4, async ({ endpoint, variant, filter }) => {
      const route = routeOf(endpoint, { ...query, ...variant, ...filter });
      const response = await fetch(`${server.url}/api/v1/${route}`);
      const body = await response.text();
      try {
        expect(response.status, `${route}: ${body}`).to.equal(200);
        expect(JSON.parse(body), route).to.deep.equal(endpoint.answer(stored.filter(matching(filter)), range, variant));
      } catch (error) {
        failures.push({ route, error: error as Error });
      }
    });
    if (failures.length > 0) {
      const [first] = failures;
      first.error.message = `${failures.length} of ${cases.length} answers differ from the oracle (${failures
        .map(({ route }) => route)
        .join(', ')}); the first: ${first.error.message}`;
      throw first.error;
    }
  }

  it('covers every analytics endpoint of the OpenAPI document with each filter it declares', async () => {
    const document = await (await fetch(`${server.url}/api/v1/openapi.json`)).json();
    const declared = Object.entries(document.paths as Record<string, { get?: { parameters: { name: string }[] } }>)
      .filter(([path, methods]) => methods.get && !path.startsWith('/api/v1/refreshes'))
      .map(([path, methods]) => ({
        path: path.replace('/api/v1/', ''),
        filters: methods.get!.parameters.map(({ name }) => name).filter((name) => name === 'category' || name === 'region'),
      }));
    expect(ENDPOINTS.map(({ path, filters }) => ({ path, filters }))).to.have.deep.members(declared);
  });

  const stages: [string, () => GeneratedLine[]][] = [
    ['after a first load into the empty database', () => firstLoad],
    ['after appending later orders and changes to stored orders', laterExport],
    ['after appending products moved to another category and a renamed customer', () => productAndCustomerChanges(stored)],
  ];
  for (const [stage, fileOf] of stages) {
    describe(stage, () => {
      before(() => append(fileOf()));
      for (const [name, rangeOf] of RANGES) {
        it(name, () => checkEveryEndpoint(rangeOf(stored)));
      }
    });
  }
});
