// A file larger than the loader loads in one part (ONE_PART_BYTES): its rows reach the bookkeeping sorted into
// parts by order, and every count, rejected line, duplicate and sum must still be the whole file's. The
// expected figures are computed here from the generated lines, by rules of semantics.md written out again.
import fs from 'node:fs';
import { expect } from 'chai';
import { type GeneratedLine, generateSales, writeSalesCsv } from '../../../src/generate/sales-generator.js';
import { ONE_PART_BYTES, partCount } from '../../../src/load/2-records/part-files.js';
import { useTestDatabase } from '../../support/database.js';
import { lineMoney, load, writeFile } from '../../support/sales-files.js';
import { snapshotQuery } from '../../support/snapshot.js';

/** Bytes of a generated line, about (the file is checked to be larger than a part). */
const LINE_BYTES = 172;
const ROWS = Math.ceil((ONE_PART_BYTES * 1.05) / LINE_BYTES);
const EVERY = 100_000;

/** The generated lines, and every EVERY-th line: a row refused outright, a repeat of a line key from early in the file with another quantity, and a row of an early order that names another day. */
function* fileLines(): Generator<GeneratedLine> {
  const early: GeneratedLine[] = [];
  let i = 0;
  for (const line of generateSales({ rows: ROWS, seed: 31 })) {
    if (early.length < 20) early.push(line);
    yield line;
    if (++i % EVERY !== 0) continue;
    const n = i / EVERY;
    yield { ...line, quantity: 0 };
    yield { ...early[n % early.length], quantity: early[n % early.length].quantity + n };
    yield { ...early[(n + 7) % early.length], productId: `P-LATE-${n}`, dateOfSale: '2021-06-01' };
  }
}

interface Expected {
  read: number;
  rejectedLines: number[];
  duplicates: number;
  inserted: number;
  orders: number;
  customerDays: number;
  revenue: bigint;
}

/** First valid row per order decides its fields; the last row of a line key wins; quantity 0 is refused. */
function expectedOf(lines: Iterable<GeneratedLine>): Expected {
  const heads = new Map<string, string>();
  const winners = new Map<string, bigint>();
  const customerDays = new Set<string>();
  const rejectedLines: number[] = [];
  let read = 0;
  let duplicates = 0;
  for (const line of lines) {
    const at = ++read + 1; // the header is line 1
    if (line.quantity < 1) {
      rejectedLines.push(at);
      continue;
    }
    const fields = `${line.customerId}|${line.dateOfSale}|${line.region}|${line.paymentMethod}`;
    const head = heads.get(line.orderId);
    if (head !== undefined && head !== fields) {
      rejectedLines.push(at);
      continue;
    }
    if (head === undefined) {
      heads.set(line.orderId, fields);
      customerDays.add(`${line.customerId}|${line.dateOfSale}`);
    }
    const key = `${line.orderId}|${line.productId}`;
    if (winners.has(key)) duplicates++;
    winners.set(key, lineMoney(line).revenue);
  }
  let revenue = 0n;
  for (const lineRevenue of winners.values()) revenue += lineRevenue;
  return {
    read,
    rejectedLines,
    duplicates,
    inserted: winners.size,
    orders: heads.size,
    customerDays: customerDays.size,
    revenue,
  };
}

describe('a file larger than the loader loads in one part', () => {
  const db = useTestDatabase({ each: true });

  it('loads with the whole file’s counts, rejected lines, duplicates and sums', async function () {
    this.timeout(600_000);
    const file = await writeFile('');
    await writeSalesCsv(file, fileLines(), { style: 'standard', extraColumns: false });
    expect(partCount(fs.statSync(file).size), 'parts of the file').to.be.greaterThan(1);
    const expected = expectedOf(fileLines());
    expect(expected.duplicates).to.be.greaterThan(0);

    const { run } = await load(db().pool, file);
    fs.rmSync(file, { force: true });
    expect(run.error).to.equal(null);
    expect(run.counts).to.deep.equal({
      read: expected.read,
      rejected: expected.rejectedLines.length,
      duplicates: expected.duplicates,
      inserted: expected.inserted,
      updated: 0,
      unchanged: 0,
      deleted: 0,
    });
    const rejects = await db().pool.query('SELECT line FROM refresh_rejects WHERE run_id = $1 ORDER BY line', [run.id]);
    expect(rejects.rows.map((row) => row.line)).to.deep.equal(expected.rejectedLines);

    // In 10^-4 units, from the facts and from the snapshot's rollups.
    const { rows: record } = await db().pool.query(`SELECT
      (SELECT sum(quantity * unit_price * (1 - discount)) * 10000 FROM order_items)::text AS facts,
      (SELECT count(*) FROM orders)::int AS stored_orders`);
    const { rows: snapshot } = await snapshotQuery(
      db().pool,
      `SELECT
      (SELECT sum(revenue) * 10000 FROM sales_by_day_product_region)::text AS day_product,
      (SELECT sum(revenue) * 10000 FROM sales_by_day_region)::text AS day_region,
      (SELECT sum(revenue) * 10000 FROM sales_by_day_customer)::text AS day_customer,
      (SELECT sum(lines) FROM sales_by_day_product_region)::int AS lines,
      (SELECT sum(orders) FROM sales_by_day_customer)::int AS orders,
      (SELECT sum(customers) FROM customers_by_day)::int AS customer_days`,
    );
    const revenue = String(expected.revenue);
    const sums = { ...record[0], ...snapshot[0] } as Record<string, string | number>;
    for (const column of ['facts', 'day_product', 'day_region', 'day_customer']) {
      expect(String(sums[column]).replace(/\.0+$/, ''), column).to.equal(revenue);
    }
    expect(sums).to.include({
      lines: expected.inserted,
      orders: expected.orders,
      customer_days: expected.customerDays,
      stored_orders: expected.orders,
    });
  });
});
