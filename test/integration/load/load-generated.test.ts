// Exact totals of generated data (multi-line orders, discounts, several categories and regions), checked
// against a plain fold over the generated lines, after a first load and after an append that changes some.

import { expect } from 'chai';
import { type GeneratedLine, generateSales } from '../../../src/generate/sales-generator.js';
import { type TestDatabase, useTestDatabase } from '../../support/database.js';
import { csvOf, lineMoney, load, money, sum, writeFile } from '../../support/sales-files.js';
import { snapshotQuery } from '../../support/snapshot.js';

function groupRevenue(lines: GeneratedLine[], key: (line: GeneratedLine) => string): Record<string, string> {
  const totals = new Map<string, bigint>();
  for (const line of lines) totals.set(key(line), (totals.get(key(line)) ?? 0n) + lineMoney(line).revenue);
  return Object.fromEntries([...totals].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, money(v)]));
}

async function stored(db: TestDatabase) {
  const query = (sql: string) => snapshotQuery(db.pool, sql);
  const total = await query(`SELECT round(sum(revenue), 2)::text AS revenue, round(sum(gross), 2)::text AS gross,
    round(sum(discount), 2)::text AS discount, round(sum(shipping), 2)::text AS shipping, sum(quantity)::int AS quantity,
    sum(orders)::int AS orders FROM sales_by_day_region`);
  const byCategory = await query(`SELECT c.name, round(sum(r.revenue), 2)::text AS revenue
    FROM sales_by_day_category_region r JOIN categories c USING (category_id) GROUP BY c.name ORDER BY c.name`);
  const byMonthProduct =
    await query(`SELECT strftime(month, '%Y-%m') || ' ' || p.code AS key, round(sum(r.revenue), 2)::text AS revenue
    FROM sales_by_month_product_region r JOIN products p USING (product_id) GROUP BY 1 ORDER BY 1`);
  const byYearProduct = async (table: string) =>
    (
      await query(`SELECT strftime(year, '%Y') || ' ' || p.code AS key, round(sum(r.revenue), 2)::text AS revenue
       FROM ${table} r JOIN products p USING (product_id) GROUP BY 1 ORDER BY 1`)
    ).rows.map((r) => [r.key, r.revenue]);
  const customerCells = async (table: string, grain: string, format: string, [first, last] = ['first_day', 'last_day']) =>
    (
      await query(`SELECT strftime(${grain}, '${format}') || ' ' || c.code AS key,
         concat_ws(' ', r.orders, round(r.revenue, 2), r.${first}, r.${last}) AS cell
       FROM ${table} r JOIN customers c USING (customer_id) ORDER BY 1`)
    ).rows.map((r) => [r.key, r.cell]);
  const throughLastYear =
    await query(`SELECT p.code || ' ' || r.name AS key, concat_ws(' ', t.quantity, round(t.revenue, 2)) AS cell
    FROM sales_through_year_product_region t JOIN products p USING (product_id) JOIN regions r USING (region_id)
    WHERE t.year = (SELECT max(year) FROM sales_through_year_product_region) ORDER BY 1`);
  const customers = await query(`SELECT sum(customers)::int AS customers FROM customers_by_day
    WHERE sale_date BETWEEN '2023-01-01' AND '2023-12-31' AND previous_sale_date < '2023-01-01'`);
  return {
    total: total.rows[0],
    byCategory: Object.fromEntries(byCategory.rows.map((r) => [r.name, r.revenue])),
    byMonthProduct: Object.fromEntries(byMonthProduct.rows.map((r) => [r.key, r.revenue])),
    byYearProduct: Object.fromEntries(await byYearProduct('sales_by_year_product')),
    byYearProductRegion: Object.fromEntries(await byYearProduct('sales_by_year_product_region')),
    byDayCustomer: Object.fromEntries(
      await customerCells('sales_by_day_customer', 'sale_date', '%Y-%m-%d', ['sale_date', 'sale_date']),
    ),
    byYearCustomer: Object.fromEntries(await customerCells('sales_by_year_customer', 'year', '%Y')),
    throughLastYear: Object.fromEntries(throughLastYear.rows.map((r) => [r.key, r.cell])),
    customers2023: customers.rows[0].customers,
  };
}

