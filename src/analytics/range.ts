// Date ranges: `from` and `to` are inclusive days; a missing bound is the first or last sale day in the data.
import type { Queryable } from './queryable.js';

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

/** Days since 1970-01-01 of a YYYY-MM-DD day (a year of any number of digits: 10000-01-01 follows 9999-12-31). */
function dayNumber(day: string): number {
  const [year, month, date] = day.split('-').map(Number);
  const time = new Date(0);
  time.setUTCFullYear(year, month - 1, date);
  return time.getTime() / DAY_MS;
}

function dayOf(number: number): string {
  const time = new Date(number * DAY_MS);
  const two = (value: number) => String(value).padStart(2, '0');
  return `${String(time.getUTCFullYear()).padStart(4, '0')}-${two(time.getUTCMonth() + 1)}-${two(time.getUTCDate())}`;
}

export function addDays(day: string, days: number): string {
  return dayOf(dayNumber(day) + days);
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

/** A part of a range on one grain, [from, to) in days, added to the range's sums (1) or taken out of them (-1). */
export interface SignedPart {
  grain: 'year' | 'month' | 'day';
  from: string;
  to: string;
  sign: 1 | -1;
}

/** [from, to) as whole months and the days at either end, each part with `sign`. */
function monthParts(from: string, to: string, sign: 1 | -1): SignedPart[] {
  if (dayNumber(from) >= dayNumber(to)) return [];
  const split = splitByMonth(from, addDays(to, -1));
  const parts: SignedPart[] = [];
  if (split.monthsFrom < split.monthsTo) parts.push({ grain: 'month', from: split.monthsFrom, to: split.monthsTo, sign });
  for (const [first, last] of split.edges) parts.push({ grain: 'day', from: first, to: addDays(last, 1), sign });
  return parts;
}

/**
 * The range [from, to] (inclusive days) as signed parts for additive sums: whole years; and in a year the
 * range covers in part, either that part (whole months and days) or, when what it leaves out of the year is
 * shorter, the whole year minus what it leaves out. A rolling year (2023-01-08..2024-01-07) is then the year
 * 2023 minus 7 days plus 7 days rather than 11 months and 31 days: fewer rows, since a year's rollup is not
 * much larger than a month's. Sums with parts taken out need a count (lines) to tell which groups are empty.
 */
export function signedParts(from: string, to: string): SignedPart[] {
  const [first, last] = [dayNumber(from), dayNumber(to) + 1]; // [first, last)
  const parts: SignedPart[] = [];
  const wholeYear = (year: string, next: string) => {
    const previous = parts.at(-1);
    if (previous?.grain === 'year' && previous.to === year && previous.sign === 1) previous.to = next;
    else parts.push({ grain: 'year', from: year, to: next, sign: 1 });
  };
  for (let y = Number(from.slice(0, 4)); y <= Number(to.slice(0, 4)); y++) {
    const [year, next] = [`${y}-01-01`, `${y + 1}-01-01`];
    const [yearFirst, yearEnd] = [dayNumber(year), dayNumber(next)];
    const [partFirst, partEnd] = [Math.max(first, yearFirst), Math.min(last, yearEnd)];
    const inside = partEnd - partFirst;
    const outside = yearEnd - yearFirst - inside;
    if (outside === 0) wholeYear(year, next);
    else if (outside < inside) {
      wholeYear(year, next);
      parts.push(...monthParts(year, dayOf(partFirst), -1), ...monthParts(dayOf(partEnd), next, -1));
    } else parts.push(...monthParts(dayOf(partFirst), dayOf(partEnd), 1));
  }
  return parts;
}
