// npm run bench:partitions: the facts (orders, order_items) as the migrations define them against the same
// facts declared PARTITION BY RANGE on the sale date (one partition per month), in one scratch database on
// DATABASE_URL's server (default: the machine's PostgreSQL at 127.0.0.1:5432), dropped at the end.
//   1. the real schema (the migrations) in `public`; N generated order lines (BENCH_ROWS, default 10,000,000):
//      orders of 1-5 lines (3 on average) over six years, busier towards the end, ids in date order (as an
//      export and the daily appends store them); the same rows in schema `parted`, partitioned by month
//   2. sizes, the first VACUUM after the bulk write, a VACUUM with nothing to do
//   3. reads of the facts: a rolling 30-day and 365-day revenue by region and the loader's match of 50k order
//      codes to stored orders and lines, each variant with search_path to its own facts
//   4. a replace of the orders of the last 1 and 3 months, in one transaction as the loader writes it (delete
//      the lines and orders no longer in the file, insert the file's new ones), then VACUUM; for the
//      partitioned facts also the swap of whole month partitions (detach and drop, attach freshly built ones)
// Each figure is the median of BENCH_REPS runs (default 3); the variants alternate within a repetition.
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { migrate } from '../src/db/migrate.js';
import { createLogger } from '../src/logger.js';

const rows = Number(process.env.BENCH_ROWS ?? 10_000_000);
const reps = Number(process.env.BENCH_REPS ?? 3);
const baseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const database = `bench_partitions_${process.pid}`;
const logger = createLogger('warn').logger;

const FIRST_DAY = '2021-01-01';
const LAST_DAY = '2026-11-30';
const PRODUCTS = 2000;
const CUSTOMERS = Math.max(1000, Math.round(rows / 40));
const ORDERS = Math.round(rows / 3);
type Variant = 'plain' | 'parted';
const VARIANTS: Variant[] = ['plain', 'parted'];

const seconds = (ms: number) => (ms / 1000).toFixed(2);
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const results: { step: string; plain: number[]; parted: number[] }[] = [];
function record(step: string, variant: Variant, ms: number) {
  let row = results.find((r) => r.step === step);
  if (!row) {
    row = { step, plain: [], parted: [] };
    results.push(row);
  }
  row[variant].push(ms);
  console.log(`  ${step} [${variant}]: ${seconds(ms)} s`);
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const value = await work();
  return [value, performance.now() - started];
}

/** Orders `first`..`first + count - 1`, their days spread from `from` over `days` days in id order. */
function ordersSql(
  schema: string,
  first: number,
  count: number,
  from: string,
  days: number,
  codePrefix: string,
  growth: boolean,
) {
  const spread = growth ? `sqrt((g - ${first})::float8 / ${count})` : `(g - ${first})::float8 / ${count}`;
  return `INSERT INTO ${schema}.orders (order_id, code, customer_id, region_id, payment_method_id, sale_date)
    SELECT g, '${codePrefix}' || g, 1 + (g::bigint * 7919) % ${CUSTOMERS}, 1 + g % 5, 1 + g % 4,
           date '${from}' + floor(${days} * ${spread})::integer
    FROM generate_series(${first}, ${first + count - 1}) g`;
}

/** The lines of orders `first`..`last`: 1-5 distinct products each, figures a function of the order and line. */
function linesSql(schema: string, first: number, last: number) {
  const withDay = schema === 'parted';
  return `INSERT INTO ${schema}.order_items (order_id, product_id, quantity, unit_price, discount, shipping_cost, unit_cost
      ${withDay ? ', sale_date' : ''})
    SELECT o.order_id, 1 + (o.order_id::bigint * 37 + k * 101) % ${PRODUCTS}, 1 + (o.order_id + k) % 5, p.price,
           CASE WHEN (o.order_id + k) % 4 = 0 THEN 0.1 ELSE 0 END, ((o.order_id::bigint * k) % 900) / 100.0,
           CASE WHEN (o.order_id + k) % 10 < 7 THEN round(p.price * 0.6, 2) END ${withDay ? ', o.sale_date' : ''}
    FROM ${schema}.orders o, generate_series(1, 1 + (o.order_id::bigint * 7919) % 5) k,
         LATERAL (SELECT round(1 + ((o.order_id::bigint * 13 + k * 7) % 20000) / 100.0, 2) AS price) p
    WHERE o.order_id BETWEEN ${first} AND ${last}`;
}

