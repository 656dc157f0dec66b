// Every row of every rollup table must equal what the database's own rebuild (src/load/rollup-sql.ts) makes
// from the tables: after a load into an empty database, which sums its rollups from the file
// (src/load/file-rollups.ts), and after appends, which apply net changes.
import { expect } from 'chai';
import { generateSales } from '../../../src/generate/sales-generator.js';
import { ROLLUP_TABLES, rebuildStatement } from '../../../src/load/rollup-sql.js';
import { type TestDatabase, useTestDatabase } from '../../support/database.js';
import { csvOf, load, writeFile } from '../../support/sales-files.js';

/** Rows of `table` that its SQL rebuild would not make, and rows it would make that the table lacks. */
async function differences(db: TestDatabase, table: string, [rebuild, params]: [string, unknown[]]) {
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`CREATE TEMP TABLE loaded ON COMMIT DROP AS SELECT * FROM ${table}`);
    await client.query(`DELETE FROM ${table}`);
    await client.query(rebuild, params);
    const { rows } = await client.query(`SELECT
      (SELECT count(*) FROM (SELECT * FROM loaded EXCEPT ALL SELECT * FROM ${table}) AS x)::int AS extra,
      (SELECT count(*) FROM (SELECT * FROM ${table} EXCEPT ALL SELECT * FROM loaded) AS x)::int AS missing`);
    return rows[0] as { extra: number; missing: number };
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
}

async function expectRollupsAsRebuilt(db: TestDatabase): Promise<void> {
  const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM sales_by_month_product_region');
  expect(rows[0].n).to.be.greaterThan(0);
  for (const rollup of Object.values(ROLLUP_TABLES)) {
    expect(await differences(db, rollup.table, rebuildStatement(rollup)), rollup.table).to.deep.equal({ extra: 0, missing: 0 });
  }
}

describe('rollups of a load into an empty database', () => {
  const db = useTestDatabase({ each: true });

  it('equal the database rebuild, row for row, over generated data with costs, discounts, duplicates and conflicts', async () => {
    const lines = [...generateSales({ rows: 4000, seed: 7, extraColumns: true })];
    // A repeated line key (the last wins) and a conflicting row (rejected) on top of the generated ones.
    const repeated = { ...lines[10], quantity: lines[10].quantity + 3 };
    const conflicting = { ...lines[20], productId: 'P-NEW', region: `${lines[20].region}-other` };
    const file = await writeFile(csvOf([...lines, repeated, conflicting], { style: 'standard', extraColumns: true }));
    const outcome = await load(db().pool, file);
    expect(outcome.result?.counts).to.include({ duplicates: 1, rejected: 1 });
    await expectRollupsAsRebuilt(db());
  });

  it('equal the database rebuild when the file is loaded in parts (the cells of each part merged)', async () => {
    const lines = [...generateSales({ rows: 4000, seed: 17, extraColumns: true })];
    // Parts whose figures need more places than the others': their sums are scaled to the file's.
    lines[100] = { ...lines[100], unitPrice: '12.3456' };
    lines[2000] = { ...lines[2000], discount: '0.125', shippingCost: '3.999' };
    const repeated = { ...lines[30], quantity: lines[30].quantity + 2 };
    const file = await writeFile(csvOf([...lines, repeated], { style: 'standard', extraColumns: true }));
    // About 20 parts of 40 kB: the same customers, products and days in every part.
    const outcome = await load(db().pool, file, 'append', 40_000);
    expect(outcome.result?.counts).to.include({ inserted: 4000, duplicates: 1, rejected: 0 });
    await expectRollupsAsRebuilt(db());
  });

  it('are rebuilt by the database when a figure has more decimal places than the loader sums exactly', async () => {
    const lines = [...generateSales({ rows: 300, seed: 8 })];
    lines[5] = { ...lines[5], unitPrice: '19.123456' };
    const file = await writeFile(csvOf(lines));
    expect((await load(db().pool, file)).result?.counts.inserted).to.equal(300);
    await expectRollupsAsRebuilt(db());
  });

  it('stay exact with figures of 2^32 units and more (the loader keeps them as doubles then)', async () => {
    const lines = [...generateSales({ rows: 400, seed: 10, extraColumns: true })];
    lines[3] = { ...lines[3], unitPrice: '500000.25', unitCost: '429496.7296' };
    lines[4] = { ...lines[4], shippingCost: '1234567.5' };
    const file = await writeFile(csvOf(lines, { style: 'standard', extraColumns: true }));
    expect((await load(db().pool, file)).result?.counts.inserted).to.equal(400);
    await expectRollupsAsRebuilt(db());
  });

  it('count a unit cost too large to sum exactly here as known: the database sums the rollups', async () => {
    const lines = [...generateSales({ rows: 400, seed: 11, extraColumns: true })];
    lines[7] = { ...lines[7], unitCost: '1000000000000000' }; // 10^19 units: no exact double
    const file = await writeFile(csvOf(lines, { style: 'standard', extraColumns: true }));
    expect((await load(db().pool, file)).result?.counts.inserted).to.equal(400);
    await expectRollupsAsRebuilt(db());
  });

  it('go in with the keys in place when a reader holds a rollup table, without waiting for the reader', async function () {
    this.timeout(20_000); // waiting for the reader would hang until its transaction ends
    const reader = await db().pool.connect();
    try {
      await reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      await reader.query('SELECT count(*) FROM sales_by_day_region');
      const file = await writeFile(csvOf([...generateSales({ rows: 500, seed: 9 })]));
      const outcome = await load(db().pool, file);
      expect(outcome.result?.counts.inserted).to.equal(500);
      // The reader's snapshot still shows the empty database.
      expect((await reader.query('SELECT count(*)::int AS n FROM sales_by_day_region')).rows[0].n).to.equal(0);
    } finally {
      await reader.query('ROLLBACK');
      reader.release();
    }
    await expectRollupsAsRebuilt(db());
  });
});

