// A load into an empty database (no orders, lines, products or customers), the first load of any deployment:
// the loader numbers orders, products and customers itself and COPYs order lines straight into order_items
// while the file streams, into tables whose keys and indexes are dropped for the load and created again
// before the commit (one sort per index, one set-based pass per foreign key). Each part's orders follow it;
// products and customers follow the file.
import type { PoolClient } from 'pg';
import { copyText, copyValue } from '../../db/copy.js';
import type { Accepted, FileState } from '../3-rows/file-state.js';
import type { SaleLine } from '../3-rows/validate-line.js';
import { type Statement, type StepOptions, step } from '../steps.js';
import type { StreamedFile, StreamOptions } from '../stream-rows.js';
import { LineSink, lineFigures } from './line-sink.js';

/** The record's tables that hold the file's rows (the small name tables aside). */
export const FACT_TABLES = ['orders', 'order_items', 'products', 'customers'];

/** Whether the database holds no sales, products or customers: a first load. */
export const IS_EMPTY = `
SELECT NOT EXISTS (SELECT FROM orders) AND NOT EXISTS (SELECT FROM order_items) AND NOT EXISTS (SELECT FROM products)
   AND NOT EXISTS (SELECT FROM customers) AS empty`;

/**
 * The keys and indexes of the bulk tables and the foreign keys that reference them: per key or index, the
 * statement that drops it and the one that creates it again, in the order to drop them (foreign keys, plain
 * indexes, primary and unique keys); create them in reverse.
 */
const KEYS_AND_INDEXES = `
SELECT relation::regclass::text AS relation, drop_statement, create_statement FROM (
  SELECT conrelid AS relation, format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname) AS drop_statement,
         format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname, pg_get_constraintdef(oid)) AS create_statement,
         CASE contype WHEN 'f' THEN 1 ELSE 3 END AS phase
  FROM pg_constraint
  WHERE contype IN ('p', 'u', 'f') AND (conrelid = ANY ($1::regclass[]) OR confrelid = ANY ($1::regclass[]))
  UNION ALL
  SELECT indrelid, format('DROP INDEX %s', indexrelid::regclass), pg_get_indexdef(indexrelid), 2
  FROM pg_index i
  WHERE indrelid = ANY ($1::regclass[]) AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u'))
) AS definitions
ORDER BY phase, drop_statement`;

interface KeyDefinition {
  relation: string;
  drop_statement: string;
  create_statement: string;
}

const COPY_ORDER_ITEMS = `COPY order_items (order_id, product_id, quantity, unit_price, discount, shipping_cost, unit_cost, attributes) FROM STDIN`;
const COPY_PRODUCTS = `COPY products (product_id, code, name, category_id) FROM STDIN`;
const COPY_CUSTOMERS = `COPY customers (customer_id, code, name, email, address) FROM STDIN`;
const COPY_ORDERS = `COPY orders (order_id, code, customer_id, region_id, payment_method_id, sale_date) FROM STDIN`;

/** Lines of a key the file repeats: all rows of those keys go, the winning row comes back. */
const DELETE_REPEATED_LINES = `
DELETE FROM order_items i USING unnest($1::integer[], $2::integer[]) AS r (order_id, product_id)
WHERE i.order_id = r.order_id AND i.product_id = r.product_id`;

/** Adds the names a small dimension does not hold yet; returns the ids of all of them. */
const nameIds = (table: string, id: string) => `
WITH added AS (
  INSERT INTO ${table} (name) SELECT unnest($1::text[]) ON CONFLICT (name) DO NOTHING RETURNING name, ${id}
)
SELECT name, ${id} AS id FROM added UNION ALL SELECT name, ${id} FROM ${table} WHERE name = ANY ($1)`;

/** Identity sequences continue after the ids the load gave. */
const CONTINUE_SEQUENCES = ['orders.order_id', 'products.product_id', 'customers.customer_id']
  .map((column) => {
    const [table, id] = column.split('.');
    return `SELECT setval(pg_get_serial_sequence('${table}', '${id}'), max(${id})) FROM ${table};`;
  })
  .join('\n');

/** The planner's statistics: without them every range part is estimated at a few rows (autovacuum may be off). */
export const analyzeTables = (tables: Iterable<string>) => `ANALYZE ${[...tables].join(', ')}`;

/** A replace into an empty database: only small dimensions can be left over. */
const DELETE_UNUSED_NAMES = `
DELETE FROM categories c WHERE NOT EXISTS (SELECT FROM products p WHERE p.category_id = c.category_id);
DELETE FROM regions r WHERE NOT EXISTS (SELECT FROM orders o WHERE o.region_id = r.region_id);
DELETE FROM payment_methods m WHERE NOT EXISTS (SELECT FROM orders o WHERE o.payment_method_id = m.payment_method_id)`;

const LOCK_NOT_AVAILABLE = '55P03';

/**
 * Takes every bulk table's exclusive lock at once, or none when a reader holds one of them: waiting for it
 * while holding the others could deadlock with that reader's next statement. False: load the other way.
 */
export async function lockBulkTables(exec: Statement): Promise<boolean> {
  await exec('savepoint before locking', 'SAVEPOINT bulk_lock');
  try {
    await exec('lock bulk tables', `LOCK TABLE ${FACT_TABLES.join(', ')} IN ACCESS EXCLUSIVE MODE NOWAIT`);
    return true;
  } catch (error) {
    if ((error as { code?: string }).code !== LOCK_NOT_AVAILABLE) throw error;
    await exec('rollback to savepoint', 'ROLLBACK TO SAVEPOINT bulk_lock');
    return false;
  }
}

