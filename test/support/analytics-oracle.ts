// An independent reference for the analytics: every figure recomputed in TypeScript from the generated lines
// (exact BigInt in 1e-4 units, rounded half away from zero only at the end), sharing no code with src/.
import type { GeneratedLine } from '../../src/generate/sales-generator.js';
import { lineMoney, money } from './sales-files.js';

export interface Range {
  from: string;
  to: string;
}

const toNumber = (amount: bigint) => Number(money(amount));
/** num / den rounded half away from zero to 4 decimals (both non-negative). */
export const ratio = (num: bigint, den: bigint) => (den === 0n ? 0 : Number((num * 20000n + den) / (2n * den)) / 10000);
const bytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b)) as number;

export const inRange = (lines: GeneratedLine[], range: Range) =>
  lines.filter((line) => line.dateOfSale >= range.from && line.dateOfSale <= range.to);

const cost = (line: GeneratedLine) => {
  if (line.unitCost === null) return null;
  const [whole, fraction = ''] = line.unitCost.split('.');
  return BigInt(line.quantity) * (BigInt(whole) * 10000n + BigInt(fraction.padEnd(4, '0')));
};

interface Totals {
  gross: bigint;
  discount: bigint;
  revenue: bigint;
  shipping: bigint;
  quantity: number;
  orders: Set<string>;
  costedRevenue: bigint;
  cost: bigint;
  costKnown: boolean;
}

function totals(lines: GeneratedLine[]): Totals {
  const result: Totals = {
    gross: 0n,
    discount: 0n,
    revenue: 0n,
    shipping: 0n,
    quantity: 0,
    orders: new Set(),
    costedRevenue: 0n,
    cost: 0n,
    costKnown: false,
  };
  for (const line of lines) {
    const figures = lineMoney(line);
    result.gross += figures.gross;
    result.discount += figures.discount;
    result.revenue += figures.revenue;
    result.shipping += figures.shipping;
    result.quantity += line.quantity;
    result.orders.add(line.orderId);
    const lineCost = cost(line);
    if (lineCost !== null) {
      result.costedRevenue += figures.revenue;
      result.cost += lineCost;
      result.costKnown = true;
    }
  }
  return result;
}

function groupBy<K>(lines: GeneratedLine[], key: (line: GeneratedLine) => K): Map<K, GeneratedLine[]> {
  const groups = new Map<K, GeneratedLine[]>();
  for (const line of lines) {
    const k = key(line);
    const group = groups.get(k) ?? [];
    group.push(line);
    groups.set(k, group);
  }
  return groups;
}

export function revenue(lines: GeneratedLine[], range: Range) {
  const t = totals(inRange(lines, range));
  return {
    ...range,
    revenue: toNumber(t.revenue),
    grossRevenue: toNumber(t.gross),
    discounts: toNumber(t.discount),
    shipping: toNumber(t.shipping),
    orders: t.orders.size,
    quantity: t.quantity,
  };
}

export function byDimension(lines: GeneratedLine[], range: Range, dimension: 'category' | 'region') {
  const groups = [...groupBy(inRange(lines, range), (line) => line[dimension])].map(([name, group]) => ({
    name,
    t: totals(group),
  }));
  groups.sort((a, b) => (a.t.revenue === b.t.revenue ? bytes(a.name, b.name) : a.t.revenue > b.t.revenue ? -1 : 1));
  return {
    ...range,
    items: groups.map(({ name, t }) => ({
      [dimension]: name,
      revenue: toNumber(t.revenue),
      quantity: t.quantity,
      orders: t.orders.size,
    })),
  };
}

function products(lines: GeneratedLine[]) {
  return [...groupBy(lines, (line) => line.productId)].map(([productId, group]) => ({
    productId,
    productName: group[group.length - 1].productName,
    category: group[group.length - 1].category,
    t: totals(group),
  }));
}

export function byProduct(lines: GeneratedLine[], range: Range, page = { limit: 100, offset: 0 }) {
  const all = products(inRange(lines, range));
  all.sort((a, b) => (a.t.revenue === b.t.revenue ? bytes(a.productId, b.productId) : a.t.revenue > b.t.revenue ? -1 : 1));
  return {
    ...range,
    items: all.slice(page.offset, page.offset + page.limit).map(({ productId, productName, category, t }) => ({
      productId,
      productName,
      category,
      revenue: toNumber(t.revenue),
      quantity: t.quantity,
    })),
    ...page,
    total: all.length,
  };
}

function ranked(lines: GeneratedLine[], n: number) {
  const all = products(lines);
  all.sort((a, b) => {
    if (a.t.quantity !== b.t.quantity) return b.t.quantity - a.t.quantity;
    if (a.t.revenue !== b.t.revenue) return a.t.revenue > b.t.revenue ? -1 : 1;
    return bytes(a.productId, b.productId);
  });
  return all.slice(0, n).map(({ productId, productName, category, t }, index) => ({
    rank: index + 1,
    productId,
    productName,
    category,
    quantity: t.quantity,
    revenue: toNumber(t.revenue),
  }));
}

export function top(lines: GeneratedLine[], range: Range, n: number) {
  return { ...range, items: ranked(inRange(lines, range), n) };
}

