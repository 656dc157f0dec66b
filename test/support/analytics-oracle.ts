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

/** Each line's exact figures, computed once: the oracle folds the same lines for many answers. */
const figures = new WeakMap<GeneratedLine, { money: ReturnType<typeof lineMoney>; cost: bigint | null }>();
function figuresOf(line: GeneratedLine) {
  let known = figures.get(line);
  if (!known) {
    known = { money: lineMoney(line), cost: cost(line) };
    figures.set(line, known);
  }
  return known;
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
    const { money: lineFigures, cost: lineCost } = figuresOf(line);
    result.gross += lineFigures.gross;
    result.discount += lineFigures.discount;
    result.revenue += lineFigures.revenue;
    result.shipping += lineFigures.shipping;
    result.quantity += line.quantity;
    result.orders.add(line.orderId);
    if (lineCost !== null) {
      result.costedRevenue += lineFigures.revenue;
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
  const labels = new Map<string, string>(); // per sale day: the oracle folds many lines per day
  const label = (day: string) => labels.get(day) ?? labels.set(day, period(day, interval).period).get(day)!;
  const byPeriod = groupBy(inRange(lines, range), (line) => label(line.dateOfSale));
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
  const answer = {
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
  return t.costKnown ? answer : { ...answer, note: NO_COST_NOTE };
}

const NO_COST_NOTE = 'no line in this range has a known unit cost: cost, profit and margin cannot be computed';

/** A possibly negative ratio, half away from zero. */
function marginOf(num: bigint, den: bigint): number {
  return num < 0n ? -ratio(-num, den) : ratio(num, den);
}

/** The RFM segments in rule order, with their descriptions (r, f, m = recency, frequency, monetary scores). */
const SEGMENT_RULES: { segment: string; description: string; matches: (r: number, f: number, m: number) => boolean }[] = [
  { segment: 'champions', description: 'recent, frequent and big spenders', matches: (r, f, m) => r >= 4 && f >= 4 && m >= 4 },
  { segment: 'loyal', description: 'order often and not long ago', matches: (r, f) => r >= 3 && f >= 4 },
  {
    segment: 'cant-lose',
    description: 'were frequent big spenders, not seen lately',
    matches: (r, f, m) => r <= 2 && f >= 4 && m >= 4,
  },
  { segment: 'at-risk', description: 'ordered regularly, not lately', matches: (r, f) => r <= 2 && f >= 3 },
  { segment: 'promising', description: 'recent, few orders so far', matches: (r) => r >= 4 },
  { segment: 'needs-attention', description: 'middling recency, few orders', matches: (r) => r === 3 },
  { segment: 'hibernating', description: 'long ago and rarely', matches: () => true },
];
export const SEGMENT_NAMES = SEGMENT_RULES.map(({ segment }) => segment);

/**
 * Scores 5..1 by quintile: `best` first, cut into five groups as equal as possible, the first groups taking
 * one more when the count does not divide by five (a group per customer when there are fewer than five).
 */
function quintiles<T>(items: T[], best: (a: T, b: T) => number): Map<T, number> {
  const ordered = [...items].sort(best);
  const size = Math.floor(ordered.length / 5);
  const larger = ordered.length % 5;
  const scores = new Map<T, number>();
  let index = 0;
  for (let group = 0; group < 5; group++) {
    for (let i = 0; i < size + (group < larger ? 1 : 0); i++) scores.set(ordered[index++], 5 - group);
  }
  return scores;
}

/** Every customer with orders in the range: recency to `to`, frequency, monetary, scores and segment. */
function scoredCustomers(lines: GeneratedLine[], range: Range) {
  const customers = [...groupBy(inRange(lines, range), (line) => line.customerId)].map(([customerId, group]) => {
    const t = totals(group);
    const lastOrder = group.map((line) => line.dateOfSale).sort()[group.length - 1];
    return {
      customerId,
      name: group[group.length - 1].customerName,
      recency: (parse(range.to) - parse(lastOrder)) / DAY,
      frequency: t.orders.size,
      revenue: t.revenue,
      lastOrder,
    };
  });
  type Customer = (typeof customers)[number];
  const byCode = (a: Customer, b: Customer) => bytes(a.customerId, b.customerId);
  const r = quintiles(customers, (a, b) => a.recency - b.recency || byCode(a, b));
  const f = quintiles(customers, (a, b) => b.frequency - a.frequency || byCode(a, b));
  const m = quintiles(customers, (a, b) => (a.revenue === b.revenue ? byCode(a, b) : a.revenue > b.revenue ? -1 : 1));
  return customers.map((customer) => {
    const scores = { recencyScore: r.get(customer)!, frequencyScore: f.get(customer)!, monetaryScore: m.get(customer)! };
    const rule = SEGMENT_RULES.find(({ matches }) => matches(scores.recencyScore, scores.frequencyScore, scores.monetaryScore))!;
    return { ...customer, ...scores, segment: rule.segment };
  });
}

export function segments(lines: GeneratedLine[], range: Range) {
  const customers = scoredCustomers(lines, range);
  const revenue = customers.reduce((total, customer) => total + customer.revenue, 0n);
  return {
    ...range,
    segments: SEGMENT_RULES.map(({ segment, description }) => {
      const members = customers.filter((customer) => customer.segment === segment);
      const segmentRevenue = members.reduce((total, customer) => total + customer.revenue, 0n);
      return {
        segment,
        description,
        customers: members.length,
        revenue: toNumber(segmentRevenue),
        share: ratio(BigInt(members.length), BigInt(customers.length)),
        revenueShare: ratio(segmentRevenue, revenue),
      };
    }),
  };
}

export function segmentMembers(lines: GeneratedLine[], range: Range, segment: string, page = { limit: 100, offset: 0 }) {
  const members = scoredCustomers(lines, range).filter((customer) => customer.segment === segment);
  members.sort((a, b) => (a.revenue === b.revenue ? bytes(a.customerId, b.customerId) : a.revenue > b.revenue ? -1 : 1));
  return {
    ...range,
    segment,
    items: members.slice(page.offset, page.offset + page.limit).map((customer) => ({
      customerId: customer.customerId,
      name: customer.name,
      recency: customer.recency,
      frequency: customer.frequency,
      monetary: toNumber(customer.revenue),
      recencyScore: customer.recencyScore,
      frequencyScore: customer.frequencyScore,
      monetaryScore: customer.monetaryScore,
      lastOrder: customer.lastOrder,
    })),
    ...page,
    total: members.length,
  };
}

/** A range as asked, its missing bounds defaulted to the first and last sale day of the data. */
export function effectiveRange(lines: GeneratedLine[], query: Partial<Range>): Range {
  const days = lines.map((line) => line.dateOfSale).sort();
  return { from: query.from ?? days[0], to: query.to ?? days[days.length - 1] };
}

/**
 * The lines the database holds after appending these files in order (each free of rejects and in-file
 * conflicts): a line key's last row wins; an order's customer, day, region and payment are those of its first
 * row in the newest file holding it, for all its lines; a product's name and category and a customer's name,
 * e-mail and address are those of the last row mentioning them, for all their history.
 */
export function afterAppends(...files: GeneratedLine[][]): GeneratedLine[] {
  const lines = new Map<string, GeneratedLine>();
  const orders = new Map<string, Pick<GeneratedLine, 'customerId' | 'dateOfSale' | 'region' | 'paymentMethod'>>();
  const products = new Map<string, Pick<GeneratedLine, 'productName' | 'category'>>();
  const customers = new Map<string, Pick<GeneratedLine, 'customerName' | 'customerEmail' | 'customerAddress'>>();
  for (const file of files) {
    const fileOrders = new Map<string, Pick<GeneratedLine, 'customerId' | 'dateOfSale' | 'region' | 'paymentMethod'>>();
    for (const line of file) {
      lines.set(`${line.orderId}\u0000${line.productId}`, line);
      if (!fileOrders.has(line.orderId)) {
        const { customerId, dateOfSale, region, paymentMethod } = line;
        fileOrders.set(line.orderId, { customerId, dateOfSale, region, paymentMethod });
      }
      products.set(line.productId, { productName: line.productName, category: line.category });
      const { customerName, customerEmail, customerAddress } = line;
      customers.set(line.customerId, { customerName, customerEmail, customerAddress });
    }
    for (const [orderId, order] of fileOrders) orders.set(orderId, order);
  }
  return [...lines.values()].map((line) => {
    const order = orders.get(line.orderId)!;
    return { ...line, ...order, ...products.get(line.productId)!, ...customers.get(order.customerId)! };
  });
}
