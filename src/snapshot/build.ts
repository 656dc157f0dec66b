// Builds the analytics snapshot of one committed version of the record: a DuckDB file holding the facts in
// date order (zone maps skip the row groups outside a range), the dimensions the answers name, and the
// rollups (rollups.ts). Read from PostgreSQL in one snapshot-isolated transaction, so every table is of the
// same version; written under a temporary name, checkpointed and closed, then published by a link: a file
// a server has open is never written or replaced.
// A version whose load recorded the orders it changed (data_version.changed_orders, version_orders), and whose
// previous snapshot is published here, is made from a copy of that snapshot: those orders' facts are made
// again, and each rollup's rows of the periods they fall in (rollups.ts). Anything else is built whole: a
// first load, a change of most of the record, a product moved to another category (every fact of it
// changes), or figures that need other decimals than the previous snapshot's.
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { Pool, PoolClient } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { createOwnedDirectory } from '../owned-directory.js';
import { databaseKey } from './identity.js';
import { publishedVersions, snapshotFile } from './published.js';
import { CUSTOMER_DAYS, snapshotRollups } from './rollups.js';

export interface SnapshotLimits {
  threads: number;
  memoryLimit: string;
}

export interface BuiltSnapshot {
  version: number;
  file: string;
  ms: number;
  /** Built from the record whole, or from the previous version's snapshot and the orders added since. */
  made: 'whole' | 'increment';
}

/**
 * DuckDB's exact decimals: up to 18 digits in 64 bits, up to 38 in 128. The narrower type reads 17x faster
 * (1M lines of figures from CSV: 0.36 s against 6.15 s), so a version takes it whenever its figures fit.
 */
const NARROW_PRECISION = 18;
const MAX_PRECISION = 38;

/**
 * The tables read from the record, as PostgreSQL holds them: the query it runs, and the columns with their
 * DuckDB types (PRICE, DISCOUNT, SHIPPING and UNIT_COST stand for this version's exact decimals of each).
 */
interface RecordTable {
  table: string;
  query: string;
  columns: Record<string, string>;
}

const RECORD_TABLES: RecordTable[] = [
  {
    table: 'items',
    query: 'SELECT order_id, product_id, quantity, unit_price, discount, shipping_cost, unit_cost FROM order_items',
    columns: {
      order_id: 'INTEGER',
      product_id: 'INTEGER',
      quantity: 'INTEGER',
      unit_price: 'PRICE',
      discount: 'DISCOUNT',
      shipping_cost: 'SHIPPING',
      unit_cost: 'UNIT_COST',
    },
  },
  {
    table: 'orders',
    query: 'SELECT order_id, customer_id, region_id, sale_date FROM orders',
    columns: { order_id: 'INTEGER', customer_id: 'INTEGER', region_id: 'INTEGER', sale_date: 'DATE' },
  },
  {
    table: 'products',
    query: 'SELECT product_id, code, name, category_id FROM products',
    columns: { product_id: 'INTEGER', code: 'VARCHAR', name: 'VARCHAR', category_id: 'INTEGER' },
  },
  {
    table: 'customers',
    query: 'SELECT customer_id, code, name, email FROM customers',
    columns: { customer_id: 'INTEGER', code: 'VARCHAR', name: 'VARCHAR', email: 'VARCHAR' },
  },
  {
    table: 'categories',
    query: 'SELECT category_id, name FROM categories',
    columns: { category_id: 'INTEGER', name: 'VARCHAR' },
  },
  { table: 'regions', query: 'SELECT region_id, name FROM regions', columns: { region_id: 'INTEGER', name: 'VARCHAR' } },
];

/**
 * The decimal places of each input figure of this version, the whole digits of its largest line figure
 * (discounts are fractions: no figure exceeds the gross, the shipping or the cost), and the lines: no sum of
 * money has more whole digits than the largest figure's and the count's together.
 */
const FIGURE_BOUNDS = (where = '') => `
SELECT count(*)::float8 AS lines, coalesce(max(scale(unit_price)), 0) AS price, coalesce(max(scale(discount)), 0) AS discount,
       coalesce(max(scale(shipping_cost)), 0) AS shipping, coalesce(max(scale(unit_cost)), 0) AS unit_cost,
       length(trunc(greatest(coalesce(max(quantity * unit_price), 0), coalesce(max(shipping_cost), 0),
                             coalesce(max(quantity * unit_cost), 0)))::text) AS digits
FROM order_items ${where}`;

