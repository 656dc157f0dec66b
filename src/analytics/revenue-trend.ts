// GET /api/v1/revenue/trend: revenue, units and orders per calendar period. Every period that meets the range
// is listed (zero-filled), with its calendar bounds; its figures count only the days inside the range.
// ISO weeks start on Monday and carry the ISO week-year (2022-01-01 is in 2021-W52). A trend lists at most
// MAX_TREND_PERIODS periods: every one is a row of the answer, zero or not, so the range alone sets its size.

import type { Queryable } from './queryable.js';
import { effectiveRange, QueryError, type Range, type RangeQuery } from './range.js';
import { hasRange, money, nameFilter, SqlParams } from './sql.js';

export type Interval = 'day' | 'week' | 'month' | 'quarter' | 'year';

/** A period's label from its first day: 2024-03-05, 2021-W52 (the ISO week-year), 2024-03, 2024-Q1, 2024. */
function periodLabel(start: string, interval: Interval): string {
  switch (interval) {
    case 'day':
      return start;
    case 'week': {
      // The ISO week-year is the Thursday's year; week 1 holds the year's first Thursday.
      const thursday = new Date((dayNumber(start) + 3) * DAY_MS);
      const year = thursday.getUTCFullYear();
      const week =
        Math.floor((dayNumber(thursday.toISOString().slice(0, 10)) - dayNumber(`${String(year).padStart(4, '0')}-01-01`)) / 7) +
        1;
      return `${String(year).padStart(4, '0')}-W${String(week).padStart(2, '0')}`;
    }
    case 'month':
      return start.slice(0, 7);
    case 'quarter':
      return `${start.slice(0, 4)}-Q${Math.floor((Number(start.slice(5, 7)) - 1) / 3) + 1}`;
    case 'year':
      return start.slice(0, 4);
  }
}

const STEP: Record<Interval, string> = {
  day: '1 day',
  week: '1 week',
  month: '1 month',
  quarter: '3 months',
  year: '1 year',
};

export const MAX_TREND_PERIODS = 10_000;

const DAY_MS = 86_400_000;
const dayNumber = (day: string) => Date.parse(`${day}T00:00:00Z`) / DAY_MS;
/** Day 0, 1970-01-01, was a Thursday: (day + 3) mod 7 counts the days since Monday. */
const mondayOf = (day: string) => dayNumber(day) - ((((dayNumber(day) + 3) % 7) + 7) % 7);
const monthNumber = (day: string) => Number(day.slice(0, 4)) * 12 + Number(day.slice(5, 7)) - 1;

/** How many `interval` periods meet [from, to]. */
export function periodCount(from: string, to: string, interval: Interval): number {
  switch (interval) {
    case 'day':
      return dayNumber(to) - dayNumber(from) + 1;
    case 'week':
      return (mondayOf(to) - mondayOf(from)) / 7 + 1;
    case 'month':
      return monthNumber(to) - monthNumber(from) + 1;
    case 'quarter':
      return Math.floor(monthNumber(to) / 3) - Math.floor(monthNumber(from) / 3) + 1;
    case 'year':
      return Number(to.slice(0, 4)) - Number(from.slice(0, 4)) + 1;
  }
}

/** Refuses a trend of more than MAX_TREND_PERIODS periods, naming the bound the client gave (else the interval). */
function checkPeriodCount(query: RangeQuery & { interval: Interval }, range: { from: string; to: string }): void {
  const count = periodCount(range.from, range.to, query.interval);
  if (count <= MAX_TREND_PERIODS) return;
  const parameter = query.from ? 'from' : query.to ? 'to' : 'interval';
  throw new QueryError(
    parameter,
    `${range.from} to ${range.to} holds ${count} ${query.interval} periods; a trend lists at most ${MAX_TREND_PERIODS}: narrow the range or use a longer interval`,
  );
}

export interface TrendPoint {
  period: string;
  start: string;
  end: string;
  revenue: number;
  quantity: number;
  orders: number;
}

export async function revenueTrend(
  db: Queryable,
  query: RangeQuery & { interval: Interval; category?: string; region?: string },
): Promise<Range & { interval: Interval; items: TrendPoint[] }> {
  const range = await effectiveRange(db, query);
  const { interval } = query;
  if (!hasRange(range)) return { ...range, interval, items: [] };
  checkPeriodCount(query, range);
  const params = new SqlParams();
  const from = params.add(range.from);
  const to = params.add(range.to);
  const unit = params.add(interval);
  const step = `${params.add(STEP[interval])}::interval`;
  const source =
    query.category === undefined
      ? 'sales_by_day_region'
      : `(SELECT * FROM sales_by_day_category_region WHERE ${nameFilter(params, 'category_id', 'categories', query.category)}) AS c`;
  const { rows } = await db.query<Omit<TrendPoint, 'period'>>(
    `WITH periods AS (
       SELECT g.start::date AS start, (g.start + ${step} - interval '1 day')::date AS "end"
       FROM generate_series(date_trunc(${unit}, ${from}::date::timestamp), ${to}::date::timestamp, ${step}) AS g (start)
     ),
     sales AS (
       SELECT date_trunc(${unit}, sale_date::timestamp)::date AS start, sum(revenue) AS revenue, sum(quantity) AS quantity,
              sum(orders) AS orders
       FROM ${source}
       WHERE sale_date BETWEEN ${from} AND ${to} AND ${nameFilter(params, 'region_id', 'regions', query.region)}
       GROUP BY 1
     )
     SELECT p.start, p."end",
            ${money('coalesce(s.revenue, 0)')} AS revenue, coalesce(s.quantity, 0)::bigint AS quantity,
            coalesce(s.orders, 0)::bigint AS orders
     FROM periods p LEFT JOIN sales s USING (start)
     ORDER BY p.start`,
    params.values,
  );
  return { ...range, interval, items: rows.map((row) => ({ period: periodLabel(row.start, interval), ...row })) };
}
