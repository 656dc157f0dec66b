// What an analysis, a version read or a key read queries: a PostgreSQL pool or client, or an analytics
// snapshot through its DuckDB adapter (snapshot/queryable.ts), with the same SQL and the same rows.
import type { QueryResult, QueryResultRow } from 'pg';

export interface Queryable {
  query<Row extends QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<Row>>;
}