interface FigureBounds {
  lines: number;
  price: number;
  discount: number;
  shipping: number;
  unit_cost: number;
  digits: number;
}

/** The bounds of a version's lines and of lines added to them. */
function addBounds(a: FigureBounds, b: FigureBounds): FigureBounds {
  return {
    lines: a.lines + b.lines,
    price: Math.max(a.price, b.price),
    discount: Math.max(a.discount, b.discount),
    shipping: Math.max(a.shipping, b.shipping),
    unit_cost: Math.max(a.unit_cost, b.unit_cost),
    digits: Math.max(a.digits, b.digits),
  };
}

/** The narrowest exact decimal of `digits` whole digits and `scale` places. */
function decimal(digits: number, scale: number): string {
  if (digits + scale > MAX_PRECISION) {
    throw new Error(
      `figures of ${digits} whole digits and ${scale} decimal places do not fit DuckDB's exact decimals (38 digits)`,
    );
  }
  return `DECIMAL(${digits + scale <= NARROW_PRECISION ? NARROW_PRECISION : MAX_PRECISION}, ${scale})`;
}

/**
 * The types of this version's figures: each input as read, the money of the facts, whose places are those
 * of a price and a discount together (a line's discount and revenue) or of any figure, and the rollups' sums
 * of it (TOTAL: 38 digits when they need more than 18; a sum past 38 fails the build, as DuckDB checks).
 */
function figureTypes(bounds: FigureBounds): Record<string, string> {
  const scale = Math.max(2, bounds.price + bounds.discount, bounds.shipping, bounds.unit_cost);
  const totalDigits = bounds.digits + String(bounds.lines).length;
  return {
    PRICE: decimal(bounds.digits, bounds.price),
    DISCOUNT: decimal(1, bounds.discount),
    SHIPPING: decimal(bounds.digits, bounds.shipping),
    UNIT_COST: decimal(bounds.digits, bounds.unit_cost),
    MONEY: decimal(bounds.digits, scale),
    TOTAL: `DECIMAL(${totalDigits + scale <= NARROW_PRECISION ? NARROW_PRECISION : MAX_PRECISION}, ${scale})`,
  };
}

/**
 * One row per order line with what the rollups group by and its figures (line-figures.ts), in date order:
 * products of exact decimals, computed in 38 digits and kept in the version's money type, exact.
 */
const FACTS = (money: string, tables = { items: 'items', orders: 'orders' }) => `
SELECT o.sale_date, i.order_id, i.product_id, o.customer_id, o.region_id, p.category_id, i.quantity,
       f.gross::${money} AS gross, f.discount::${money} AS discount, (f.gross - f.discount)::${money} AS revenue,
       i.shipping_cost::${money} AS shipping_cost, (i.quantity::DECIMAL(38, 0) * i.unit_cost)::${money} AS cost,
       i.unit_cost::${money} AS unit_cost
FROM ${tables.items} i JOIN ${tables.orders} o USING (order_id) JOIN products p USING (product_id),
LATERAL (SELECT i.quantity::DECIMAL(38, 0) * i.unit_price AS gross,
                i.quantity::DECIMAL(38, 0) * i.unit_price * i.discount AS discount) f
ORDER BY o.sale_date`;

/**
 * Removes every published version but the newest (which may be another builder's, newer than ours). A server
 * still answering from one keeps reading it: the file goes when its last reader closes it (POSIX unlink).
 */
async function removeOlder(directory: string): Promise<void> {
  const [, ...older] = await publishedVersions(directory);
  for (const version of older) await fs.rm(snapshotFile(directory, version), { force: true });
}

async function copyOut(client: PoolClient, query: string, file: string): Promise<void> {
  await pipeline(client.query(copyTo(`COPY (${query}) TO STDOUT (FORMAT csv)`)), createWriteStream(file));
}

/** Reads the committed record as of one moment and writes its snapshot; returns the published file. */
export async function buildSnapshot(pool: Pool, directory: string, limits: SnapshotLimits): Promise<BuiltSnapshot> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    return await buildSnapshotFrom(client, directory, limits);
  } catch (error) {
    broken = error as Error;
    throw error;
  } finally {
    client.release(broken);
  }
}

/** What a build read of the record, in one transaction: its version and the bounds and types of its figures. */
interface RecordRead {
  version: number;
  types: Record<string, string>;
  bounds: FigureBounds;
}

