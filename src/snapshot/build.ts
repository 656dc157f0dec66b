// Builds the analytics snapshot of one committed version of the record: a DuckDB file holding the facts in
// date order (zone maps skip the row groups outside a range), the dimensions the answers name, and the
// rollups (rollups.ts). Read from PostgreSQL in one snapshot-isolated transaction, so every table is of the
// same version; written under a temporary name, checkpointed and closed, then published by a link: a file
// a server has open is never written or replaced.
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Pool, PoolClient } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { createOwnedDirectory } from '../owned-directory.js';
import { databaseKey } from './identity.js';
import { snapshotRollups } from './rollups.js';
import { publishedVersions } from './store.js';

export interface SnapshotLimits {
  threads: number;
  memoryLimit: string;
}

export interface BuiltSnapshot {
  version: number;
  file: string;
  ms: number;
}

/** The file a version is published as. */
export const snapshotFile = (directory: string, version: number) => path.join(directory, `v${version}.duckdb`);

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
const RECORD_TABLES = [
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
const FIGURE_BOUNDS = `
SELECT count(*) AS lines, coalesce(max(scale(unit_price)), 0) AS price, coalesce(max(scale(discount)), 0) AS discount,
       coalesce(max(scale(shipping_cost)), 0) AS shipping, coalesce(max(scale(unit_cost)), 0) AS unit_cost,
       length(trunc(greatest(coalesce(max(quantity * unit_price), 0), coalesce(max(shipping_cost), 0),
                             coalesce(max(quantity * unit_cost), 0)))::text) AS digits
FROM order_items`;

interface FigureBounds {
  lines: number;
  price: number;
  discount: number;
  shipping: number;
  unit_cost: number;
  digits: number;
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
const FACTS = (money: string) => `
CREATE TABLE facts AS
SELECT o.sale_date, i.order_id, i.product_id, o.customer_id, o.region_id, p.category_id, i.quantity,
       f.gross::${money} AS gross, f.discount::${money} AS discount, (f.gross - f.discount)::${money} AS revenue,
       i.shipping_cost::${money} AS shipping_cost, (i.quantity::DECIMAL(38, 0) * i.unit_cost)::${money} AS cost,
       i.unit_cost::${money} AS unit_cost
FROM items i JOIN orders o USING (order_id) JOIN products p USING (product_id),
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
    let version: number;
    let types: Record<string, string>;
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      version = Number((await client.query('SELECT version FROM data_version')).rows[0].version);
      types = figureTypes((await client.query(FIGURE_BOUNDS)).rows[0]);
      for (const { table, query } of RECORD_TABLES) await copyOut(client, query, path.join(work, `${table}.csv`));
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }

    const building = path.join(work, 'snapshot.duckdb');
    const instance = await DuckDBInstance.create(building, {
      threads: String(limits.threads),
      memory_limit: limits.memoryLimit,
      temp_directory: path.join(work, 'spill'),
    });
    try {
      const db = await instance.connect();
      for (const { table, columns } of RECORD_TABLES) {
        const typed = Object.entries(columns).map(([name, type]) => [name, types[type] ?? type]);
        await db.run(`CREATE TABLE ${table} (${typed.map(([name, type]) => `${name} ${type}`).join(', ')})`);
        const file = path.join(work, `${table}.csv`);
        // DuckDB's CSV reader refuses an empty file: an empty table stays as created.
        if ((await fs.stat(file)).size === 0) continue;
        const columnTypes = typed.map(([name, type]) => `'${name}': '${type}'`).join(', ');
        await db.run(
          `INSERT INTO ${table} SELECT * FROM read_csv('${file.replaceAll("'", "''")}', header = false, columns = {${columnTypes}})`,
        );
      }
      await db.run(FACTS(types.MONEY));
      await db.run('DROP TABLE items; DROP TABLE orders');
      for (const { table, select } of snapshotRollups(types.TOTAL)) await db.run(`CREATE TABLE ${table} AS ${select}`);
      await db.run(`CREATE TABLE snapshot AS SELECT ${version}::BIGINT AS version, now() AS built_at`);
      await db.run('CHECKPOINT');
      db.closeSync();
    } finally {
      instance.closeSync();
    }
    // Published by a hard link, which fails when the name exists: two builders of one version (a loader and a
    // server on its replica, say) never replace a file that a server may have open; the second one's goes.
    const file = snapshotFile(directory, version);
    await fs.link(building, file).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
    await removeOlder(directory);
    return { version, file, ms: Math.round(performance.now() - started) };
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}
