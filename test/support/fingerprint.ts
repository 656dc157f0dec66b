// A fingerprint of everything a load writes: per table, its row count and a hash of its rows, each surrogate key
// replaced by the code or name it stands for. Two databases that hold the same data compare equal even when
// their keys differ (a rolled-back load still draws from the identity sequences), and any row a load left
// behind, in the facts, a rollup, the names, the rejects or the data version, makes them differ.
import type { Pool } from 'pg';

/** Each surrogate key as the natural key it stands for. */
const NATURAL_KEY: Record<string, string> = {
  order_id: '(SELECT code FROM orders k WHERE k.order_id = t.order_id)',
  product_id: '(SELECT code FROM products k WHERE k.product_id = t.product_id)',
  customer_id: '(SELECT code FROM customers k WHERE k.customer_id = t.customer_id)',
  region_id: '(SELECT name FROM regions k WHERE k.region_id = t.region_id)',
  category_id: '(SELECT name FROM categories k WHERE k.category_id = t.category_id)',
  payment_method_id: '(SELECT name FROM payment_methods k WHERE k.payment_method_id = t.payment_method_id)',
};

/** Run bookkeeping changes by design when a load fails; the migration log never changes here. */
const NOT_DATA = ['refresh_runs', 'schema_migrations'];

export type Fingerprint = Record<string, { rows: number; hash: string }>;

export async function fingerprint(pool: Pool): Promise<Fingerprint> {
  const { rows: columns } = await pool.query<{ table_name: string; column_name: string; data_type: string }>(
    `SELECT table_name, column_name, data_type FROM information_schema.columns
     WHERE table_schema = 'public' AND table_name <> ALL ($1) ORDER BY table_name, ordinal_position`,
    [NOT_DATA],
  );
  const tables = new Map<string, string[]>();
  for (const { table_name: table, column_name: column, data_type: type } of columns) {
    // A reject's run id and the time of the last load say when, not what.
    if (column === 'run_id' || type.startsWith('timestamp')) continue;
    tables.set(table, [...(tables.get(table) ?? []), NATURAL_KEY[column] ?? `t.${column}`]);
  }
  const result: Fingerprint = {};
  for (const [table, values] of tables) {
    const row = `row(${values.join(', ')})::text`;
    const { rows } = await pool.query(
      `SELECT count(*)::integer AS rows, md5(coalesce(string_agg(r, E'\\n' ORDER BY r COLLATE "C"), '')) AS hash
       FROM (SELECT ${row} AS r FROM ${table} t) rows`,
    );
    result[table] = rows[0];
  }
  return result;
}