const sqlText = (text: string) => `'${text.replaceAll("'", "''")}'`;

/** Reads `tables` of the record into `work` as CSV files, in the caller's transaction. */
async function readTables(client: PoolClient, work: string, tables: RecordTable[], where: Record<string, string> = {}) {
  for (const { table, query } of tables) await copyOut(client, `${query} ${where[table] ?? ''}`, path.join(work, `${table}.csv`));
}

/** Loads the CSV files of `tables` into DuckDB tables named `prefix` + table, typed for the version. */
async function loadTables(
  db: DuckDBConnection,
  work: string,
  types: Record<string, string>,
  tables: Pick<RecordTable, 'table' | 'columns'>[],
  prefix = '',
) {
  for (const { table, columns } of tables) {
    const typed = Object.entries(columns).map(([name, type]) => [name, types[type] ?? type]);
    await db.run(`CREATE TABLE ${prefix}${table} (${typed.map(([name, type]) => `${name} ${type}`).join(', ')})`);
    const file = path.join(work, `${table}.csv`);
    // DuckDB's CSV reader refuses an empty file: an empty table stays as created.
    if ((await fs.stat(file)).size === 0) continue;
    const columnTypes = typed.map(([name, type]) => `'${name}': '${type}'`).join(', ');
    await db.run(
      `INSERT INTO ${prefix}${table} SELECT * FROM read_csv(${sqlText(file)}, header = false, columns = {${columnTypes}})`,
    );
  }
}

/**
 * The version's own row: what it is, when it was built and in how many seconds (from the build's start, as
 * `performance.now()` read it, to this row), and the bounds of its figures, which its increments widen.
 */
const SNAPSHOT_ROW = (read: RecordRead, started: number) => `
SELECT ${read.version}::BIGINT AS version, now() AS built_at,
       ${((performance.now() - started) / 1000).toFixed(3)}::DOUBLE AS build_seconds, ${read.bounds.lines}::BIGINT AS lines,
       ${read.bounds.price} AS price, ${read.bounds.discount} AS discount, ${read.bounds.shipping} AS shipping,
       ${read.bounds.unit_cost} AS unit_cost, ${read.bounds.digits} AS digits`;

async function openBuilding(file: string, work: string, limits: SnapshotLimits): Promise<DuckDBInstance> {
  return DuckDBInstance.create(file, {
    threads: String(limits.threads),
    memory_limit: limits.memoryLimit,
    temp_directory: path.join(work, 'spill'),
  });
}

/** Checkpoints and closes the file (all of it on disk, none in a WAL). */
async function finish(instance: DuckDBInstance, db: DuckDBConnection): Promise<void> {
  try {
    await db.run('CHECKPOINT');
    db.closeSync();
  } finally {
    instance.closeSync();
  }
}

/** The whole snapshot of the record's current version, written as `building`. */
async function buildWhole(
  client: PoolClient,
  work: string,
  building: string,
  limits: SnapshotLimits,
  started: number,
): Promise<number> {
  let read: RecordRead;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const version = Number((await client.query('SELECT version FROM data_version')).rows[0].version);
    const bounds = (await client.query(FIGURE_BOUNDS())).rows[0];
    read = { version, bounds, types: figureTypes(bounds) };
    await readTables(client, work, RECORD_TABLES);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }

  const instance = await openBuilding(building, work, limits);
  const db = await instance.connect();
  try {
    await loadTables(db, work, read.types, RECORD_TABLES);
    await db.run(`CREATE TABLE facts AS ${FACTS(read.types.MONEY)}`);
    await db.run('DROP TABLE items; DROP TABLE orders');
    for (const { table, select } of snapshotRollups(read.types.TOTAL)) await db.run(`CREATE TABLE ${table} AS ${select}`);
    await db.run(`CREATE TABLE snapshot AS ${SNAPSHOT_ROW(read, started)}`);
  } finally {
    await finish(instance, db);
  }
  return read.version;
}

/** The tables an increment reads whole: the dimensions, which a load may rename, add to or remove from. */
const DIMENSIONS = RECORD_TABLES.filter(({ table }) => table !== 'items' && table !== 'orders');
/** The tables an increment reads the changed orders of. */
const CHANGED = RECORD_TABLES.filter(({ table }) => table === 'items' || table === 'orders');

