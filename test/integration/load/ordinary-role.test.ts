// Against an external PostgreSQL the application may run as an ordinary role that owns its tables: a first
// load (which drops and creates keys) and an append (whose foreign-key triggers then run as usual, since
// only a superuser may skip them) must work the same.

import { expect } from 'chai';
import pg from 'pg';
import { migrate } from '../../../src/db/migrate.js';
import { createPool } from '../../../src/db/pool.js';
import { generateSales } from '../../../src/generate/sales-generator.js';
import { csvOf, load, quietLogger, writeFile } from '../../support/sales-files.js';
import { snapshotQuery } from '../../support/snapshot.js';

describe('loads by an ordinary role that owns the tables', () => {
  const role = `sales_loader_${process.pid}`;
  const database = `sales_test_role_${process.pid}`;
  const password = 'loader-password';
  let admin: pg.Client;
  let pool: pg.Pool;

  before(async () => {
    admin = new pg.Client(process.env.TEST_ADMIN_URL);
    await admin.connect();
    await admin.query(`CREATE ROLE ${role} LOGIN NOSUPERUSER PASSWORD '${password}'`);
    await admin.query(`CREATE DATABASE ${database} OWNER ${role}`);
    const url = Object.assign(new URL(process.env.TEST_ADMIN_URL!), {
      username: role,
      password,
      pathname: `/${database}`,
    }).toString();
    await migrate(url, quietLogger);
    pool = createPool(url);
    // Connections the DROP ... WITH (FORCE) below terminates report it here; that is expected.
    pool.on('error', () => {});
  });

  after(async () => {
    await pool?.end();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.query(`DROP ROLE IF EXISTS ${role}`);
    await admin.end();
  });

  it('loads into the empty database, then appends changed and new lines', async () => {
    const { rows: role } = await pool.query(`SELECT current_setting('is_superuser') AS superuser`);
    expect(role[0].superuser).to.equal('off');
    const lines = [...generateSales({ rows: 600, seed: 21 })];
    expect((await load(pool, await writeFile(csvOf(lines)))).result?.counts.inserted).to.equal(600);
    const changed = lines.slice(0, 100).map((line) => ({ ...line, quantity: line.quantity + 1 }));
    const arriving = [...generateSales({ rows: 50, seed: 22, firstOrder: 70_000_000 })];
    const outcome = await load(pool, await writeFile(csvOf([...changed, ...arriving])));
    expect(outcome.result?.counts).to.include({ updated: 100, inserted: 50 });
    const { rows } = await pool.query('SELECT sum(quantity)::int AS lines FROM order_items');
    const { rows: rolled } = await snapshotQuery(pool, 'SELECT sum(quantity)::int AS rolled FROM sales_by_day_region');
    expect(rolled[0].rolled).to.equal(rows[0].lines);
  });
});