describe('rollups after an append', () => {
  const db = useTestDatabase({ each: true });

  it('equal the database rebuild after lines change, orders move to other days and customers, and orders arrive', async () => {
    const lines = [...generateSales({ rows: 3000, seed: 11, extraColumns: true })];
    const style = { style: 'standard', extraColumns: true } as const;
    await load(db().pool, await writeFile(csvOf(lines, style)));
    const orders = [...new Set(lines.map((line) => line.orderId))];
    const moved = new Set(orders.filter((_, i) => i % 7 === 0)); // to January 15 of their year
    const rehomed = new Set(orders.filter((_, i) => i % 11 === 0)); // to another customer
    const other = lines[0];
    const changed = lines
      .filter((line, i) => i % 3 === 0 || moved.has(line.orderId) || rehomed.has(line.orderId))
      .map((line, i) => ({
        ...line,
        quantity: i % 2 === 0 ? line.quantity + 1 : line.quantity,
        dateOfSale: moved.has(line.orderId) ? `${line.dateOfSale.slice(0, 5)}01-15` : line.dateOfSale,
        ...(rehomed.has(line.orderId)
          ? { customerId: other.customerId, customerName: other.customerName, customerEmail: other.customerEmail }
          : {}),
      }));
    const arriving = [...generateSales({ rows: 400, seed: 12, extraColumns: true, firstOrder: 90_000_000 })];
    // New orders on days their customers already ordered on: the customers' sets of order days stay as they were.
    const sameDay = lines.filter((_, i) => i % 97 === 1).map((line) => ({ ...line, orderId: `${line.orderId}-again` }));
    const outcome = await load(db().pool, await writeFile(csvOf([...changed, ...arriving, ...sameDay], style)));
    expect(outcome.result?.counts.updated).to.be.greaterThan(0);
    expect(outcome.result?.counts.inserted).to.equal(400 + sameDay.length);
    await expectRollupsAsRebuilt(db());
  });

  it('equal the database rebuild after an append brings a year the data did not have', async () => {
    const lines = [...generateSales({ rows: 500, seed: 13 })];
    await load(db().pool, await writeFile(csvOf(lines)));
    // A later year: every product-region pair's running totals need a row for it, touched or not.
    const later = [...generateSales({ rows: 50, seed: 14, firstOrder: 80_000_000 })].map((line) => ({
      ...line,
      dateOfSale: '2026-01-15',
    }));
    expect(lines.every((line) => line.dateOfSale < '2026')).to.equal(true);
    expect((await load(db().pool, await writeFile(csvOf(later)))).result?.counts.inserted).to.equal(50);
    await expectRollupsAsRebuilt(db());
  });
});