/** Per customer and period: "orders revenue first last", as the rollup cells print. */
function customerCells(lines: GeneratedLine[], period: (line: GeneratedLine) => string): Record<string, string> {
  const cells = new Map<string, GeneratedLine[]>();
  for (const line of lines) {
    const key = `${period(line)} ${line.customerId}`;
    cells.set(key, [...(cells.get(key) ?? []), line]);
  }
  return Object.fromEntries(
    [...cells]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([key, group]) => {
        const days = group.map((l) => l.dateOfSale).sort();
        const orders = new Set(group.map((l) => l.orderId)).size;
        return [key, `${orders} ${money(sum(group, (l) => lineMoney(l).revenue))} ${days[0]} ${days[days.length - 1]}`];
      }),
  );
}

/** All-time units and revenue per product and region: "quantity revenue". */
function productRegionTotals(lines: GeneratedLine[]): Record<string, string> {
  const totals = new Map<string, { quantity: number; revenue: bigint }>();
  for (const line of lines) {
    const key = `${line.productId} ${line.region}`;
    const total = totals.get(key) ?? { quantity: 0, revenue: 0n };
    total.quantity += line.quantity;
    total.revenue += lineMoney(line).revenue;
    totals.set(key, total);
  }
  return Object.fromEntries(
    [...totals].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, t]) => [key, `${t.quantity} ${money(t.revenue)}`]),
  );
}

function expected(lines: GeneratedLine[]) {
  return {
    total: {
      revenue: money(sum(lines, (l) => lineMoney(l).revenue)),
      gross: money(sum(lines, (l) => lineMoney(l).gross)),
      discount: money(sum(lines, (l) => lineMoney(l).discount)),
      shipping: money(sum(lines, (l) => lineMoney(l).shipping)),
      quantity: lines.reduce((n, l) => n + l.quantity, 0),
      orders: new Set(lines.map((l) => l.orderId)).size,
    },
    byCategory: groupRevenue(lines, (l) => l.category),
    byMonthProduct: groupRevenue(lines, (l) => `${l.dateOfSale.slice(0, 7)} ${l.productId}`),
    byYearProduct: groupRevenue(lines, (l) => `${l.dateOfSale.slice(0, 4)} ${l.productId}`),
    byYearProductRegion: groupRevenue(lines, (l) => `${l.dateOfSale.slice(0, 4)} ${l.productId}`),
    byDayCustomer: customerCells(lines, (l) => l.dateOfSale),
    byYearCustomer: customerCells(lines, (l) => l.dateOfSale.slice(0, 4)),
    throughLastYear: productRegionTotals(lines),
    customers2023: new Set(lines.filter((l) => l.dateOfSale.startsWith('2023')).map((l) => l.customerId)).size,
  };
}

describe('loading generated data', () => {
  const db = useTestDatabase();
  const lines = [...generateSales({ rows: 5000, seed: 7, extraColumns: true })];

  it('stores exactly the generated totals, by category, and by month and product', async () => {
    const { result } = await load(db().pool, await writeFile(csvOf(lines, { style: 'sample', extraColumns: true })));
    expect(result!.counts).to.deep.equal({
      read: 5000,
      inserted: 5000,
      updated: 0,
      unchanged: 0,
      duplicates: 0,
      rejected: 0,
      deleted: 0,
    });
    expect(await stored(db())).to.deep.equal(expected(lines));
  });

  it('keeps the rollups exact through an append that changes, moves and adds lines', async () => {
    // Every 10th line gets another quantity; every 25th order moves to another day (all its lines); 500 new lines.
    const movedOrders = new Set(lines.filter((_, i) => i % 25 === 0).map((l) => l.orderId));
    const changed = lines.map((line, i) => ({
      ...line,
      quantity: i % 10 === 0 ? line.quantity + 1 : line.quantity,
      dateOfSale: movedOrders.has(line.orderId) ? '2023-06-15' : line.dateOfSale,
    }));
    const added = [...generateSales({ rows: 500, seed: 8, firstOrder: 900_001, extraColumns: true })];
    const touched = changed.filter((line, i) => i % 10 === 0 || movedOrders.has(line.orderId));
    const { result } = await load(
      db().pool,
      await writeFile(csvOf([...touched, ...added], { style: 'standard', extraColumns: true })),
    );
    expect(result!.counts).to.include({ inserted: 500, updated: touched.length, unchanged: 0 });
    expect(await stored(db())).to.deep.equal(expected([...changed, ...added]));
  });
});
