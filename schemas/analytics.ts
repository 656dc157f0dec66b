// The analytics endpoints: parameters (validated with ajv) and answers (documented in OpenAPI).
import { MAX_TREND_PERIODS } from '../src/analytics/revenue-trend.js';
import { SEGMENT_NAMES } from '../src/analytics/segments.js';
import { date, formatParameter, minVersionParameter, page, pageParameters } from './common.js';

const range = {
  from: { ...date, description: 'First day, inclusive (default: the first sale day).' },
  to: { ...date, description: 'Last day, inclusive (default: the last sale day).' },
} as const;
const category = { type: 'string', minLength: 1, description: 'Only this category (exact name, any case).' } as const;
const region = { type: 'string', minLength: 1, description: 'Only this region (exact name, any case).' } as const;
const n = (fallback: number) =>
  ({ type: 'integer', minimum: 1, maximum: 100, default: fallback, description: 'How many products (1..100).' }) as const;

const parameters = <P extends Record<string, unknown>>(properties: P) =>
  ({ type: 'object', properties: { ...range, ...properties, ...formatParameter, ...minVersionParameter } }) as const;

export const revenueParameters = parameters({});
export const revenueByProductParameters = parameters({ category, region, ...pageParameters });
export const revenueByCategoryParameters = parameters({ region });
export const revenueByRegionParameters = parameters({ category });
export const trendParameters = parameters({
  interval: {
    type: 'string',
    enum: ['day', 'week', 'month', 'quarter', 'year'],
    default: 'month',
    description: `The period; a trend lists at most ${MAX_TREND_PERIODS} periods of the effective range (more is a 400).`,
  },
  category,
  region,
});
export const topParameters = parameters({ n: n(10), category, region });
export const topByCategoryParameters = parameters({ n: n(5), region });
export const topByRegionParameters = parameters({ n: n(5), category });
export const customerSummaryParameters = parameters({});
export const lifetimeValueParameters = parameters({ ...pageParameters });
export const segmentsParameters = parameters({});
export const segmentMembersParameters = parameters({
  segment: { type: 'string', enum: SEGMENT_NAMES, description: 'The segment name.' },
  ...pageParameters,
});
export const profitMarginParameters = parameters({ category, region, ...pageParameters });

// Answers. Property order is the JSON order and the CSV column order.
const money = { type: 'number', description: 'Rounded to cents, half away from zero.' } as const;
const count = { type: 'integer' } as const;
const day = { type: 'string', format: 'date' } as const;
const echoedRange = { from: { type: ['string', 'null'], format: 'date' }, to: { type: ['string', 'null'], format: 'date' } } as const;
const list = <Item extends object>(item: Item, extra: Record<string, unknown> = {}) =>
  ({ type: 'object', properties: { ...echoedRange, ...extra, items: { type: 'array', items: item } } }) as const;
const item = <P extends Record<string, unknown>>(properties: P) => ({ type: 'object', properties }) as const;

export const revenueAnswer = item({
  ...echoedRange,
  revenue: money,
  grossRevenue: money,
  discounts: money,
  shipping: money,
  orders: count,
  quantity: count,
});
export const productRevenueItem = item({
  productId: { type: 'string' },
  productName: { type: 'string' },
  category: { type: 'string' },
  revenue: money,
  quantity: count,
});
export const revenueByProductAnswer = list(productRevenueItem, page);
export const categoryRevenueItem = item({ category: { type: 'string' }, revenue: money, quantity: count, orders: count });
export const revenueByCategoryAnswer = list(categoryRevenueItem);
export const regionRevenueItem = item({ region: { type: 'string' }, revenue: money, quantity: count, orders: count });
export const revenueByRegionAnswer = list(regionRevenueItem);
export const trendItem = item({
  period: { type: 'string', examples: ['2024-01-15', '2024-W03', '2024-01', '2024-Q1', '2024'] },
  start: day,
  end: day,
  revenue: money,
  quantity: count,
  orders: count,
});
export const trendAnswer = list(trendItem, { interval: { type: 'string' } });
export const rankedProductItem = item({
  rank: count,
  productId: { type: 'string' },
  productName: { type: 'string' },
  category: { type: 'string' },
  quantity: count,
  revenue: money,
});
export const topAnswer = list(rankedProductItem);
const groups = (key: 'category' | 'region') =>
  ({
    type: 'object',
    properties: {
      ...echoedRange,
      groups: {
        type: 'array',
        items: { type: 'object', properties: { [key]: { type: 'string' }, items: { type: 'array', items: rankedProductItem } } },
      },
    },
  }) as const;
export const topByCategoryAnswer = groups('category');
export const topByRegionAnswer = groups('region');
export const customerSummaryAnswer = item({
  ...echoedRange,
  customers: count,
  orders: count,
  revenue: money,
  averageOrderValue: money,
});
export const customerValueItem = item({
  customerId: { type: 'string' },
  name: { type: 'string' },
  orders: count,
  revenue: money,
  averageOrderValue: money,
  firstOrder: day,
  lastOrder: day,
});
export const lifetimeValueAnswer = list(customerValueItem, page);
export const segmentItem = item({
  segment: { type: 'string', enum: SEGMENT_NAMES },
  description: { type: 'string' },
  customers: count,
  revenue: money,
  share: { type: 'number', description: 'Share of the customers, 4 decimals.' },
  revenueShare: { type: 'number', description: 'Share of the revenue, 4 decimals.' },
});
export const segmentsAnswer = {
  type: 'object',
  properties: { ...echoedRange, segments: { type: 'array', items: segmentItem } },
} as const;
export const segmentMemberItem = item({
  customerId: { type: 'string' },
  name: { type: 'string' },
  recency: { type: 'integer', description: 'Days from the last order day to `to`.' },
  frequency: count,
  monetary: money,
  recencyScore: count,
  frequencyScore: count,
  monetaryScore: count,
  lastOrder: day,
});
export const segmentMembersAnswer = list(segmentMemberItem, { segment: { type: 'string' }, ...page });
const nullableMoney = { type: ['number', 'null'] } as const;
export const productMarginItem = item({
  productId: { type: 'string' },
  productName: { type: 'string' },
  category: { type: 'string' },
  revenue: money,
  costedRevenue: money,
  cost: nullableMoney,
  profit: nullableMoney,
  margin: { type: ['number', 'null'], description: 'profit / costedRevenue, 4 decimals.' },
});
export const profitMarginAnswer = list(productMarginItem, {
  costCoverage: { type: 'number', description: 'costedRevenue / revenue over the listed products.' },
  note: { type: 'string', description: 'Present when no line has a known unit cost.' },
  ...page,
});