const monthsBetween = (from: string, to: string) => {
  const months: string[] = [];
  const day = new Date(`${from.slice(0, 7)}-01T00:00:00Z`);
  while (day.toISOString().slice(0, 10) <= to) {
    months.push(day.toISOString().slice(0, 10));
    day.setUTCMonth(day.getUTCMonth() + 1);
  }
  return months;
};
const nextMonth = (month: string) => {
  const day = new Date(`${month}T00:00:00Z`);
  day.setUTCMonth(day.getUTCMonth() + 1);
  return day.toISOString().slice(0, 10);
};
const suffix = (month: string) => month.slice(0, 7).replace('-', '_');

/**
 * The partitioned facts. A partitioned table's unique constraints must contain the partition key, so the
 * order's key becomes (order_id, sale_date) and its code is unique only within a month; the lines carry the
 * sale date (the key of their partition and of the foreign key to the order).
 */
async function createParted(db: pg.Client) {
  await db.query(`
    CREATE SCHEMA parted;
    CREATE TABLE parted.orders (LIKE public.orders INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (sale_date);
    ALTER TABLE parted.orders ADD PRIMARY KEY (order_id, sale_date), ADD UNIQUE (code, sale_date),
      ADD FOREIGN KEY (customer_id) REFERENCES customers, ADD FOREIGN KEY (region_id) REFERENCES regions,
      ADD FOREIGN KEY (payment_method_id) REFERENCES payment_methods;
    CREATE INDEX ON parted.orders (sale_date);
    CREATE INDEX ON parted.orders (customer_id, sale_date);
    CREATE TABLE parted.order_items (LIKE public.order_items INCLUDING DEFAULTS INCLUDING CONSTRAINTS, sale_date date NOT NULL)
      PARTITION BY RANGE (sale_date);
    ALTER TABLE parted.order_items ADD PRIMARY KEY (order_id, product_id, sale_date),
      ADD FOREIGN KEY (order_id, sale_date) REFERENCES parted.orders ON DELETE CASCADE,
      ADD FOREIGN KEY (product_id) REFERENCES products;
    CREATE INDEX ON parted.order_items (product_id);`);
  for (const month of monthsBetween(FIRST_DAY, LAST_DAY)) await addPartitions(db, month, month);
}

async function addPartitions(db: pg.Client, month: string, name: string) {
  for (const table of ['orders', 'order_items']) {
    await db.query(`CREATE TABLE parted.${table}_${suffix(name)} PARTITION OF parted.${table}
      FOR VALUES FROM ('${month}') TO ('${nextMonth(month)}') WITH (autovacuum_enabled = false)`);
  }
}

const FACT_TABLES = ['orders', 'order_items'];

async function sizes(db: pg.Client, variant: Variant) {
  const out: Record<string, { table: number; indexes: number }> = {};
  for (const table of FACT_TABLES) {
    const { rows: r } = await db.query(
      `SELECT sum(pg_table_size(c.oid))::float8 AS t, sum(pg_indexes_size(c.oid))::float8 AS i
       FROM pg_class c WHERE c.relkind = 'r' AND (c.oid = $1::regclass OR c.oid IN (SELECT relid FROM pg_partition_tree($1::regclass)))`,
      [`${variant === 'plain' ? 'public' : 'parted'}.${table}`],
    );
    out[table] = { table: r[0].t, indexes: r[0].i };
  }
  return out;
}