/** The keys of the periods a fact falls in, per period column. */
const PERIODS: Record<string, string> = {
  sale_date: 'sale_date',
  month: `date_trunc('month', sale_date)::DATE`,
  year: `date_trunc('year', sale_date)::DATE`,
};

/** The bounds a snapshot was built for (its own row); undefined for a snapshot of an earlier build that kept none. */
async function snapshotBounds(db: DuckDBConnection): Promise<FigureBounds | undefined> {
  const reader = await db
    .runAndReadAll('SELECT lines::DOUBLE AS lines, price, discount, shipping, unit_cost, digits FROM snapshot')
    .catch(() => undefined);
  return reader?.getRowObjects()[0] as unknown as FigureBounds | undefined;
}

/**
 * The snapshot of the record's current version as the previous version's with the facts of the orders that
 * the version changed made again, written as `building`; undefined when it must be built whole (the load did
 * not record what it changed, the previous snapshot is not here or does not open, a product changed category,
 * or the figures need other decimals).
 */
async function buildIncrement(
  client: PoolClient,
  directory: string,
  work: string,
  building: string,
  limits: SnapshotLimits,
  started: number,
): Promise<number | undefined> {
  let version: number;
  let onlyAdded: boolean;
  let read: FigureBounds;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const { rows } = await client.query('SELECT version, changed_orders, only_added FROM data_version');
    version = Number(rows[0].version);
    onlyAdded = rows[0].only_added === true;
    // Copied only for a version whose changes were recorded: at 10M lines the file is 445 MB.
    const copied =
      rows[0].changed_orders !== null &&
      (await fs.copyFile(snapshotFile(directory, version - 1), building).then(
        () => true,
        () => false,
      ));
    if (!copied) {
      await client.query('ROLLBACK');
      return undefined;
    }
    const changed = `SELECT order_id FROM version_orders WHERE version = ${version}`;
    const where = `WHERE order_id IN (${changed})`;
    // Lines only added: the previous bounds still hold, widened by the changed orders' lines. Else read whole.
    read = (await client.query(FIGURE_BOUNDS(onlyAdded ? where : ''))).rows[0];
    await copyOut(client, changed, path.join(work, 'changed.csv'));
    await readTables(client, work, CHANGED, { items: where, orders: where });
    await readTables(client, work, DIMENSIONS);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }

  const instance = await openBuilding(building, work, limits).catch(() => undefined);
  if (!instance) return undefined;
  const db = await instance.connect();
  try {
    const before = await snapshotBounds(db);
    if (!before) return undefined;
    await loadTables(db, work, {}, [{ table: 'changed', columns: { order_id: 'INTEGER' } }]);
    const removed = Number(
      (
        await db.runAndReadAll('SELECT count(*)::DOUBLE FROM facts WHERE order_id IN (SELECT order_id FROM changed)')
      ).getRows()[0][0],
    );
    const bounds = onlyAdded ? { ...addBounds(before, read), lines: before.lines - removed + read.lines } : read;
    const types = figureTypes(bounds);
    if (JSON.stringify(types) !== JSON.stringify(figureTypes(before))) return undefined;

    await loadTables(db, work, types, RECORD_TABLES, 'new_');
    const recategorised = await db.runAndReadAll(
      'SELECT count(*)::INTEGER FROM new_products n JOIN products p USING (product_id) WHERE n.category_id <> p.category_id',
    );
    if (recategorised.getRows()[0][0] !== 0) return undefined;
    for (const { table } of DIMENSIONS) await db.run(`DELETE FROM ${table}; INSERT INTO ${table} SELECT * FROM new_${table}`);
    await db.run(`CREATE TABLE added_facts AS ${FACTS(types.MONEY, { items: 'new_items', orders: 'new_orders' })}`);
    await db.run(
      `CREATE TABLE removed_facts AS SELECT sale_date, customer_id FROM facts WHERE order_id IN (SELECT order_id FROM changed)`,
    );
    // The customers whose days change, and their days as they were: the difference corrects customers_by_day.
    await db.run(`CREATE TABLE changed_customers AS
      SELECT customer_id FROM added_facts UNION SELECT customer_id FROM removed_facts`);
    const customers = 'WHERE customer_id IN (SELECT customer_id FROM changed_customers)';
    await db.run(`CREATE TABLE customer_days_before AS ${CUSTOMER_DAYS(customers)}`);
    await db.run('DELETE FROM facts WHERE order_id IN (SELECT order_id FROM changed)');
    await db.run('INSERT INTO facts SELECT * FROM added_facts ORDER BY sale_date');
    // The changed periods as a list of constants: a filter the scans of the facts and the rollups prune row
    // groups by. A rollup whose periods (or customers) changed for the most part is made whole: cheaper.
    const periods: Record<string, { where: string; most: boolean }> = {};
    for (const [column, key] of Object.entries(PERIODS)) {
      const found = await db.runAndReadAll(
        `SELECT DISTINCT ${key}::VARCHAR FROM (SELECT sale_date FROM added_facts UNION ALL SELECT sale_date FROM removed_facts)`,
      );
      const days = found.getRows().map(([day]) => `'${day}'::DATE`);
      const all = Number((await db.runAndReadAll(`SELECT count(DISTINCT ${key})::DOUBLE FROM facts`)).getRows()[0][0]);
      periods[column] = { where: days.length === 0 ? 'false' : `${column} IN (${days.join(', ')})`, most: 2 * days.length > all };
    }
    const [[changedCustomers, allCustomers]] = (
      await db.runAndReadAll(
        'SELECT (SELECT count(*) FROM changed_customers)::DOUBLE, (SELECT count(DISTINCT customer_id) FROM facts)::DOUBLE',
      )
    ).getRows() as number[][];
    for (const { table, select, increment } of snapshotRollups(types.TOTAL)) {
      const most = increment === 'customer days' ? 2 * changedCustomers > allCustomers : periods[increment]?.most;
      if (increment === 'whole' || most) {
        await db.run(`CREATE OR REPLACE TABLE ${table} AS ${select}`);
      } else if (increment === 'customer days') {
        await db.run(`
          CREATE TABLE customers_by_day_now AS
          SELECT sale_date, previous_sale_date, sum(customers)::INTEGER AS customers
          FROM (SELECT sale_date, previous_sale_date, customers FROM ${table}
                UNION ALL SELECT sale_date, previous_sale_date, -1 FROM customer_days_before
                UNION ALL SELECT sale_date, previous_sale_date, 1 FROM (${CUSTOMER_DAYS(customers)}))
          GROUP BY ALL HAVING sum(customers) <> 0;
          DELETE FROM ${table};
          INSERT INTO ${table} SELECT * FROM customers_by_day_now ORDER BY sale_date;
          DROP TABLE customers_by_day_now`);
      } else {
        const { where } = periods[increment];
        await db.run(
          `DELETE FROM ${table} WHERE ${where}; INSERT INTO ${table} SELECT * FROM (${select}) WHERE ${where} ORDER BY ${increment}`,
        );
      }
    }
    for (const table of ['changed', 'added_facts', 'removed_facts', 'changed_customers', 'customer_days_before']) {
      await db.run(`DROP TABLE ${table}`);
    }
    for (const { table } of RECORD_TABLES) await db.run(`DROP TABLE new_${table}`);
    await db.run(`CREATE OR REPLACE TABLE snapshot AS ${SNAPSHOT_ROW({ version, bounds, types }, started)}`);
    return version;
  } finally {
    await finish(instance, db);
  }
}

/**
 * The same from a session of any database that holds the record (the primary, or a replica), in one
 * transaction of its own; the session is the caller's to release. Published in `base`'s folder of the
 * database (identity.ts).
 */
export async function buildSnapshotFrom(client: PoolClient, base: string, limits: SnapshotLimits): Promise<BuiltSnapshot> {
  const started = performance.now();
  const directory = path.join(base, await databaseKey(client));
  await fs.mkdir(directory, { recursive: true });
  const work = await createOwnedDirectory(directory, 'building-');
  try {
    const building = path.join(work, 'snapshot.duckdb');
    let made: BuiltSnapshot['made'] = 'increment';
    let version = await buildIncrement(client, directory, work, building, limits, started);
    if (version === undefined) {
      made = 'whole';
      await fs.rm(building, { force: true });
      await fs.rm(`${building}.wal`, { force: true });
      version = await buildWhole(client, work, building, limits, started);
    }
    // Published by a hard link, which fails when the name exists: two builders of one version (a loader and a
    // server on its replica, say) never replace a file that a server may have open; the second one's goes.
    const file = snapshotFile(directory, version);
    await fs.link(building, file).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
    await removeOlder(directory);
    return { version, file, ms: Math.round(performance.now() - started), made };
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}
