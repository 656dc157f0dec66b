// GET /api/v1/customers/segments and /segments/{segment}: RFM segmentation of the customers with orders in
// the range. Recency = days from the customer's last order day to `to`, frequency = orders, monetary =
// revenue; each is scored 1..5 by quintile: the customers are ranked best first (most recent, most orders,
// most revenue; ties by customer code in byte order), cut into five ntile groups (the first groups take the
// remainder), and the first group scores 5. The named segment is the first rule of SEGMENTS that matches.

import { customerSales } from './customer-sales.js';
import { roundedQuotient } from './exact.js';
import type { Queryable } from './queryable.js';
import { effectiveRange, type Range, type RangeQuery } from './range.js';
import { BYTE_ORDER, hasRange, money, type Page, pageQuery, SqlParams, withoutTotals } from './sql.js';

/** Segment rules over the recency (r), frequency (f) and monetary (m) scores, tried in this order. */
export const SEGMENTS = [
  { segment: 'champions', rule: 'r >= 4 AND f >= 4 AND m >= 4', description: 'recent, frequent and big spenders' },
  { segment: 'loyal', rule: 'r >= 3 AND f >= 4', description: 'order often and not long ago' },
  { segment: 'cant-lose', rule: 'r <= 2 AND f >= 4 AND m >= 4', description: 'were frequent big spenders, not seen lately' },
  { segment: 'at-risk', rule: 'r <= 2 AND f >= 3', description: 'ordered regularly, not lately' },
  { segment: 'promising', rule: 'r >= 4', description: 'recent, few orders so far' },
  { segment: 'needs-attention', rule: 'r = 3', description: 'middling recency, few orders' },
  { segment: 'hibernating', rule: 'TRUE', description: 'long ago and rarely' },
] as const;

export type SegmentName = (typeof SEGMENTS)[number]['segment'];
export const SEGMENT_NAMES = SEGMENTS.map((segment) => segment.segment);

/** Each customer in the range with its figures, scores and segment. */
function scoredCustomers(params: SqlParams, range: { from: string; to: string }): string {
  const toDay = params.add(range.to);
  const segment = `CASE ${SEGMENTS.map(({ segment, rule }) => `WHEN ${rule} THEN '${segment}'`).join(' ')} END`;
  return `(
    SELECT *, ${segment} AS segment
    FROM (
      SELECT s.*, c.code, c.name,
             6 - ntile(5) OVER (ORDER BY s.recency, c.code ${BYTE_ORDER}) AS r,
             6 - ntile(5) OVER (ORDER BY s.orders DESC, c.code ${BYTE_ORDER}) AS f,
             6 - ntile(5) OVER (ORDER BY s.revenue DESC, c.code ${BYTE_ORDER}) AS m
      FROM (SELECT *, ${toDay}::date - last_order AS recency FROM ${customerSales(params, range)} AS sales) s
      JOIN customers c USING (customer_id)
    ) AS scored
  )`;
}

export interface SegmentSummary {
  segment: SegmentName;
  description: string;
  customers: number;
  revenue: number;
  share: number;
  revenueShare: number;
}

export async function segments(db: Queryable, query: RangeQuery): Promise<Range & { segments: SegmentSummary[] }> {
  const range = await effectiveRange(db, query);
  const found = new Map<string, Omit<SegmentSummary, 'segment' | 'description'>>();
  if (hasRange(range)) {
    const params = new SqlParams();
    const { rows } = await db.query<{
      segment: SegmentName;
      customers: number;
      revenue: number;
      allCustomers: number;
      exactRevenue: string;
      allRevenue: string;
    }>(
      `SELECT segment, count(*) AS customers, ${money('sum(revenue)')} AS revenue, sum(count(*)) OVER () AS "allCustomers",
              sum(revenue) AS "exactRevenue", sum(sum(revenue)) OVER () AS "allRevenue"
       FROM ${scoredCustomers(params, range)} customers
       GROUP BY segment`,
      params.values,
    );
    for (const { segment, customers, revenue, allCustomers, exactRevenue, allRevenue } of rows) {
      found.set(segment, {
        customers,
        revenue,
        share: roundedQuotient(customers, allCustomers, 4) as number,
        revenueShare: roundedQuotient(exactRevenue, allRevenue, 4) as number,
      });
    }
  }
  // Every segment, in rule order; those without customers in the range with zeros.
  const none = { customers: 0, revenue: 0, share: 0, revenueShare: 0 };
  return {
    ...range,
    segments: SEGMENTS.map(({ segment, description }) => ({ segment, description, ...(found.get(segment) ?? none) })),
  };
}

export interface SegmentMember {
  customerId: string;
  name: string;
  recency: number;
  frequency: number;
  monetary: number;
  recencyScore: number;
  frequencyScore: number;
  monetaryScore: number;
  lastOrder: string;
}

export async function segmentMembers(
  db: Queryable,
  query: RangeQuery & Page & { segment: SegmentName },
): Promise<Range & { segment: SegmentName; items: SegmentMember[] } & Page & { total: number }> {
  const range = await effectiveRange(db, query);
  const page = { limit: query.limit, offset: query.offset };
  if (!hasRange(range)) return { ...range, segment: query.segment, items: [], ...page, total: 0 };
  const { rows, first } = await pageQuery<SegmentMember & { total: number }>(
    db,
    page,
    (params, limit, offset) =>
      `SELECT code AS "customerId", name, recency, orders::bigint AS frequency, ${money('revenue')} AS monetary,
              r AS "recencyScore", f AS "frequencyScore", m AS "monetaryScore", last_order AS "lastOrder",
              count(*) OVER () AS total
       FROM ${scoredCustomers(params, range)} customers
       WHERE segment = ${params.add(query.segment)}
       ORDER BY revenue DESC, code ${BYTE_ORDER}
       LIMIT ${limit} OFFSET ${offset}`,
  );
  return { ...range, segment: query.segment, items: withoutTotals(rows, 'total'), ...page, total: first?.total ?? 0 };
}