// Ids are the file's indexes + 1: the tables are empty.
const idOf = (index: number) => index + 1;

function itemRow(order: number, product: number, row: SaleLine): string {
  return `${idOf(order)}\t${idOf(product)}\t${lineFigures(row)}`;
}

/**
 * Streams kept rows into order_items (a repeated line key's winner at the end) and rejected ones into
 * refresh_rejects; after each part of the file, its orders into orders.
 */
class TableSink extends LineSink {
  /** Line keys the file repeats, with the winning row so far. */
  readonly repeated = new Map<string, { order: number; product: number; row: string }>();

  constructor(
    client: PoolClient,
    runId: number,
    private readonly options: StepOptions,
  ) {
    super(client, runId, COPY_ORDER_ITEMS);
  }

  async endPart(state: FileState): Promise<void> {
    await this.between(() => step(this.options, 'copy orders', () => copyOrders(this.client, state)));
    state.releasePartCodes();
  }

  keep(_line: number, row: SaleLine, { order, product, supersedes }: Accepted): void {
    const text = itemRow(order, product, row);
    // The first row of a repeated key is already in the table; the last one replaces it at the end.
    if (supersedes !== undefined) this.repeated.set(`${order},${product}`, { order, product, row: text });
    else this.lines += text;
  }

  /** Deletes every row of the repeated keys and writes each key's winning row. */
  async replaceRepeated(exec: Statement): Promise<void> {
    if (this.repeated.size === 0) return;
    const winners = [...this.repeated.values()];
    await exec('delete repeated lines', DELETE_REPEATED_LINES, [
      winners.map((w) => idOf(w.order)),
      winners.map((w) => idOf(w.product)),
    ]);
    await copyText(
      this.client,
      COPY_ORDER_ITEMS,
      winners.map((w) => w.row),
    );
  }
}

async function idsOfNames(client: PoolClient, table: string, id: string, names: string[]): Promise<Int32Array> {
  const { rows } = await client.query<{ name: string; id: number }>(nameIds(table, id), [names]);
  const byName = new Map(rows.map((row) => [row.name, row.id]));
  return Int32Array.from(names, (name) => byName.get(name)!);
}

/** Products and customers, numbered by their indexes in the file. */
async function copyDimensions(client: PoolClient, state: FileState, categories: Int32Array) {
  const v = copyValue;
  await copyText(
    client,
    COPY_PRODUCTS,
    (function* () {
      let index = 0;
      for (const [code, product] of state.products()) {
        yield `${idOf(index)}\t${v(code)}\t${v(product.name)}\t${categories[state.productCategory(index)]}\n`;
        index++;
      }
    })(),
  );
  await copyText(
    client,
    COPY_CUSTOMERS,
    (function* () {
      let index = 0;
      for (const [code, c] of state.customers())
        yield `${idOf(index++)}\t${v(code)}\t${v(c.name)}\t${v(c.email)}\t${v(c.address)}\n`;
    })(),
  );
}

/** The orders of the state's part, numbered by their indexes in the file. */
async function copyOrders(client: PoolClient, state: FileState) {
  const regions = await idsOfNames(client, 'regions', 'region_id', state.regions.names);
  const payments = await idsOfNames(client, 'payment_methods', 'payment_method_id', state.payments.names);
  const v = copyValue;
  const orders = state.orderColumns();
  const days = state.days.names;
  const first = state.firstOrder;
  await copyText(
    client,
    COPY_ORDERS,
    (function* () {
      let index = 0;
      for (const code of state.orderCodes()) {
        yield `${idOf(first + index)}\t${v(code)}\t${idOf(orders.customer[index])}\t${regions[orders.region[index]]}\t${
          payments[orders.payment[index]]
        }\t${days[orders.day[index]]}\n`;
        index++;
      }
    })(),
  );
}

export interface FreshLoadOptions extends StreamOptions {
  mode: 'append' | 'replace';
  runId: number;
}

/**
 * Loads a file into an empty database whose bulk tables this transaction has locked (lockBulkTables).
 * Returns what was streamed; every kept line is inserted.
 */
export async function loadIntoEmptyDatabase(
  client: PoolClient,
  exec: Statement,
  file: string,
  options: FreshLoadOptions,
): Promise<StreamedFile> {
  const { rows: keys } = await exec('read keys and indexes', KEYS_AND_INDEXES, [FACT_TABLES]);
  for (const key of keys) await exec(key.drop_statement, key.drop_statement);

  const sink = new TableSink(client, options.runId, options);
  const streamed = await step(options, 'stream file into order_items', () => sink.stream(file, options));
  const { state } = streamed;
  await sink.replaceRepeated(exec);
  options.signal?.throwIfAborted();

  const categories = await idsOfNames(client, 'categories', 'category_id', state.categories.names);
  await step(options, 'copy products, customers', () => copyDimensions(client, state, categories));
  await exec('continue identity sequences', CONTINUE_SEQUENCES);
  state.releaseCodes();

  // One multi-statement query: no round trip between the keys and indexes.
  const creates = (keys as KeyDefinition[])
    .reverse()
    .map((key) => key.create_statement)
    .join(';\n');
  await exec('create keys and indexes', `${creates};\n${analyzeTables(FACT_TABLES)}`);
  options.signal?.throwIfAborted();
  if (options.mode === 'replace') await exec('delete unused names', DELETE_UNUSED_NAMES);
  return streamed;
}
