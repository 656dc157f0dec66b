// A load leaves the planner statistics of what it changed: autovacuum may be off, or run only after the
// next load was planned on the old estimates.
import { expect } from 'chai';
import { generateSales } from '../../../src/generate/sales-generator.js';
import { FACT_TABLES } from '../../../src/load/4-record/fresh-load.js';
import { useTestDatabase } from '../../support/database.js';
import { csvOf, load, writeFile } from '../../support/sales-files.js';

describe('planner statistics after a load', () => {
  const db = useTestDatabase({ each: true });

  const lines = (rows: number, seed: number, firstOrder: number) =>
    writeFile(csvOf([...generateSales({ rows, seed, firstOrder })]));

  /** The tables among `tables` that ANALYZE has seen with their current row count. */
  async function analyzedAtCount(tables: string[]): Promise<string[]> {
    const analyzed: string[] = [];
    for (const table of tables) {
      const { rows } = await db().pool.query(
        `SELECT (SELECT reltuples FROM pg_class WHERE oid = $1::text::regclass) = (SELECT count(*) FROM ${table}) AS current,
                EXISTS (SELECT FROM pg_stats WHERE schemaname = 'public' AND tablename = $1::text) AS has_stats`,
        [table],
      );
      if (rows[0].current && rows[0].has_stats) analyzed.push(table);
    }
    return analyzed;
  }

  it('a first load analyzes the facts', async () => {
    await load(db().pool, await lines(2000, 7, 100_000));
    expect(await analyzedAtCount(FACT_TABLES)).to.deep.equal(FACT_TABLES);
  });

  it('an append that adds more than a tenth of the stored lines analyzes them again', async () => {
    await load(db().pool, await lines(2000, 7, 100_000));
    await load(db().pool, await lines(1000, 8, 900_000));
    expect(await analyzedAtCount(FACT_TABLES)).to.deep.equal(FACT_TABLES);
  });

  it('a replace that changes more than a tenth of the stored lines analyzes them again', async () => {
    await load(db().pool, await lines(2000, 7, 100_000));
    await load(db().pool, await lines(1500, 9, 100_000), 'replace');
    expect(await analyzedAtCount(FACT_TABLES)).to.deep.equal(FACT_TABLES);
  });
});
