import path from 'node:path';
import { expect } from 'chai';
import { useTestDatabase } from '../../support/database.js';
import { load } from '../../support/sales-files.js';
import { snapshotQuery } from '../../support/snapshot.js';

const BRIEF_SAMPLE = path.resolve('test/fixtures/brief-sample.csv');

describe("loading the brief's sample", () => {
  const db = useTestDatabase();

  it('loads all six rows into the normalized tables', async () => {
    const { run, result } = await load(db().pool, BRIEF_SAMPLE);
    expect(run.status).to.equal('succeeded');
    expect(result!.counts).to.deep.equal({
      read: 6,
      inserted: 6,
      updated: 0,
      unchanged: 0,
      duplicates: 0,
      rejected: 0,
      deleted: 0,
    });
    const counts = await db().pool.query(`SELECT
      (SELECT count(*) FROM orders) AS orders, (SELECT count(*) FROM order_items) AS lines,
      (SELECT count(*) FROM products) AS products, (SELECT count(*) FROM customers) AS customers,
      (SELECT count(*) FROM categories) AS categories, (SELECT count(*) FROM regions) AS regions,
      (SELECT count(*) FROM payment_methods) AS payment_methods`);
    expect(counts.rows[0]).to.deep.equal({
      orders: 6,
      lines: 6,
      products: 4,
      customers: 3,
      categories: 3,
      regions: 4,
      payment_methods: 3,
    });
  });

  it('restores the bare-comma addresses exactly', async () => {
    const { rows } = await db().pool.query('SELECT code, address FROM customers ORDER BY code');
    expect(rows).to.deep.equal([
      { code: 'C101', address: '789 Oak St, New City, TX 75024' },
      { code: 'C456', address: '123 Main St, Anytown, CA 12345' },
      { code: 'C789', address: '456 Elm St, Otherville, NY 54321' },
    ]);
  });

  it('stores an order line with its order, product and customer', async () => {
    const { rows } = await db().pool.query(`
      SELECT o.sale_date::text, c.code AS customer, r.name AS region, m.name AS payment, p.code AS product,
             cat.name AS category, i.quantity, i.unit_price::text, i.discount::text, i.shipping_cost::text
      FROM order_items i JOIN orders o USING (order_id) JOIN customers c USING (customer_id) JOIN regions r USING (region_id)
      JOIN payment_methods m USING (payment_method_id) JOIN products p USING (product_id) JOIN categories cat USING (category_id)
      WHERE o.code = '1003'`);
    expect(rows).to.deep.equal([
      {
        sale_date: '2024-02-28',
        customer: 'C456',
        region: 'Asia',
        payment: 'Debit Card',
        product: 'P789',
        category: 'Clothing',
        quantity: 3,
        unit_price: '59.99',
        discount: '0.2',
        shipping_cost: '5',
      },
    ]);
  });

  it('fills the rollups: total revenue 4712.5675 (324 + 1299 + 143.976 + 180 + 297.4915 + 2468.1)', async () => {
    const { rows } = await snapshotQuery(
      db().pool,
      `SELECT sum(revenue) AS revenue, sum(orders)::int AS orders, sum(quantity)::int AS quantity, sum(shipping) AS shipping
       FROM sales_by_day_region`,
    );
    expect(rows[0]).to.deep.equal({ revenue: '4712.5675', orders: 6, quantity: 10, shipping: '70' });
  });

  it('counts every row unchanged when the same file is loaded again, and changes nothing', async () => {
    const { result } = await load(db().pool, BRIEF_SAMPLE);
    expect(result!.counts).to.deep.equal({
      read: 6,
      inserted: 0,
      updated: 0,
      unchanged: 6,
      duplicates: 0,
      rejected: 0,
      deleted: 0,
    });
    const { rows } = await snapshotQuery(db().pool, 'SELECT count(*) AS lines, sum(revenue) AS revenue FROM sales_by_day_region');
    expect(rows[0].revenue).to.equal('4712.5675');
  });
});
