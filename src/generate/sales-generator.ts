import { once } from 'node:events';
import { createWriteStream } from 'node:fs';

// Deterministic, realistic sales data: multi-line orders, seasonality, skewed product and customer
// popularity, optional unit cost and extra columns. Used by tests, the benchmark and the bundled sample.

export interface GeneratorOptions {
  rows: number;
  seed: number;
  /** 'sample' writes addresses with bare commas like the brief's sample; 'standard' quotes them. */
  style: 'standard' | 'sample';
  /** Adds Unit Cost (known for most lines) and two columns the loader keeps as attributes. */
  extraColumns: boolean;
  firstDay: string;
  lastDay: string;
  /** First Order ID; orders are numbered from it. */
  firstOrder: number;
}

export const DEFAULT_OPTIONS: GeneratorOptions = {
  rows: 1000,
  seed: 1,
  style: 'standard',
  extraColumns: false,
  firstDay: '2022-01-01',
  lastDay: '2024-12-31',
  firstOrder: 100_001,
};

export interface GeneratedLine {
  orderId: string;
  productId: string;
  customerId: string;
  productName: string;
  category: string;
  region: string;
  dateOfSale: string;
  quantity: number;
  /** Decimal text as written to the file. */
  unitPrice: string;
  discount: string;
  shippingCost: string;
  paymentMethod: string;
  customerName: string;
  customerEmail: string;
  customerAddress: string;
  unitCost: string | null;
  campaign: string | null;
  customerSegment: string | null;
}

export const BRIEF_HEADER = [
  'Order ID',
  'Product ID',
  'Customer ID',
  'Product Name',
  'Category',
  'Region',
  'Date of Sale',
  'Quantity Sold',
  'Unit Price',
  'Discount',
  'Shipping Cost',
  'Payment Method',
  'Customer Name',
  'Customer Email',
  'Customer Address',
];

const CATEGORIES: [string, string[], number][] = [
  ['Electronics', ['Headphones', 'Phone', 'Tablet', 'Camera', 'Speaker', 'Monitor'], 400],
  ['Shoes', ['Running Shoes', 'Sneakers', 'Boots', 'Sandals'], 120],
  ['Clothing', ['Jeans', 'T-Shirt', 'Jacket', 'Sweater', 'Dress'], 60],
  ['Home', ['Lamp', 'Blender', 'Cookware Set', 'Vacuum'], 150],
  ['Sports', ['Yoga Mat', 'Dumbbells', 'Bicycle Helmet', 'Tennis Racket'], 80],
  ['Books', ['Novel', 'Cookbook', 'Biography', 'Atlas'], 25],
  ['Beauty', ['Perfume', 'Face Cream', 'Hair Dryer'], 45],
  ['Toys', ['Puzzle', 'Board Game', 'Building Blocks', 'Doll'], 35],
];
const BRANDS = ['Acme', 'Nova', 'Zenith', 'Orbit', 'Summit', 'Vertex', 'Lumen', 'Apex', 'Terra', 'Pulse'];
const REGIONS = ['North America', 'Europe', 'Asia', 'South America', 'Oceania', 'Africa'];
const REGION_WEIGHTS = [34, 28, 22, 8, 5, 3];
const PAYMENTS = ['Credit Card', 'PayPal', 'Debit Card', 'Bank Transfer', 'Gift Card'];
const PAYMENT_WEIGHTS = [45, 25, 20, 7, 3];
const FIRST_NAMES = [
  'John',
  'Emily',
  'Sarah',
  'Michael',
  'Olivia',
  'Liam',
  'Ava',
  'Noah',
  'Mia',
  'Lucas',
  'Zoë',
  'Mateo',
  'Aisha',
  'Wei',
  'Yuki',
  "O'Brien",
];
const LAST_NAMES = [
  'Smith',
  'Davis',
  'Johnson',
  'Brown',
  'Garcia',
  'Müller',
  'Rossi',
  'Kim',
  'Nguyen',
  'Okafor',
  'Silva',
  'Tanaka',
];
const STREETS = ['Main St', 'Elm St', 'Oak St', 'Maple Ave', 'Pine Rd', 'Cedar Ln', 'Lakeview Dr', 'Hill St'];
const CITIES: [string, string][] = [
  ['Anytown', 'CA'],
  ['Otherville', 'NY'],
  ['New City', 'TX'],
  ['Springfield', 'IL'],
  ['Riverside', 'WA'],
  ['Fairview', 'OR'],
];
// Retail seasonality: November and December sell most.
const MONTH_WEIGHTS = [0.8, 0.75, 0.85, 0.85, 0.9, 0.9, 0.95, 0.95, 0.9, 1.0, 1.35, 1.6];
const DISCOUNTS = ['0', '0', '0', '0.05', '0.1', '0.15', '0.2', '0.25'];
const CAMPAIGNS = ['Spring Sale', 'Black Friday', 'Newsletter', 'Social Ads', 'Loyalty Program'];
const SEGMENTS = ['Student', 'Professional', 'Retired', 'Family'];

