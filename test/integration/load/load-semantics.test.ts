import { expect } from 'chai';
import { BRIEF_HEADER } from '../../../src/generate/sales-generator.js';
import { type TestDatabase, useTestDatabase } from '../../support/database.js';
import { load, writeFile } from '../../support/sales-files.js';
import { snapshotQuery } from '../../support/snapshot.js';

const HEADER = BRIEF_HEADER.join(',');
const A = 'C1,Ann,ann@x.io,"1 Road, Town"';
const B = 'C2,Bob,bob@x.io,';

/** One CSV row in the brief's column order. */
function row(
  order: string,
  product: string,
  opts: {
    customer?: string;
    day?: string;
    region?: string;
    qty?: number;
    price?: string;
    discount?: string;
    category?: string;
    name?: string;
  } = {},
): string {
  const [customerId, ...customerRest] = (opts.customer ?? A).split(',');
  return [
    order,
    product,
    customerId,
    opts.name ?? `Product ${product}`,
    opts.category ?? 'Shoes',
    opts.region ?? 'Europe',
    opts.day ?? '2024-01-10',
    opts.qty ?? 1,
    opts.price ?? '10.00',
    opts.discount ?? '0',
    '1.50',
    'Card',
    ...customerRest,
  ].join(',');
}

async function rejects(db: TestDatabase, runId: number) {
  const { rows } = await db.pool.query('SELECT line, reasons FROM refresh_rejects WHERE run_id = $1 ORDER BY line', [runId]);
  return rows as { line: number; reasons: string[] }[];
}

/** The record's counts, and the published snapshot's sums over its rollups. */
async function totals(db: TestDatabase) {
  const record = await db.pool.query(
    'SELECT (SELECT count(*) FROM order_items) AS lines, (SELECT count(*) FROM orders) AS orders',
  );
  const snapshot = await snapshotQuery(
    db.pool,
    `SELECT
    (SELECT coalesce(sum(revenue), 0) FROM sales_by_day_region) AS revenue,
    (SELECT coalesce(sum(revenue), 0) FROM sales_by_month_product_region) AS product_revenue,
    (SELECT coalesce(sum(revenue), 0) FROM sales_by_day_category_region) AS category_revenue,
    (SELECT coalesce(sum(customers), 0)::int FROM customers_by_day WHERE previous_sale_date = '-infinity') AS customers`,
  );
  return { ...record.rows[0], ...snapshot.rows[0] };
}

/** Another order already stored: the next load takes the staged way. */
async function holdOtherData(db: TestDatabase) {
  await load(db.pool, await writeFile([HEADER, row('900', 'P900', { customer: B, day: '2024-01-01' })].join('\n')));
}

