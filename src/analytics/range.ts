// Date ranges: `from` and `to` are inclusive days; a missing bound is the first or last sale day in the data.
import type { Queryable } from './sql.js';

/** A question the analyses refuse to answer, naming the parameter to change (a 400 over HTTP). */
export class QueryError extends Error {
  override name = 'QueryError';
  constructor(
    readonly parameter: string,
    readonly reason: string,
  ) {
    super(`${parameter}: ${reason}`);
  }
}

export interface RangeQuery {
  from?: string;
  to?: string;
}

/** The effective range, echoed in every answer; null bounds only when the database holds no sales. */
export interface Range {
  from: string | null;
  to: string | null;
}

export async function effectiveRange(db: Queryable, query: RangeQuery): Promise<Range> {
  if (query.from && query.to) return { from: query.from, to: query.to };
  const { rows } = await db.query<{ first: string | null; last: string | null }>(
    'SELECT min(sale_date) AS first, max(sale_date) AS last FROM sales_by_day_region',
  );
  return { from: query.from ?? rows[0].first, to: query.to ?? rows[0].last };
}

const DAY_MS = 86_400_000;

function addDays(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

function firstOfNextMonth(day: string): string {
  const date = new Date(`${day.slice(0, 7)}-01T00:00:00Z`);
  date.setUTCMonth(date.getUTCMonth() + 1);
  return date.toISOString().slice(0, 10);
}

/** A range cut into whole calendar months [monthsFrom, monthsTo) and the days left at either end. */
export interface MonthSplit {
  monthsFrom: string;
  monthsTo: string;
  /** Inclusive day ranges outside the whole months (none, one or two). */
  edges: [string, string][];
}

export function splitByMonth(from: string, to: string): MonthSplit {
  const monthsFrom = from.endsWith('-01') ? from : firstOfNextMonth(from);
  const afterTo = addDays(to, 1);
  const monthsTo = afterTo.endsWith('-01') ? afterTo : `${to.slice(0, 7)}-01`;
  if (monthsFrom >= monthsTo) return { monthsFrom, monthsTo: monthsFrom, edges: from <= to ? [[from, to]] : [] };
  const edges: [string, string][] = [];
  if (from < monthsFrom) edges.push([from, addDays(monthsFrom, -1)]);
  if (monthsTo <= to) edges.push([monthsTo, to]);
  return { monthsFrom, monthsTo, edges };
}

/** Whole months [from, to) cut into whole years [yearsFrom, yearsTo) and the month ranges left at either end. */
export interface YearSplit {
  yearsFrom: string;
  yearsTo: string;
  /** [from, to) month ranges outside the whole years. */
  months: [string, string][];
}

export function splitByYear(monthsFrom: string, monthsTo: string): YearSplit {
  const yearsFrom = monthsFrom.endsWith('-01-01') ? monthsFrom : `${Number(monthsFrom.slice(0, 4)) + 1}-01-01`;
  const yearsTo = `${monthsTo.slice(0, 4)}-01-01`;
  if (yearsFrom >= yearsTo)
    return { yearsFrom, yearsTo: yearsFrom, months: monthsFrom < monthsTo ? [[monthsFrom, monthsTo]] : [] };
  const months: [string, string][] = [];
  if (monthsFrom < yearsFrom) months.push([monthsFrom, yearsFrom]);
  if (yearsTo < monthsTo) months.push([yearsTo, monthsTo]);
  return { yearsFrom, yearsTo, months };
}