/** mulberry32: small, fast, deterministic. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function weighted(rand: () => number, weights: number[]): number {
  const total = weights.reduce((a, b) => a + b, 0);
  let x = rand() * total;
  for (let i = 0; i < weights.length; i++) {
    x -= weights[i];
    if (x < 0) return i;
  }
  return weights.length - 1;
}

/** Skewed towards low indices: a few products and customers account for much of the sales. */
function skewed(rand: () => number, n: number): number {
  return Math.min(n - 1, Math.floor(n * rand() ** 2.2));
}

function dayNumber(day: string): number {
  return Date.parse(`${day}T00:00:00Z`) / 86_400_000;
}

function dayText(n: number): string {
  return new Date(n * 86_400_000).toISOString().slice(0, 10);
}

interface Product {
  id: string;
  name: string;
  category: string;
  price: number;
  cost: number;
}

interface Customer {
  id: string;
  name: string;
  email: string;
  address: string;
  segment: string;
}

export function* generateSales(partial: Partial<GeneratorOptions> = {}): Generator<GeneratedLine> {
  const options = { ...DEFAULT_OPTIONS, ...partial };
  const rand = random(options.seed);
  const productCount = Math.max(20, Math.min(5000, Math.round(options.rows / 150)));
  const customerCount = Math.max(30, Math.min(200_000, Math.round(options.rows / 8)));

  const products: Product[] = Array.from({ length: productCount }, (_, i) => {
    const [category, kinds, basePrice] = CATEGORIES[i % CATEGORIES.length];
    const price = Math.round(basePrice * (0.4 + rand() * 1.6) * 100) / 100 + 0.99;
    return {
      id: `P${1000 + i}`,
      name: `${BRANDS[Math.floor(rand() * BRANDS.length)]} ${kinds[Math.floor(rand() * kinds.length)]} ${100 + i}`,
      category,
      price,
      cost: Math.round(price * (0.35 + rand() * 0.4) * 100) / 100,
    };
  });
  const customers: Customer[] = Array.from({ length: customerCount }, (_, i) => {
    const first = FIRST_NAMES[Math.floor(rand() * FIRST_NAMES.length)];
    const last = LAST_NAMES[Math.floor(rand() * LAST_NAMES.length)];
    const [city, state] = CITIES[Math.floor(rand() * CITIES.length)];
    return {
      id: `C${10_000 + i}`,
      name: `${first} ${last}`,
      email: `${first.toLowerCase().replace(/[^a-z]/g, '')}.${last.toLowerCase().replace(/[^a-z]/g, '')}${i}@example.com`,
      address: `${1 + Math.floor(rand() * 9000)} ${STREETS[Math.floor(rand() * STREETS.length)]}, ${city}, ${state} ${10_000 + Math.floor(rand() * 89_999)}`,
      segment: SEGMENTS[Math.floor(rand() * SEGMENTS.length)],
    };
  });

  const first = dayNumber(options.firstDay);
  const span = dayNumber(options.lastDay) - first + 1;
  const pickDay = (): string => {
    for (;;) {
      const day = first + Math.floor(rand() * span);
      if (rand() * 1.6 < MONTH_WEIGHTS[new Date(day * 86_400_000).getUTCMonth()]) return dayText(day);
    }
  };

  let emitted = 0;
  for (let order = options.firstOrder; emitted < options.rows; order++) {
    const customer = customers[skewed(rand, customerCount)];
    const day = pickDay();
    const region = REGIONS[weighted(rand, REGION_WEIGHTS)];
    const payment = PAYMENTS[weighted(rand, PAYMENT_WEIGHTS)];
    const lineCount = 1 + weighted(rand, [50, 28, 14, 8]);
    const used = new Set<number>();
    for (let l = 0; l < lineCount && emitted < options.rows; l++) {
      const index = skewed(rand, productCount);
      if (used.has(index)) continue;
      used.add(index);
      const product = products[index];
      const withCost = options.extraColumns && rand() < 0.85;
      yield {
        orderId: String(order),
        productId: product.id,
        customerId: customer.id,
        productName: product.name,
        category: product.category,
        region,
        dateOfSale: day,
        quantity: 1 + weighted(rand, [55, 25, 10, 6, 4]),
        unitPrice: product.price.toFixed(2),
        discount: DISCOUNTS[Math.floor(rand() * DISCOUNTS.length)],
        shippingCost: (Math.floor(rand() * 2500) / 100).toFixed(2),
        paymentMethod: payment,
        customerName: customer.name,
        customerEmail: customer.email,
        customerAddress: customer.address,
        unitCost: withCost ? product.cost.toFixed(2) : null,
        campaign: options.extraColumns && rand() < 0.4 ? CAMPAIGNS[Math.floor(rand() * CAMPAIGNS.length)] : null,
        customerSegment: options.extraColumns ? customer.segment : null,
      };
      emitted++;
    }
  }
}