const schemaOf = (variant: Variant) => (variant === 'plain' ? 'public' : 'parted');
const vacuumFacts = (db: pg.Client, variant: Variant) =>
  db.query(`VACUUM ${FACT_TABLES.map((t) => `${schemaOf(variant)}.${t}`).join(', ')}`);

// The fact reads. The partitioned variant names the sale date on the lines too: without it nothing prunes them.
function rollingRevenueSql(variant: Variant) {
  const lineDay = variant === 'parted' ? 'AND i.sale_date = o.sale_date AND i.sale_date BETWEEN $1 AND $2' : '';
  return `SELECT o.region_id, sum(i.quantity * i.unit_price - i.quantity * i.unit_price * i.discount) AS revenue
    FROM ${schemaOf(variant)}.orders o JOIN ${schemaOf(variant)}.order_items i ON i.order_id = o.order_id ${lineDay}
    WHERE o.sale_date BETWEEN $1 AND $2 GROUP BY o.region_id`;
}
/** The loader's match of a file's order codes to the stored orders and lines (CLASSIFY_LINES, UPSERT_*). */
const codeMatchSql = (variant: Variant) => `SELECT count(*), sum(i.quantity) FROM probe_codes s
  JOIN ${schemaOf(variant)}.orders o ON o.code = s.code JOIN ${schemaOf(variant)}.order_items i ON i.order_id = o.order_id`;

