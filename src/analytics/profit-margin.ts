// GET /api/v1/products/profit-margin: profit and margin per product over the lines whose unit cost is known.
// costedRevenue = revenue of those lines, cost = their quantity x unit cost, profit = costedRevenue - cost,
// margin = profit / costedRevenue (null when costedRevenue is 0); a product without any known cost has
// null cost, profit and margin. costCoverage = costedRevenue / revenue over all the listed products.
import { roundedQuotient } from './exact.js';
import { PRODUCT_COLUMNS } from './products.js';
import type { Queryable } from './queryable.js';
import { effectiveRange, type Range, type RangeQuery } from './range.js';
import { BYTE_ORDER, HAS_LINES, hasRange, money, nameFilter, type Page, pageQuery, productSales, withoutTotals } from './sql.js';

/** The exact sums the margin and the coverage are divided from. */
type Exact = 'exactProfit' | 'exactCostedRevenue' | 'allCostedRevenue' | 'allRevenue';

export interface ProductMargin {
  productId: string;
  productName: string;
  category: string;
  revenue: number;
  costedRevenue: number;
  cost: number | null;
  profit: number | null;
  margin: number | null;
}

export interface ProfitMargin extends Range, Page {
  items: ProductMargin[];
  costCoverage: number;
  total: number;
  note?: string;
}

const NO_COST_NOTE = 'no line in this range has a known unit cost: cost, profit and margin cannot be computed';

export async function profitMargin(
  db: Queryable,
  query: RangeQuery & Page & { category?: string; region?: string },
): Promise<ProfitMargin> {
  const range = await effectiveRange(db, query);
  const page = { limit: query.limit, offset: query.offset };
  if (!hasRange(range)) return { ...range, items: [], costCoverage: 0, ...page, total: 0, note: NO_COST_NOTE };
  const costKnown = 't.costed_revenue <> 0 OR t.cost <> 0';
  type Row = Omit<ProductMargin, 'margin'> & { total: number; anyCost: boolean } & Record<Exact, string>;
  const { rows, first } = await pageQuery<Row>(
    db,
    page,
    (params, limit, offset) =>
      `SELECT ${PRODUCT_COLUMNS}, ${money('t.revenue')} AS revenue, ${money('t.costed_revenue')} AS "costedRevenue",
              CASE WHEN ${costKnown} THEN ${money('t.cost')} END AS cost,
              CASE WHEN ${costKnown} THEN ${money('t.costed_revenue - t.cost')} END AS profit,
              t.costed_revenue - t.cost AS "exactProfit", t.costed_revenue AS "exactCostedRevenue",
              count(*) OVER () AS total,
              sum(t.costed_revenue) OVER () AS "allCostedRevenue", sum(t.revenue) OVER () AS "allRevenue",
              bool_or(${costKnown}) OVER () AS "anyCost"
       FROM (
         SELECT product_id, sum(revenue) AS revenue, sum(costed_revenue) AS costed_revenue, sum(cost) AS cost
         FROM ${productSales(params, range, { region: query.region })}
         GROUP BY product_id ${HAS_LINES}
       ) t
       JOIN products p USING (product_id) JOIN categories c USING (category_id)
       WHERE ${nameFilter(params, 'p.category_id', 'categories', query.category)}
       ORDER BY t.revenue DESC, p.code ${BYTE_ORDER}
       LIMIT ${limit} OFFSET ${offset}`,
  );
  const answer: ProfitMargin = {
    ...range,
    items: rows.map(({ exactProfit, exactCostedRevenue, ...row }) => {
      const [item] = withoutTotals([row], 'total', 'anyCost', 'allCostedRevenue', 'allRevenue');
      const { cost, profit, ...figures } = item;
      return { ...figures, cost, profit, margin: roundedQuotient(exactProfit, exactCostedRevenue, 4, null) };
    }),
    costCoverage: first ? (roundedQuotient(first.allCostedRevenue, first.allRevenue, 4) as number) : 0,
    ...page,
    total: first?.total ?? 0,
  };
  if (!first?.anyCost) answer.note = NO_COST_NOTE;
  return answer;
}
