// Every analysis answers a rolling range (days that are not whole months or years) from the snapshot's
// aggregation layer: no plan of any of its queries reads the facts (the order lines), with or without a
// category or region filter. Proven on DuckDB's plans, not by a clock: EXPLAIN of each query the analysis runs.
import { expect } from 'chai';
import type { QueryResultRow } from 'pg';
import { customerSummary } from '../../../src/analytics/customer-summary.js';
import { lifetimeValue } from '../../../src/analytics/lifetime-value.js';
import { revenueByProduct, topProducts, topProductsByCategory, topProductsByRegion } from '../../../src/analytics/products.js';
import { profitMargin } from '../../../src/analytics/profit-margin.js';
import type { Queryable } from '../../../src/analytics/queryable.js';
import { revenueByCategory, revenueByRegion } from '../../../src/analytics/revenue-by-dimension.js';
import { revenueSummary } from '../../../src/analytics/revenue-summary.js';
import { revenueTrend } from '../../../src/analytics/revenue-trend.js';
import { segmentMembers, segments } from '../../../src/analytics/segments.js';
import { generateSales } from '../../../src/generate/sales-generator.js';
import { SnapshotStore } from '../../../src/snapshot/store.js';
import { snapshotDirOf, useTestDatabase } from '../../support/database.js';
import { csvOf, load, TEST_ANALYTICS_LIMITS, writeFile } from '../../support/sales-files.js';

/** The tables a plan scans (every "Table" of its JSON, without the database and schema). */
function tables(plan: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(plan)) for (const item of plan) tables(item, found);
  else if (plan !== null && typeof plan === 'object') {
    for (const [key, value] of Object.entries(plan)) {
      if (key === 'Table') found.add(String(value).split('.').at(-1)!);
      else tables(value, found);
    }
  }
  return found;
}

/** Runs each query and records the tables its plan reads. */
function recording(db: Queryable): Queryable & { read: Set<string> } {
  const read = new Set<string>();
  return {
    read,
    async query<Row extends QueryResultRow>(text: string, values?: unknown[]) {
      const { rows } = await db.query<{ explain_value: string }>(`EXPLAIN (FORMAT json) ${text}`, values);
      tables(JSON.parse(rows[0].explain_value), read);
      return db.query<Row>(text, values);
    },
  };
}

const RANGES = {
  '7 days, mid-week and mid-month': { from: '2023-03-08', to: '2023-03-14' },
  '1 day': { from: '2023-06-17', to: '2023-06-17' },
  '30 days across a month end': { from: '2023-11-03', to: '2023-12-02' },
  '90 days across a year end': { from: '2023-11-15', to: '2024-02-12' },
  'a rolling year': { from: '2023-01-08', to: '2024-01-07' },
};

describe('analyses over rolling ranges', () => {
  const db = useTestDatabase();
  let filters: { category: string; region: string };

  before(async () => {
    const lines = [...generateSales({ rows: 3000, seed: 21, extraColumns: true })];
    await load(db().pool, await writeFile(csvOf(lines, { style: 'standard', extraColumns: true })));
    filters = { category: lines[0].category, region: lines[0].region };
  });

  const page = { limit: 10, offset: 0 };
  const analyses: [string, (db: Queryable, range: { from: string; to: string }, filtered: boolean) => Promise<unknown>][] = [
    ['revenue', (q, range) => revenueSummary(q, range)],
    ['revenue by category', (q, range, f) => revenueByCategory(q, { ...range, region: f ? filters.region : undefined })],
    ['revenue by region', (q, range, f) => revenueByRegion(q, { ...range, category: f ? filters.category : undefined })],
    ['revenue trend', (q, range, f) => revenueTrend(q, { ...range, interval: 'week', ...(f ? filters : {}) })],
    ['revenue by product', (q, range, f) => revenueByProduct(q, { ...range, ...page, ...(f ? filters : {}) })],
    ['top products', (q, range, f) => topProducts(q, { ...range, n: 5, ...(f ? filters : {}) })],
    [
      'top products by category',
      (q, range, f) => topProductsByCategory(q, { ...range, n: 3, region: f ? filters.region : undefined }),
    ],
    [
      'top products by region',
      (q, range, f) => topProductsByRegion(q, { ...range, n: 3, category: f ? filters.category : undefined }),
    ],
    ['profit margin', (q, range, f) => profitMargin(q, { ...range, ...page, ...(f ? filters : {}) })],
    ['customer summary', (q, range) => customerSummary(q, range)],
    ['lifetime value', (q, range) => lifetimeValue(q, { ...range, ...page })],
    ['segments', (q, range) => segments(q, range)],
    ['segment members', (q, range) => segmentMembers(q, { ...range, ...page, segment: 'champions' })],
  ];

  for (const [name, analysis] of analyses) {
    it(`${name}: no query reads the facts, filtered or not`, async () => {
      const store = new SnapshotStore(await snapshotDirOf(db().pool), TEST_ANALYTICS_LIMITS);
      try {
        for (const [label, range] of Object.entries(RANGES)) {
          for (const filtered of [false, true]) {
            const read = await store.read(async (snapshot) => {
              const client = recording(snapshot);
              await analysis(client, range, filtered);
              return client.read;
            });
            expect(read.size, `${label}: some table read`).to.be.greaterThan(0);
            expect(
              [...read].filter((table) => table === 'facts'),
              label,
            ).to.deep.equal([]);
          }
        }
      } finally {
        await store.close();
      }
    });
  }
});
