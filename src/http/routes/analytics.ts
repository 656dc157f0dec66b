// The analytics endpoints: each declares its route, its schemas and the one analysis that answers it.
import * as schemas from '../../../schemas/analytics.js';
import { customerSummary } from '../../analytics/customer-summary.js';
import { lifetimeValue } from '../../analytics/lifetime-value.js';
import { revenueByProduct, topProducts, topProductsByCategory, topProductsByRegion } from '../../analytics/products.js';
import { profitMargin } from '../../analytics/profit-margin.js';
import type { Queryable } from '../../analytics/queryable.js';
import { revenueByCategory, revenueByRegion } from '../../analytics/revenue-by-dimension.js';
import { revenueSummary } from '../../analytics/revenue-summary.js';
import { revenueTrend } from '../../analytics/revenue-trend.js';
import { segmentMembers, segments } from '../../analytics/segments.js';
import type { SnapshotStore } from '../../snapshot/store.js';
import { type AnswerCache, type AnswerParams, answerer, type CsvShape } from '../answers.js';
import type { Operation, TAGS } from '../operation.js';

type Schema = { properties: Record<string, unknown> };
const columnsOf = (schema: Schema) => Object.keys(schema.properties);

/** A list answer as CSV: one row per item, in the item schema's column order. */
const itemsCsv = <Answer extends { items: object[] }>(item: Schema): CsvShape<Answer> => ({
  columns: columnsOf(item),
  rows: (answer) => answer.items,
});

/** A grouped answer as CSV: one row per item, the group key first (once, though items carry their category). */
const groupsCsv = <Key extends string>(key: Key): CsvShape<{ groups: ({ [k in Key]: string } & { items: object[] })[] }> => ({
  columns: [key, ...columnsOf(schemas.rankedProductItem).filter((column) => column !== key)],
  rows: (answer) => answer.groups.flatMap((group) => group.items.map((item) => ({ [key]: group[key], ...item }))),
});

/** A single-object answer as a one-row CSV. */
const objectCsv = <Answer extends object>(schema: Schema): CsvShape<Answer> => ({
  columns: columnsOf(schema),
  rows: (answer) => [answer],
});

interface AnalyticsEndpoint<Params, Answer> {
  path: string;
  operationId: string;
  tag: Exclude<keyof typeof TAGS, 'refreshes'>;
  summary: string;
  description?: string;
  parameters: Operation['parameters'];
  answer: Record<string, unknown>;
  example?: unknown;
  analysis: (db: Queryable, params: Params) => Promise<Answer>;
  csv: CsvShape<Answer>;
}