export function salesHeader(extraColumns: boolean): string[] {
  return extraColumns
    ? [...BRIEF_HEADER.slice(0, -1), 'Unit Cost', 'Marketing Campaign', 'Customer Segment', 'Customer Address']
    : BRIEF_HEADER;
}

function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** One CSV line (with its newline) in the generator's column order. */
export function salesCsvLine(line: GeneratedLine, options: Pick<GeneratorOptions, 'style' | 'extraColumns'>): string {
  const cells = [
    line.orderId,
    line.productId,
    line.customerId,
    line.productName,
    line.category,
    line.region,
    line.dateOfSale,
    String(line.quantity),
    line.unitPrice,
    line.discount,
    line.shippingCost,
    line.paymentMethod,
    line.customerName,
    line.customerEmail,
  ].map(csvCell);
  if (options.extraColumns) cells.push(line.unitCost ?? '', csvCell(line.campaign ?? ''), csvCell(line.customerSegment ?? ''));
  // Customer Address stays last so that the brief's bare-comma style can be read back.
  cells.push(options.style === 'sample' ? line.customerAddress : csvCell(line.customerAddress));
  return `${cells.join(',')}\n`;
}

/** Writes a CSV file: the header, then `leadingRows` (already CSV text, e.g. the brief's rows), then `lines`. */
export async function writeSalesCsv(
  file: string,
  lines: Iterable<GeneratedLine>,
  options: Pick<GeneratorOptions, 'style' | 'extraColumns'>,
  leadingRows: string[] = [],
): Promise<void> {
  const out = createWriteStream(file);
  const failed = once(out, 'error').then(([error]) => Promise.reject(error));
  failed.catch(() => {});
  let text = [salesHeader(options.extraColumns).join(','), ...leadingRows].map((row) => `${row}\n`).join('');
  for (const line of lines) {
    text += salesCsvLine(line, options);
    if (text.length > 1 << 20) {
      if (!out.write(text)) await Promise.race([once(out, 'drain'), failed]);
      text = '';
    }
  }
  out.end(text);
  await Promise.race([once(out, 'finish'), failed]);
}
