// A version whose load recorded the orders it changed gets its snapshot from the previous one (build.ts): every
// table of it must be, row for row and type for type, what a whole build of the same version makes.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { expect } from 'chai';
import { type GeneratedLine, generateSales } from '../../../src/generate/sales-generator.js';
import type { LoadMode } from '../../../src/load/index.js';
import { type BuiltSnapshot, buildSnapshot } from '../../../src/snapshot/build.js';
import { useTestDatabase } from '../../support/database.js';
import { csvOf, load, TEST_ANALYTICS_LIMITS, writeFile } from '../../support/sales-files.js';

const limits = TEST_ANALYTICS_LIMITS;
const withCosts = { style: 'standard', extraColumns: true } as const;

/** Every difference between two snapshot files: tables, column types, rows (the build time aside). */
async function differences(built: string, whole: string): Promise<string[]> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const db = await instance.connect();
  const rows = async (sql: string) => (await db.runAndReadAll(sql)).getRowObjectsJson();
  try {
    await db.run(`ATTACH '${built}' AS built (READ_ONLY); ATTACH '${whole}' AS whole (READ_ONLY)`);
    const columns = async (database: string) =>
      rows(`SELECT table_name, column_name, data_type FROM duckdb_columns() WHERE database_name = '${database}'
            ORDER BY table_name, column_index`);
    const found: string[] = [];
    const [builtColumns, wholeColumns] = [await columns('built'), await columns('whole')];
    if (JSON.stringify(builtColumns) !== JSON.stringify(wholeColumns)) found.push('tables or column types differ');
    const tables = [...new Set(wholeColumns.map((c) => String(c.table_name)))];
    for (const table of tables) {
      const list = table === 'snapshot' ? 'version, lines, price, discount, shipping, unit_cost, digits' : '*';
      for (const [a, b] of [
        ['built', 'whole'],
        ['whole', 'built'],
      ]) {
        const [{ n }] = await rows(
          `SELECT count(*) AS n FROM (SELECT ${list} FROM ${a}.${table} EXCEPT ALL SELECT ${list} FROM ${b}.${table})`,
        );
        if (Number(n) !== 0) found.push(`${table}: ${n} rows of ${a} not in ${b}`);
      }
    }
    return found;
  } finally {
    db.closeSync();
    instance.closeSync();
  }
}

describe('a snapshot made from the previous version and the orders changed since', () => {
  const db = useTestDatabase({ each: true });
  let directory: string;
  let wholeDirectory: string;

  beforeEach(async () => {
    directory = await fs.mkdtemp(path.join(os.tmpdir(), 'increments-'));
    wholeDirectory = await fs.mkdtemp(path.join(os.tmpdir(), 'whole-'));
  });
  afterEach(async () => {
    await fs.rm(directory, { recursive: true, force: true });
    await fs.rm(wholeDirectory, { recursive: true, force: true });
  });

  async function loadAndBuild(lines: GeneratedLine[], mode: LoadMode = 'append'): Promise<BuiltSnapshot> {
    const { run } = await load(db().pool, await writeFile(csvOf(lines, withCosts)), mode);
    expect(run.status, run.error ?? '').to.equal('succeeded');
    return buildSnapshot(db().pool, directory, limits);
  }

  /** The snapshot just built, against a whole build of the same version. */
  async function expectAsWhole(built: BuiltSnapshot): Promise<void> {
    await fs.rm(wholeDirectory, { recursive: true, force: true });
    const whole = await buildSnapshot(db().pool, wholeDirectory, limits);
    expect(whole).to.include({ version: built.version, made: 'whole' });
    expect(await differences(built.file, whole.file)).to.deep.equal([]);
  }

  const history = () => [...generateSales({ rows: 1500, seed: 1, extraColumns: true })];

  it('adds orders on new days and on days already summed, of known and new customers, products and names', async () => {
    expect((await loadAndBuild(history())).made).to.equal('whole');
    // Seed 2 names the same customer and product codes otherwise: renamed; new codes and names too.
    const more = [
      ...generateSales({
        rows: 400,
        seed: 2,
        firstOrder: 900_000,
        firstDay: '2024-06-01',
        lastDay: '2025-02-28',
        extraColumns: true,
      }),
    ];
    more[0] = { ...more[0], productId: 'P-NEW', category: 'Garden', region: 'Antarctica' };
    more[1] = { ...more[1], customerId: 'C-NEW', unitCost: null };
    const built = await loadAndBuild(more);
    expect(built).to.include({ version: 2, made: 'increment' });
    await expectAsWhole(built);

    const nextDay = [
      ...generateSales({
        rows: 60,
        seed: 3,
        firstOrder: 950_000,
        firstDay: '2025-03-01',
        lastDay: '2025-03-01',
        extraColumns: true,
      }),
    ];
    const again = await loadAndBuild(nextDay);
    expect(again).to.include({ version: 3, made: 'increment' });
    await expectAsWhole(again);
  });

  it('makes again the facts of orders whose lines changed, moved day or customer, or were removed', async () => {
    const lines = history();
    await loadAndBuild(lines);
    const [first, second, third] = lines;
    const changed = await loadAndBuild([
      { ...first, quantity: first.quantity + 1 },
      { ...second, dateOfSale: '2025-01-15' }, // the order's day, for all its lines
      { ...third, customerId: 'C-MOVED' },
    ]);
    expect(changed).to.include({ made: 'increment' });
    await expectAsWhole(changed);
    // A replace by most of the file: the orders of the lines it leaves out lose them.
    const kept = lines.filter((line) => !line.orderId.endsWith('7'));
    const replaced = await loadAndBuild(kept, 'replace');
    expect(replaced).to.include({ made: 'increment' });
    await expectAsWhole(replaced);
  });

  it('builds whole when the load changed most of the record, or no line of the finest figure is left', async () => {
    const lines = history();
    await loadAndBuild(lines);
    expect((await loadAndBuild(lines.map((line) => ({ ...line, quantity: line.quantity + 1 })))).made).to.equal('whole');
    const [order] = [...generateSales({ rows: 1, seed: 6, firstOrder: 992_000, extraColumns: true })];
    expect((await loadAndBuild([{ ...order, unitPrice: '10.12345' }])).made).to.equal('whole');
    // The one price of five places is corrected: the version's prices need four fewer.
    const corrected = await loadAndBuild([{ ...order, unitPrice: '10.12' }]);
    expect(corrected.made).to.equal('whole');
    await expectAsWhole(corrected);
  });

  it('builds whole when a product moves to another category, or a figure needs more decimal places', async () => {
    const lines = history();
    await loadAndBuild(lines);
    const [order] = [...generateSales({ rows: 1, seed: 4, firstOrder: 990_000, extraColumns: true })];
    const moved = await loadAndBuild([{ ...order, productId: lines[0].productId, category: 'Moved' }]);
    expect(moved.made).to.equal('whole');
    await expectAsWhole(moved);
    const [another] = [...generateSales({ rows: 1, seed: 5, firstOrder: 991_000, extraColumns: true })];
    const finer = await loadAndBuild([{ ...another, unitPrice: '10.12345' }]);
    expect(finer.made).to.equal('whole');
    await expectAsWhole(finer);
  });

  it('builds whole when the previous snapshot is not there', async () => {
    await loadAndBuild(history());
    await fs.rm(directory, { recursive: true });
    const [order] = [...generateSales({ rows: 1, seed: 4, firstOrder: 990_000, extraColumns: true })];
    expect((await loadAndBuild([order])).made).to.equal('whole');
  });
});