export function analyticsOperations({ snapshots, cache }: { snapshots: SnapshotStore; cache?: AnswerCache }): Operation[] {
  const answer = answerer(snapshots, cache);
  const endpoint = <Params extends AnswerParams, Answer>(spec: AnalyticsEndpoint<Params, Answer>): Operation => ({
    method: 'get',
    path: spec.path,
    operationId: spec.operationId,
    tag: spec.tag,
    summary: spec.summary,
    access: 'reader',
    description: `${spec.description ? `${spec.description} ` : ''}Answers JSON, or CSV with Accept: text/csv or format=csv. ETag and Data-Version from the data version; If-None-Match answers 304. minVersion (or the version in If-None-Match) is the oldest data version the answer may come from (docs/replicas.md).`,
    parameters: spec.parameters,
    csv: true,
    conditional: true,
    response: {
      status: 200,
      description: spec.summary,
      schema: spec.answer,
      example: spec.example,
      headers: ['ETag', 'Data-Version', 'Cache-Control'],
    },
    handler: (ctx, params) => answer(ctx, params, spec.analysis, spec.csv),
  });

  return [
    endpoint({
      path: '/api/v1/revenue',
      operationId: 'revenue',
      tag: 'revenue',
      summary: 'Total revenue (net of discounts), gross, discounts, shipping, orders and units in a range',
      parameters: schemas.revenueParameters,
      answer: schemas.revenueAnswer,
      example: {
        from: '2024-01-01',
        to: '2024-12-31',
        revenue: 4712.57,
        grossRevenue: 4860,
        discounts: 147.43,
        shipping: 60,
        orders: 6,
        quantity: 15,
      },
      analysis: revenueSummary,
      csv: objectCsv(schemas.revenueAnswer),
    }),
    endpoint({
      path: '/api/v1/revenue/by-product',
      operationId: 'revenueByProduct',
      tag: 'revenue',
      summary: 'Revenue per product, revenue desc then product id',
      parameters: schemas.revenueByProductParameters,
      answer: schemas.revenueByProductAnswer,
      analysis: revenueByProduct,
      csv: itemsCsv(schemas.productRevenueItem),
    }),
    endpoint({
      path: '/api/v1/revenue/by-category',
      operationId: 'revenueByCategory',
      tag: 'revenue',
      summary: "Revenue per category (its products' current category), revenue desc then name",
      parameters: schemas.revenueByCategoryParameters,
      answer: schemas.revenueByCategoryAnswer,
      analysis: revenueByCategory,
      csv: itemsCsv(schemas.categoryRevenueItem),
    }),
    endpoint({
      path: '/api/v1/revenue/by-region',
      operationId: 'revenueByRegion',
      tag: 'revenue',
      summary: 'Revenue per region, revenue desc then name',
      parameters: schemas.revenueByRegionParameters,
      answer: schemas.revenueByRegionAnswer,
      analysis: revenueByRegion,
      csv: itemsCsv(schemas.regionRevenueItem),
    }),
    endpoint({
      path: '/api/v1/revenue/trend',
      operationId: 'revenueTrend',
      tag: 'revenue',
      summary: 'Revenue, units and orders per day, ISO week, month, quarter or year; every period listed',
      parameters: schemas.trendParameters,
      answer: schemas.trendAnswer,
      analysis: revenueTrend,
      csv: itemsCsv(schemas.trendItem),
    }),
    endpoint({
      path: '/api/v1/products/top',
      operationId: 'topProducts',
      tag: 'products',
      summary: 'Top-N products by units sold (then revenue, then product id)',
      parameters: schemas.topParameters,
      answer: schemas.topAnswer,
      analysis: topProducts,
      csv: itemsCsv(schemas.rankedProductItem),
    }),
    endpoint({
      path: '/api/v1/products/top/by-category',
      operationId: 'topProductsByCategory',
      tag: 'products',
      summary: 'Top-N products in each category',
      parameters: schemas.topByCategoryParameters,
      answer: schemas.topByCategoryAnswer,
      analysis: topProductsByCategory,
      csv: groupsCsv('category'),
    }),
    endpoint({
      path: '/api/v1/products/top/by-region',
      operationId: 'topProductsByRegion',
      tag: 'products',
      summary: 'Top-N products in each region',
      parameters: schemas.topByRegionParameters,
      answer: schemas.topByRegionAnswer,
      analysis: topProductsByRegion,
      csv: groupsCsv('region'),
    }),
    endpoint({
      path: '/api/v1/products/profit-margin',
      operationId: 'profitMargin',
      tag: 'products',
      summary: 'Profit and margin per product over the lines with a known unit cost',
      parameters: schemas.profitMarginParameters,
      answer: schemas.profitMarginAnswer,
      analysis: profitMargin,
      csv: itemsCsv(schemas.productMarginItem),
    }),
    endpoint({
      path: '/api/v1/customers/summary',
      operationId: 'customerSummary',
      tag: 'customers',
      summary: 'Distinct customers, orders, revenue and average order value in a range',
      parameters: schemas.customerSummaryParameters,
      answer: schemas.customerSummaryAnswer,
      analysis: customerSummary,
      csv: objectCsv(schemas.customerSummaryAnswer),
    }),
    endpoint({
      path: '/api/v1/customers/lifetime-value',
      operationId: 'lifetimeValue',
      tag: 'customers',
      summary: "Each customer's orders, revenue, average order value, first and last order in the range",
      parameters: schemas.lifetimeValueParameters,
      answer: schemas.lifetimeValueAnswer,
      analysis: lifetimeValue,
      csv: itemsCsv(schemas.customerValueItem),
    }),
    endpoint({
      path: '/api/v1/customers/segments',
      operationId: 'customerSegments',
      tag: 'customers',
      summary: 'RFM segments: customers, revenue and shares per segment',
      parameters: schemas.segmentsParameters,
      answer: schemas.segmentsAnswer,
      analysis: segments,
      csv: { columns: columnsOf(schemas.segmentItem), rows: (answer) => answer.segments },
    }),
    endpoint({
      path: '/api/v1/customers/segments/{segment}',
      operationId: 'customerSegmentMembers',
      tag: 'customers',
      summary: 'The customers of one RFM segment, with their scores',
      parameters: schemas.segmentMembersParameters,
      answer: schemas.segmentMembersAnswer,
      analysis: segmentMembers,
      csv: itemsCsv(schemas.segmentMemberItem),
    }),
  ];
}
