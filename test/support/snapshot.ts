// Reading the analytics snapshot that a test's loads published, as the tests once read PostgreSQL's rollups.
import { DuckDBDecimalValue, DuckDBInstance } from '@duckdb/node-api';
import type pg from 'pg';
import { publishedVersions, snapshotFile } from '../../src/snapshot/published.js';
import { duckQueryable } from '../../src/snapshot/queryable.js';
import { snapshotDirOf } from './database.js';

/**
 * The rows of `sql` on the newest snapshot of the test database whose pool this is, valued as the analyses
 * get them, except an exact decimal: its shortest text (DuckDB prints the snapshot's scale, 20.0000, where
 * PostgreSQL printed the inputs', 20). Text the query makes itself (round(x, 2)::text) stays as it is.
 */
export async function snapshotQuery<Row extends Record<string, unknown>>(
  pool: pg.Pool,
  sql: string,
  values: unknown[] = [],
): Promise<{ rows: Row[] }> {
  const directory = await snapshotDirOf(pool);
  const [version] = await publishedVersions(directory);
  if (version === undefined) throw new Error(`no snapshot published in ${directory}`);
  const instance = await DuckDBInstance.create(snapshotFile(directory, version), { access_mode: 'READ_ONLY', threads: '1' });
  const connection = await instance.connect();
  try {
    // Decimals are read raw to tell them from text; everything else as the analyses read it.
    const decimals = await connection.runAndReadAll(sql, values as never);
    const names = decimals.columnNames();
    const shortest = decimals.getRows().map((row) =>
      row.map((value) =>
        value instanceof DuckDBDecimalValue
          ? value
              .toString()
              .replace(/(\.\d*?)0+$/, '$1')
              .replace(/\.$/, '')
          : undefined,
      ),
    );
    const { rows } = await duckQueryable(connection).query<Row>(sql, values);
    return {
      rows: rows.map((row, r) => {
        const copy: Record<string, unknown> = { ...row };
        names.forEach((name, c) => {
          if (shortest[r][c] !== undefined) copy[name] = shortest[r][c];
        });
        return copy as Row;
      }),
    };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