export function topBy(lines: GeneratedLine[], range: Range, n: number, dimension: 'category' | 'region') {
  const groups = [...groupBy(inRange(lines, range), (line) => line[dimension])].sort(([a], [b]) => bytes(a, b));
  return { ...range, groups: groups.map(([name, group]) => ({ [dimension]: name, items: ranked(group, n) })) };
}

// Calendar periods, computed on UTC dates.
const DAY = 86_400_000;
const parse = (day: string) => Date.parse(`${day}T00:00:00Z`);
const text = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function isoWeek(ms: number): { year: number; week: number; monday: number } {
  const weekday = (new Date(ms).getUTCDay() + 6) % 7; // Monday 0
  const monday = ms - weekday * DAY;
  const thursday = monday + 3 * DAY;
  const year = new Date(thursday).getUTCFullYear();
  const week = Math.floor((thursday - Date.UTC(year, 0, 1)) / (7 * DAY)) + 1;
  return { year, week, monday };
}

function period(day: string, interval: string): { period: string; start: string; end: string } {
  const ms = parse(day);
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  switch (interval) {
    case 'day':
      return { period: day, start: day, end: day };
    case 'week': {
      const { year, week, monday } = isoWeek(ms);
      return { period: `${year}-W${String(week).padStart(2, '0')}`, start: text(monday), end: text(monday + 6 * DAY) };
    }
    case 'month':
      return { period: day.slice(0, 7), start: text(Date.UTC(y, m, 1)), end: text(Date.UTC(y, m + 1, 0)) };
    case 'quarter': {
      const q = Math.floor(m / 3);
      return { period: `${y}-Q${q + 1}`, start: text(Date.UTC(y, q * 3, 1)), end: text(Date.UTC(y, q * 3 + 3, 0)) };
    }
    default:
      return { period: String(y), start: `${y}-01-01`, end: `${y}-12-31` };
  }
}

export function trend(lines: GeneratedLine[], range: Range, interval: string) {
  const periods: { period: string; start: string; end: string }[] = [];
  for (let day = range.from; day <= range.to; ) {
    const p = period(day, interval);
    periods.push(p);
    day = text(parse(p.end) + DAY);
  }
  const byPeriod = groupBy(inRange(lines, range), (line) => period(line.dateOfSale, interval).period);
  return {
    ...range,
    interval,
    items: periods.map((p) => {
      const t = totals(byPeriod.get(p.period) ?? []);
      return { ...p, revenue: toNumber(t.revenue), quantity: t.quantity, orders: t.orders.size };
    }),
  };
}

export function customerSummary(lines: GeneratedLine[], range: Range) {
  const selected = inRange(lines, range);
  const t = totals(selected);
  return {
    ...range,
    customers: new Set(selected.map((line) => line.customerId)).size,
    orders: t.orders.size,
    revenue: toNumber(t.revenue),
    averageOrderValue: t.orders.size === 0 ? 0 : Number(money(t.revenue / BigInt(t.orders.size))),
  };
}

export function lifetimeValue(lines: GeneratedLine[], range: Range, page = { limit: 100, offset: 0 }) {
  const customers = [...groupBy(inRange(lines, range), (line) => line.customerId)].map(([customerId, group]) => {
    const t = totals(group);
    const days = group.map((line) => line.dateOfSale).sort();
    return { customerId, name: group[group.length - 1].customerName, t, first: days[0], last: days[days.length - 1] };
  });
  customers.sort((a, b) =>
    a.t.revenue === b.t.revenue ? bytes(a.customerId, b.customerId) : a.t.revenue > b.t.revenue ? -1 : 1,
  );
  return {
    ...range,
    items: customers.slice(page.offset, page.offset + page.limit).map(({ customerId, name, t, first, last }) => ({
      customerId,
      name,
      orders: t.orders.size,
      revenue: toNumber(t.revenue),
      averageOrderValue: Number(money(t.revenue / BigInt(t.orders.size))),
      firstOrder: first,
      lastOrder: last,
    })),
    ...page,
    total: customers.length,
  };
}

export function profitMargin(lines: GeneratedLine[], range: Range, page = { limit: 100, offset: 0 }) {
  const selected = inRange(lines, range);
  const all = products(selected);
  all.sort((a, b) => (a.t.revenue === b.t.revenue ? bytes(a.productId, b.productId) : a.t.revenue > b.t.revenue ? -1 : 1));
  const t = totals(selected);
  return {
    ...range,
    items: all.slice(page.offset, page.offset + page.limit).map(({ productId, productName, category, t: p }) => ({
      productId,
      productName,
      category,
      revenue: toNumber(p.revenue),
      costedRevenue: toNumber(p.costedRevenue),
      cost: p.costKnown ? toNumber(p.cost) : null,
      profit: p.costKnown ? toNumber(p.costedRevenue - p.cost) : null,
      margin: p.costedRevenue === 0n ? null : marginOf(p.costedRevenue - p.cost, p.costedRevenue),
    })),
    costCoverage: ratio(t.costedRevenue, t.revenue),
    ...page,
    total: all.length,
  };
}

/** A possibly negative ratio, half away from zero. */
function marginOf(num: bigint, den: bigint): number {
  return num < 0n ? -ratio(-num, den) : ratio(num, den);
}