async function main() {
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const url = new URL(baseUrl);
  url.pathname = `/${database}`;
  const db = new pg.Client({ connectionString: url.toString() });
  try {
    await migrate(url.toString(), logger);
    await db.connect();
    const { rows: v } = await db.query(`SELECT version(), current_setting('shared_buffers') AS sb`);
    console.log(
      `${rows.toLocaleString('en')} lines, ${ORDERS.toLocaleString('en')} orders, ${reps} repetitions; ${v[0].version}; shared_buffers ${v[0].sb}`,
    );
    // Bulk writes of generated rows: no row-level foreign-key checks, no autovacuum racing the timings.
    await db.query(`SET session_replication_role = replica; SET work_mem = '256MB'; SET maintenance_work_mem = '512MB'`);
    for (const table of FACT_TABLES) await db.query(`ALTER TABLE ${table} SET (autovacuum_enabled = false)`);
    await db.query(`
      INSERT INTO regions (region_id, name) SELECT g, 'Region ' || g FROM generate_series(1, 5) g;
      INSERT INTO payment_methods (payment_method_id, name) SELECT g, 'Method ' || g FROM generate_series(1, 4) g;
      INSERT INTO categories (category_id, name) SELECT g, 'Category ' || g FROM generate_series(1, 10) g;
      INSERT INTO products (product_id, code, name, category_id)
        SELECT g, 'P' || g, 'Product ' || g, 1 + g % 10 FROM generate_series(1, ${PRODUCTS}) g;
      INSERT INTO customers (customer_id, code, name, email)
        SELECT g, 'C' || g, 'Customer ' || g, 'c' || g || '@example.com' FROM generate_series(1, ${CUSTOMERS}) g;`);
    const days = (Date.parse(LAST_DAY) - Date.parse(FIRST_DAY)) / 86_400_000;
    const [, genPlain] = await timed(async () => {
      await db.query(ordersSql('public', 1, ORDERS, FIRST_DAY, days, 'O', true));
      await db.query(linesSql('public', 1, ORDERS));
    });
    console.log(`generated the plain facts in ${seconds(genPlain)} s`);
    await createParted(db);
    const [, genParted] = await timed(async () => {
      await db.query('INSERT INTO parted.orders SELECT * FROM public.orders');
      await db.query(linesSql('parted', 1, ORDERS));
    });
    console.log(`generated the partitioned facts in ${seconds(genParted)} s`);
    await db.query('ANALYZE');
    const { rows: count } = await db.query('SELECT count(*)::float8 AS n FROM public.order_items');
    console.log(`order lines: ${count[0].n}`);

    const sizeBefore = { plain: await sizes(db, 'plain'), parted: await sizes(db, 'parted') };
    for (const variant of VARIANTS)
      record('VACUUM, first after the bulk write', variant, (await timed(() => vacuumFacts(db, variant)))[1]);
    for (let rep = 0; rep < reps; rep++) {
      for (const variant of rep % 2 ? [...VARIANTS].reverse() : VARIANTS) {
        record('VACUUM, nothing to do', variant, (await timed(() => vacuumFacts(db, variant)))[1]);
      }
    }

    // Reads of the facts.
    await db.query(
      `CREATE TABLE probe_codes AS SELECT code FROM public.orders ORDER BY md5(code) LIMIT 50000; ANALYZE probe_codes`,
    );
    const windows: [string, string, string][] = [
      ['rolling 30 days revenue by region, from the facts', '2026-11-01', LAST_DAY],
      ['rolling 365 days revenue by region, from the facts', '2025-12-01', LAST_DAY],
    ];
    for (let rep = 0; rep < reps; rep++) {
      for (const variant of rep % 2 ? [...VARIANTS].reverse() : VARIANTS) {
        for (const [step, from, to] of windows)
          record(step, variant, (await timed(() => db.query(rollingRevenueSql(variant), [from, to])))[1]);
        record('match 50k order codes to orders and lines', variant, (await timed(() => db.query(codeMatchSql(variant))))[1]);
      }
    }
    // Replaces of the most recent months' orders, committed, then VACUUM.
    let nextId = ORDERS + 1;
    for (const months of [1, 3]) {
      const cutoff = monthsBetween(FIRST_DAY, LAST_DAY).at(-months) as string;
      const replaceDays = (Date.parse(LAST_DAY) - Date.parse(cutoff)) / 86_400_000;
      for (let rep = 0; rep < reps; rep++) {
        const { rows: n } = await db.query('SELECT count(*)::integer AS n FROM public.orders WHERE sale_date >= $1', [cutoff]);
        const count = n[0].n as number;
        for (const variant of rep % 2 ? [...VARIANTS].reverse() : VARIANTS) {
          const schema = schemaOf(variant);
          const lineDay = variant === 'parted' ? `AND i.sale_date >= '${cutoff}'` : '';
          const [, ms] = await timed(async () => {
            await db.query('BEGIN; SET LOCAL session_replication_role = origin');
            await db.query(`DELETE FROM ${schema}.order_items i USING ${schema}.orders o
              WHERE o.order_id = i.order_id AND o.sale_date >= '${cutoff}' ${lineDay}`);
            await db.query(`DELETE FROM ${schema}.orders WHERE sale_date >= '${cutoff}'`);
            await db.query('SET LOCAL session_replication_role = replica');
            await db.query(ordersSql(schema, nextId, count, cutoff, replaceDays, `R${months}-${rep}-`, false));
            await db.query(linesSql(schema, nextId, nextId + count - 1));
            await db.query('COMMIT');
          });
          record(`replace the last ${months} month(s): delete and insert (${count.toLocaleString('en')} orders)`, variant, ms);
          record(`VACUUM after replacing ${months} month(s)`, variant, (await timed(() => vacuumFacts(db, variant)))[1]);
        }
        nextId += count;
      }
    }

    // What partitioning could do if a replace meant "these months are exactly the file's": build the months
    // aside, then swap them in. The loader's replace cannot (semantics.md: the database keeps exactly the file).
    for (let rep = 0; rep < reps; rep++) {
      const months = monthsBetween(FIRST_DAY, LAST_DAY).slice(-3);
      const { rows: n } = await db.query('SELECT count(*)::integer AS n FROM parted.orders WHERE sale_date >= $1', [months[0]]);
      const count = n[0].n as number;
      const [, ms] = await timed(async () => {
        for (const table of FACT_TABLES) {
          await db.query(`CREATE TABLE parted.${table}_new (LIKE parted.${table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
            WITH (autovacuum_enabled = false)`);
        }
        const days = (Date.parse(LAST_DAY) - Date.parse(months[0])) / 86_400_000;
        await db.query(
          ordersSql('parted', nextId, count, months[0], days, `S${rep}-`, false).replace('parted.orders', 'parted.orders_new'),
        );
        await db.query(
          linesSql('parted', nextId, nextId + count - 1)
            .replace('parted.order_items', 'parted.order_items_new')
            .replace('parted.orders o', 'parted.orders_new o'),
        );
        await db.query('BEGIN; SET LOCAL session_replication_role = origin');
        for (const month of months) {
          for (const table of ['order_items', 'orders']) {
            await db.query(`ALTER TABLE parted.${table} DETACH PARTITION parted.${table}_${suffix(month)}`);
            await db.query(`DROP TABLE parted.${table}_${suffix(month)}`);
          }
        }
        for (const table of ['orders', 'order_items']) {
          await db.query(
            `ALTER TABLE parted.${table} ATTACH PARTITION parted.${table}_new FOR VALUES FROM ('${months[0]}') TO ('${nextMonth(months[2])}')`,
          );
        }
        await db.query('COMMIT');
      });
      nextId += count;
      record(
        `swap the last 3 months' partitions (build, detach+drop, attach; ${count.toLocaleString('en')} orders)`,
        'parted',
        ms,
      );
      record('VACUUM after the swap', 'parted', (await timed(() => vacuumFacts(db, 'parted')))[1]);
      // The swapped-in table holds three months; put it back as one partition per month for the next round.
      await db.query('BEGIN');
      for (const table of ['order_items', 'orders']) {
        await db.query(`ALTER TABLE parted.${table} DETACH PARTITION parted.${table}_new`);
        await db.query(`ALTER TABLE parted.${table}_new RENAME TO ${table}_swap`);
        // A detached table keeps its foreign keys, which would stop the orders from being detached.
        const { rows: keys } = await db.query(
          `SELECT conname FROM pg_constraint WHERE conrelid = 'parted.${table}_swap'::regclass AND contype = 'f' AND conparentid = 0`,
        );
        for (const { conname } of keys) await db.query(`ALTER TABLE parted.${table}_swap DROP CONSTRAINT "${conname}"`);
      }
      for (const month of months) await addPartitions(db, month, month);
      await db.query(`INSERT INTO parted.orders SELECT * FROM parted.orders_swap;
          INSERT INTO parted.order_items SELECT * FROM parted.order_items_swap; DROP TABLE parted.order_items_swap, parted.orders_swap`);
      await db.query('COMMIT');
    }

    const sizeAfter = { plain: await sizes(db, 'plain'), parted: await sizes(db, 'parted') };
    const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
    console.log(`\n## ${rows.toLocaleString('en')} lines, medians of ${reps} (seconds; plain | partitioned by month)`);
    console.log('| step | plain | partitioned |\n|---|---:|---:|');
    for (const r of results) {
      const cell = (values: number[]) => (values.length ? `${seconds(median(values))} (${values.map(seconds).join(', ')})` : '-');
      console.log(`| ${r.step} | ${cell(r.plain)} | ${cell(r.parted)} |`);
    }
    console.log('\n| size (MB) | plain | partitioned |\n|---|---:|---:|');
    for (const [label, size] of [
      ['after generation', sizeBefore],
      ['after the replaces', sizeAfter],
    ] as const) {
      for (const table of FACT_TABLES) {
        const cell = (s: typeof size.plain) => `${mb(s[table].table)} + ${mb(s[table].indexes)} indexes`;
        console.log(`| ${table}, ${label} | ${cell(size.plain)} | ${cell(size.parted)} |`);
      }
    }
  } finally {
    await db.end().catch(() => {});
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
}

await main();
