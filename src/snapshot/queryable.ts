// The analyses' Queryable over a DuckDB connection to a snapshot: the same SQL text and $n parameters, and
// rows whose values are what node-postgres gives for the same columns (int8 as a number, dates and exact
// decimals as text), so that an answer is the same JSON whichever engine computed it.
import {
  type DuckDBConnection,
  DuckDBDateValue,
  DuckDBDecimalValue,
  type DuckDBPreparedStatement,
  DuckDBTimestampValue,
  type DuckDBValue,
} from '@duckdb/node-api';
import type { QueryResult, QueryResultRow } from 'pg';
import type { Queryable } from '../analytics/queryable.js';

function asPostgres(value: DuckDBValue): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof DuckDBDecimalValue || value instanceof DuckDBDateValue) return value.toString();
  if (value instanceof DuckDBTimestampValue) return value.toString();
  return value;
}

/**
 * Binds each parameter: text as text, which DuckDB casts to the type it inferred for the parameter's place (a
 * day compared with a date is a DATE); a whole number as a BIGINT.
 */
function bind(prepared: DuckDBPreparedStatement, values: unknown[]): void {
  values.forEach((value, index) => {
    if (typeof value === 'string') prepared.bindVarchar(index + 1, value);
    else if (Number.isInteger(value)) prepared.bindBigInt(index + 1, BigInt(value as number));
    else prepared.bindValue(index + 1, value as DuckDBValue);
  });
}

export function duckQueryable(connection: DuckDBConnection): Queryable {
  return {
    async query<Row extends QueryResultRow>(text: string, values: unknown[] = []): Promise<QueryResult<Row>> {
      const prepared = await connection.prepare(text);
      bind(prepared, values);
      const reader = await prepared.runAndReadAll();
      const names = reader.columnNames();
      const rows = reader.getRows().map((row) => {
        const object: Record<string, unknown> = {};
        row.forEach((value, index) => {
          object[names[index]] = asPostgres(value);
        });
        return object as Row;
      });
      return { rows, rowCount: rows.length, command: 'SELECT', oid: 0, fields: [] };
    },
  };
}
