// CSV answers through csv-stringify: columns in the JSON field order, numbers as numbers, and each cell
// through csvCell (formula-like text defused).
import { PassThrough } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { Context } from 'koa';
import { csvCell } from '../csv-cell.js';
import { HttpProblem } from './problem.js';

/** Streams `rows` (an iterable or async iterable) as a CSV body with a header of `columns`. */
export function sendCsv(ctx: Context, columns: string[], rows: Iterable<object> | AsyncIterable<object>, filename: string): void {
  const stringifier = stringify({
    header: true,
    columns,
  });
  const body = new PassThrough();
  stringifier.pipe(body);
  stringifier.on('error', (error) => body.destroy(error));
  (async () => {
    for await (const row of rows) {
      const record: Record<string, unknown> = {};
      for (const column of columns) record[column] = csvCell((row as Record<string, unknown>)[column]);
      if (!stringifier.write(record)) await new Promise((resolve) => stringifier.once('drain', resolve));
    }
    stringifier.end();
  })().catch((error) => stringifier.destroy(error));
  ctx.type = 'text/csv; charset=utf-8';
  ctx.set('Content-Disposition', `attachment; filename="${filename}"`);
  ctx.body = body;
}

/** `?format=csv` wins over Accept; otherwise Accept picks JSON or CSV, and a 406 when it allows neither. */
export function representation(ctx: Context, format: 'json' | 'csv' | undefined): 'json' | 'csv' {
  ctx.vary('Accept');
  if (format) return format;
  const accepted = ctx.accepts('application/json', 'text/csv');
  if (!accepted) throw new HttpProblem(406, 'this resource is available as application/json or text/csv');
  return accepted === 'text/csv' ? 'csv' : 'json';
}