describe('load semantics', () => {
  const db = useTestDatabase({ each: true });

  // A first load streams lines straight into order_items; any other load stages them: both must agree.
  const ways = { 'a first load': async () => {}, 'a load into data': () => holdOtherData(db()) };

  for (const [way, storeFirst] of Object.entries(ways)) {
    it(`lets the last row of a line key win, counting earlier ones as duplicates; blank lines are not rows (${way})`, async () => {
      await storeFirst();
      const file = await writeFile(
        [HEADER, row('1', 'P1', { qty: 1 }), '', row('1', 'P1', { qty: 2 }), row('1', 'P2'), row('1', 'P1', { qty: 3 }), ''].join(
          '\n',
        ),
      );
      const { result } = await load(db().pool, file);
      expect(result!.counts).to.deep.equal({
        read: 4,
        inserted: 2,
        updated: 0,
        unchanged: 0,
        duplicates: 2,
        rejected: 0,
        deleted: 0,
      });
      const { rows } = await db().pool.query(
        `SELECT p.code, i.quantity FROM order_items i JOIN products p USING (product_id) JOIN orders o USING (order_id)
       WHERE o.code = '1' ORDER BY 1`,
      );
      expect(rows).to.deep.equal([
        { code: 'P1', quantity: 3 },
        { code: 'P2', quantity: 1 },
      ]);
    });

    it(`rejects rows that disagree with their order's first valid row, by physical line number (${way})`, async () => {
      await storeFirst();
      const file = await writeFile(
        [
          HEADER,
          row('1', 'P9', { qty: 0 }), //            line 2: invalid, so not the order's first valid row
          row('1', 'P1', { day: '2024-01-10' }), // line 3: first valid row of order 1
          row('1', 'P2', { day: '2024-01-10T18:00:00' }), // line 4: same day, a time part
          row('1', 'P3', { day: '2024-01-11', region: 'Asia' }), // line 5: conflict on two fields
          row('1', 'P1', { customer: B }), //      line 6: conflict that repeats a line key: rejected, not a duplicate
        ].join('\r\n'),
      );
      const { run, result } = await load(db().pool, file);
      expect(run.error).to.equal(null);
      expect(result!.counts).to.deep.equal({
        read: 5,
        inserted: 2,
        updated: 0,
        unchanged: 0,
        duplicates: 0,
        rejected: 3,
        deleted: 0,
      });
      const got = await rejects(db(), run.id);
      expect(got.map((r) => r.line)).to.deep.equal([2, 5, 6]);
      expect(got[1].reasons).to.have.length(2);
      expect(got[1].reasons[0]).to.match(/Date of Sale '2024-01-11' differs from '2024-01-10' on line 3/);
      expect(got[2].reasons[0]).to.match(/Customer ID 'C2' differs from 'C1'/);
    });
  }

  it('appends: new lines inserted, changed ones updated, the rest unchanged; rollups follow', async () => {
    await load(
      db().pool,
      await writeFile([HEADER, row('1', 'P1'), row('1', 'P2'), row('2', 'P1', { customer: B, day: '2024-02-01' })].join('\n')),
    );
    const second = await load(
      db().pool,
      await writeFile(
        [
          HEADER,
          row('1', 'P1'), //                                  unchanged
          row('1', 'P2', { qty: 5 }), //                      updated
          row('3', 'P3', { day: '2024-03-01', category: 'Hats' }), // inserted
        ].join('\n'),
      ),
    );
    expect(second.result!.counts).to.deep.equal({
      read: 3,
      inserted: 1,
      updated: 1,
      unchanged: 1,
      duplicates: 0,
      rejected: 0,
      deleted: 0,
    });
    // 1-P1: 10, 1-P2: 5 x 10 = 50, 2-P1: 10, 3-P3: 10
    expect(await totals(db())).to.deep.equal({
      lines: 4,
      orders: 3,
      revenue: '80',
      product_revenue: '80',
      category_revenue: '80',
      customers: 2,
    });
  });

  it('writes nothing an append leaves unchanged: no new row version, not even a row lock', async () => {
    // xmin: the transaction that wrote the row version; xmax: one that deleted, updated or locked it.
    const versions = async () =>
      (
        await db().pool.query(`
          SELECT 'line ' || o.code || '-' || p.code AS row, i.xmin::text, i.xmax::text
          FROM order_items i JOIN orders o USING (order_id) JOIN products p USING (product_id)
          UNION ALL SELECT 'order ' || code, xmin::text, xmax::text FROM orders
          UNION ALL SELECT 'customer ' || code, xmin::text, xmax::text FROM customers
          UNION ALL SELECT 'product ' || code, xmin::text, xmax::text FROM products
          ORDER BY 1`)
      ).rows as { row: string; xmin: string; xmax: string }[];
    const rows = [row('1', 'P1'), row('1', 'P2'), row('2', 'P1', { customer: B, day: '2024-02-01' })];
    await load(db().pool, await writeFile([HEADER, ...rows].join('\n')));
    const before = await versions();
    rows[1] = row('1', 'P2', { qty: 5 });
    const { result } = await load(db().pool, await writeFile([HEADER, ...rows].join('\n')));
    expect(result!.counts).to.include({ updated: 1, unchanged: 2, inserted: 0 });
    const after = await versions();
    const written = after.filter((version, i) => version.xmin !== before[i].xmin || version.xmax !== before[i].xmax);
    expect(written.map((version) => version.row)).to.deep.equal(['line 1-P2']);
  });

  it("moves an order's lines when a later load changes its order-level fields", async () => {
    await load(db().pool, await writeFile([HEADER, row('1', 'P1'), row('1', 'P2')].join('\n')));
    const { result } = await load(
      db().pool,
      await writeFile([HEADER, row('1', 'P1', { day: '2024-05-05', region: 'Asia', customer: B })].join('\n')),
    );
    expect(result!.counts).to.include({ updated: 1, unchanged: 0, inserted: 0 });
    const { rows } = await snapshotQuery(
      db().pool,
      'SELECT sale_date AS day, region_id, orders, revenue FROM sales_by_day_region ORDER BY 1',
    );
    expect(rows).to.have.length(1);
    expect(rows[0]).to.include({ day: '2024-05-05', orders: 1, revenue: '20' });
    const customers = await snapshotQuery(
      db().pool,
      'SELECT sale_date, previous_sale_date::text AS previous_sale_date, customers FROM customers_by_day',
    );
    expect(customers.rows).to.deep.equal([{ sale_date: '2024-05-05', previous_sale_date: '-infinity', customers: 1 }]);
  });

  it("moves a product's whole history when its category changes", async () => {
    await load(db().pool, await writeFile([HEADER, row('1', 'P1'), row('2', 'P1', { day: '2024-02-02' })].join('\n')));
    await load(db().pool, await writeFile([HEADER, row('3', 'P1', { category: 'Boots', day: '2024-03-03' })].join('\n')));
    const { rows } = await snapshotQuery(
      db().pool,
      `SELECT c.name, sum(r.revenue) AS revenue, sum(r.orders)::int AS orders
      FROM sales_by_day_category_region r JOIN categories c USING (category_id) GROUP BY 1`,
    );
    expect(rows).to.deep.equal([{ name: 'Boots', revenue: '30', orders: 3 }]);
  });

  it('replaces: the database holds exactly the file, and deleted lines are counted', async () => {
    await load(
      db().pool,
      await writeFile([HEADER, row('1', 'P1'), row('1', 'P2'), row('2', 'P3', { customer: B, category: 'Hats' })].join('\n')),
    );
    const { result } = await load(
      db().pool,
      await writeFile([HEADER, row('1', 'P1'), row('4', 'P4', { qty: 2 })].join('\n')),
      'replace',
    );
    expect(result!.counts).to.deep.equal({
      read: 2,
      inserted: 1,
      updated: 0,
      unchanged: 1,
      duplicates: 0,
      rejected: 0,
      deleted: 2,
    });
    expect(await totals(db())).to.deep.equal({
      lines: 2,
      orders: 2,
      revenue: '30',
      product_revenue: '30',
      category_revenue: '30',
      customers: 1,
    });
    const { rows } = await db().pool.query(`SELECT (SELECT array_agg(code ORDER BY code) FROM products) AS products,
      (SELECT array_agg(code) FROM customers) AS customers, (SELECT array_agg(name) FROM categories) AS categories`);
    expect(rows[0]).to.deep.equal({ products: ['P1', 'P4'], customers: ['C1'], categories: ['Shoes'] });
  });

  it('fails a file with a missing column before reading any row, changing nothing, and records why', async () => {
    await load(db().pool, await writeFile([HEADER, row('1', 'P1')].join('\n')));
    const before = await totals(db());
    const bad = await writeFile([HEADER.replace(',Region', ''), row('2', 'P2')].join('\n'));
    const { run, result } = await load(db().pool, bad);
    expect(result).to.equal(undefined);
    expect(run).to.include({ status: 'failed', error: 'missing required column: Region' });
    expect(await totals(db())).to.deep.equal(before);
  });

  for (const [kind, data, nth] of [
    ['an NDJSON', `{"Order ID":"${'1'.repeat(12 << 20)}"}`, 1],
    ['a CSV', `${HEADER}\n${'x,'.repeat(6 << 20)}`, 2],
  ] as const) {
    it(`fails ${kind} file with a line over 1 MiB once that much is read, naming the line`, async () => {
      const file = await writeFile(data, kind === 'a CSV' ? 'csv' : 'ndjson');
      const { run } = await load(db().pool, file);
      expect(run).to.include({
        status: 'failed',
        error: `line ${nth} is longer than 1 MiB (1,048,576 characters): do the file's lines end in LF or CRLF?`,
      });
      // Read up to the limit, in 64 KiB chunks, not the whole 12 MB; and the progress showed it.
      expect(run.progress.bytesRead).to.be.within(1, (1 << 20) + 2 * (1 << 16) + HEADER.length);
      expect(run.progress.bytesTotal).to.equal(data.length);
    });
  }

  it("fails a semicolon-delimited file or one whose lines end in CR only, saying so (not 'missing columns' or 'named twice')", async () => {
    const semicolons = await writeFile([HEADER, row('1', 'P1'), row('2', 'P2')].map((l) => l.replaceAll(',', ';')).join('\n'));
    expect((await load(db().pool, semicolons)).run).to.include({
      status: 'failed',
      error: "the header has one column; is the file delimited by ';'? Columns must be separated by commas",
    });
    const crOnly = await writeFile([HEADER, row('1', 'P1', { customer: B }), row('2', 'P2', { customer: B })].join('\r'));
    expect((await load(db().pool, crOnly)).run).to.include({
      status: 'failed',
      error: "the file's lines end in CR only (old Mac); use LF or CRLF",
    });
  });

  it('records a missing file as a failed run with a plain message', async () => {
    const { run } = await load(db().pool, '/nonexistent/sales.csv');
    // Named as its source is (the run history is public), not by its path on the server.
    expect(run).to.include({ status: 'failed', source: 'sales.csv', error: 'cannot read sales.csv: no such file' });
  });

  it('rolls a load back entirely when it is aborted midway', async () => {
    await load(db().pool, await writeFile([HEADER, row('1', 'P1')].join('\n')));
    const before = await totals(db());
    const big = [HEADER, ...Array.from({ length: 50_000 }, (_, i) => row(String(100 + i), 'P1'))].join('\n');
    const controller = new AbortController();
    const { runRefresh } = await import('../../../src/refresh/refresh.js');
    const { quietLogger } = await import('../../support/sales-files.js');
    const outcome = await runRefresh(db().pool, quietLogger, {
      file: await writeFile(big),
      source: 'big.csv',
      mode: 'append',
      trigger: 'cli',
      signal: controller.signal,
      onProgress: () => controller.abort(new Error('injected failure')),
    });
    expect(outcome.run).to.include({ status: 'failed', error: 'cancelled: injected failure' });
    expect(await totals(db())).to.deep.equal(before);
    const { rows } = await db().pool.query('SELECT count(*) AS rejects FROM refresh_rejects');
    expect(rows[0].rejects).to.equal(0);
  });

  it('lets one load run at a time: a second is skipped while the first holds the lock', async () => {
    const { LOAD_LOCK_KEY } = await import('../../../src/load/index.js');
    const holder = await db().pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock($1)', [LOAD_LOCK_KEY]);
      const { run } = await load(db().pool, await writeFile([HEADER, row('1', 'P1')].join('\n')));
      expect(run).to.include({ status: 'skipped', error: 'another load is running' });
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
  });

  it('reads JSON arrays and NDJSON with the same rules', async () => {
    const object = (order: string, product: string, quantity: unknown) => ({
      'Order ID': order,
      'Product ID': product,
      'Customer ID': 'C1',
      'Product Name': 'Shoe',
      Category: 'Shoes',
      Region: 'Europe',
      'Date of Sale': '2024-01-10',
      'Quantity Sold': quantity,
      'Unit Price': 10,
      Discount: '10%',
      'Shipping Cost': null,
      'Payment Method': 'Card',
      'Customer Name': 'Ann',
      'Customer Email': 'ann@x.io',
      'Customer Address': '',
      Campaign: 'Spring',
    });
    const json = await load(db().pool, await writeFile(JSON.stringify([object('1', 'P1', 2), object('1', 'P2', 'x')]), 'json'));
    expect(json.result!.counts).to.include({ read: 2, inserted: 1, rejected: 1 });
    expect((await rejects(db(), json.run.id)).map((r) => r.line)).to.deep.equal([2]);
    const ndjson = [JSON.stringify(object('2', 'P1', 1)), '', JSON.stringify(object('2', 'P1', 4)), '{broken'].join('\n');
    const nd = await load(db().pool, await writeFile(ndjson, 'ndjson'));
    expect(nd.result!.counts).to.include({ read: 3, inserted: 1, duplicates: 1, rejected: 1 });
    expect((await rejects(db(), nd.run.id)).map((r) => r.line)).to.deep.equal([4]);
    const { rows } = await db().pool.query(
      `SELECT i.quantity, i.discount::text, i.attributes FROM order_items i JOIN orders o USING (order_id) WHERE o.code = '2'`,
    );
    expect(rows).to.deep.equal([{ quantity: 4, discount: '0.1', attributes: { Campaign: 'Spring' } }]);
  });

  it('keeps codes in any script and of any length exactly, and names them exactly in conflicts', async () => {
    const long = `L${'x'.repeat(20_000)}`;
    const orders = ['Ö-1', '订单-2', 'order-😀', long];
    const lines = [
      HEADER,
      row(orders[0], 'P1', { customer: 'Kunde-Ü,Ann,ann@x.io,' }),
      row(orders[1], 'Prodükt-2', { customer: '顧客-1,Bo,bo@x.io,' }),
      row(orders[2], 'P1', { customer: 'Kunde-Ü,Ann,ann@x.io,' }),
      row(long, 'P1', { customer: '顧客-1,Bo,bo@x.io,' }),
      row(orders[1], 'P3', { customer: 'Kunde-Ü,Ann,ann@x.io,' }), // the order's first row named 顧客-1
    ];
    const file = await writeFile(lines.join('\n'));
    const { run, result } = await load(db().pool, file);
    expect(result!.counts).to.include({ inserted: 4, rejected: 1 });
    // Again, now the staged way: every code must match what the first load wrote.
    expect((await load(db().pool, file)).result!.counts).to.include({ inserted: 0, unchanged: 4, rejected: 1 });
    const codes = async (table: string) =>
      (await db().pool.query(`SELECT code FROM ${table} ORDER BY code`)).rows.map((r) => r.code as string);
    expect(await codes('orders')).to.deep.equal([...orders].sort());
    expect(await codes('customers')).to.deep.equal(['Kunde-Ü', '顧客-1']);
    expect(await codes('products')).to.deep.equal(['P1', 'Prodükt-2']);
    expect((await rejects(db(), run.id))[0].reasons).to.deep.equal([
      "conflict: Customer ID 'Kunde-Ü' differs from '顧客-1' on line 3, the first row of order 订单-2",
    ]);
  });

  it('keeps hostile text exactly: quotes, tabs, backslashes, newlines, formula-like names', async () => {
    const name = '=cmd|" /C calc"!A0\\t';
    const file = await writeFile([HEADER, row('1', 'P1', { name: `"${name.replaceAll('"', '""')}\tx\nline2"` })].join('\n'));
    const { result } = await load(db().pool, file);
    expect(result!.counts.inserted).to.equal(1);
    const { rows } = await db().pool.query('SELECT name FROM products');
    expect(rows[0].name).to.equal(`${name}\tx\nline2`);
  });
});
