// Property: for random files of sales rows, valid and mutated (bad values, missing fields, extra or missing
// columns, repeated line keys, orders that disagree with themselves, spellings semantics.md accepts), every
// row is loaded, counted as a duplicate or rejected with its reasons (exactly one of these), and what the
// database holds (lines, products, customers, revenue in every rollup) equals a model of semantics.md written
// here, independent of src/load. Each run starts from an empty database, optionally loads an earlier file, then
// loads the file under test in append or replace mode.

import { expect } from 'chai';
import fc from 'fast-check';
import { useTestDatabase } from '../../support/database.js';
import { load, writeFile } from '../../support/sales-files.js';
import { snapshotQuery } from '../../support/snapshot.js';

// ---- Exact decimals: units / 10^scale --------------------------------------------------------------------

interface Decimal {
  units: bigint;
  scale: number;
}
const decimalOf = (text: string): Decimal => {
  const [whole, fraction = ''] = text.split('.');
  return { units: BigInt(`${whole || '0'}${fraction}`), scale: fraction.length };
};
const rescale = (d: Decimal, scale: number) => d.units * 10n ** BigInt(scale - d.scale);
const add = (a: Decimal, b: Decimal): Decimal => {
  const scale = Math.max(a.scale, b.scale);
  return { units: rescale(a, scale) + rescale(b, scale), scale };
};
const times = (a: Decimal, b: Decimal): Decimal => ({ units: a.units * b.units, scale: a.scale + b.scale });
const sameValue = (a: Decimal | null, b: Decimal | null) =>
  a === null || b === null ? a === b : rescale(a, Math.max(a.scale, b.scale)) === rescale(b, Math.max(a.scale, b.scale));
const ZERO: Decimal = { units: 0n, scale: 0 };
const ONE: Decimal = { units: 1n, scale: 0 };
/** Canonical text, for messages and map keys: no trailing fractional zeros. */
const decimalText = (d: Decimal | null): string | null => {
  if (d === null) return null;
  let { units, scale } = d;
  while (scale > 0 && units % 10n === 0n) {
    units /= 10n;
    scale--;
  }
  const digits = units.toString().padStart(scale + 1, '0');
  return scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
};

// ---- The rules of semantics.md (Input), as this test reads them ---------------------------------------

const COLUMNS = {
  orderId: 'Order ID',
  productId: 'Product ID',
  customerId: 'Customer ID',
  productName: 'Product Name',
  category: 'Category',
  region: 'Region',
  dateOfSale: 'Date of Sale',
  quantitySold: 'Quantity Sold',
  unitPrice: 'Unit Price',
  discount: 'Discount',
  shippingCost: 'Shipping Cost',
  paymentMethod: 'Payment Method',
  customerName: 'Customer Name',
  customerEmail: 'Customer Email',
  customerAddress: 'Customer Address',
  unitCost: 'Unit Cost',
  campaign: 'Campaign',
} as const;
type Column = keyof typeof COLUMNS;
const REQUIRED: Column[] = [
  'orderId',
  'productId',
  'customerId',
  'productName',
  'category',
  'region',
  'dateOfSale',
  'quantitySold',
  'unitPrice',
  'paymentMethod',
  'customerName',
  'customerEmail',
];
const ORDER_FIELDS = ['customerId', 'dateOfSale', 'region', 'paymentMethod'] as const;
const TODAY = new Date().toISOString().slice(0, 10);
const PLAIN_DECIMAL = /^(\d+(\.\d*)?|\.\d+)$/;
const TIME = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?$/;

function validDate(value: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](.*))?$/.exec(value);
  if (!match) return false;
  const [year, month, day] = match.slice(1, 4).map(Number);
  const calendar = new Date(Date.UTC(year, month - 1, day));
  const real = year >= 1 && calendar.getUTCMonth() === month - 1 && calendar.getUTCDate() === day;
  const time = match[4] === undefined ? undefined : TIME.exec(match[4]);
  const realTime = match[4] === undefined || (!!time && +time[1] <= 23 && +time[2] <= 59 && +(time[3] ?? 0) <= 59);
  return real && realTime && value.slice(0, 10) <= TODAY;
}

function discountOf(text: string): Decimal | undefined {
  const percent = /^(.*?)\s*%$/.exec(text);
  const number = percent ? percent[1] : text;
  if (!PLAIN_DECIMAL.test(number)) return undefined;
  const value = decimalOf(number);
  const fraction = percent ? { units: value.units, scale: value.scale + 2 } : value;
  return fraction.units <= 10n ** BigInt(fraction.scale) ? fraction : undefined;
}

interface Line {
  order: string;
  product: string;
  quantity: number;
  unitPrice: Decimal;
  discount: Decimal;
  shipping: Decimal;
  unitCost: Decimal | null;
  attributes: Record<string, string> | null;
}
interface OrderFields {
  customerId: string;
  day: string;
  region: string;
  paymentMethod: string;
}
type Values = Partial<Record<Column, string>>;

/** The columns a row's values fail, each once (semantics.md: every reason that applies). */
function faultsOf(v: Values): Column[] {
  const faults = REQUIRED.filter((column) => !v[column]);
  const bad = (column: Column, ok: (text: string) => boolean) => {
    if (v[column] && !ok(v[column])) faults.push(column);
  };
  bad('customerEmail', (email) => {
    const parts = email.split('@');
    return parts.length === 2 && parts[0] !== '' && parts[1].includes('.');
  });
  bad('dateOfSale', validDate);
  bad('quantitySold', (q) => /^\d+$/.test(q) && BigInt(q) >= 1n && BigInt(q) <= 2_147_483_647n);
  for (const money of ['unitPrice', 'shippingCost', 'unitCost'] as const) bad(money, (text) => PLAIN_DECIMAL.test(text));
  bad('discount', (text) => discountOf(text) !== undefined);
  return faults;
}

// ---- What the database should hold ----------------------------------------------------------------------

interface Model {
  lines: Map<string, Line>;
  orders: Map<string, OrderFields>;
  products: Map<string, { name: string; category: string }>;
  customers: Map<string, { name: string; email: string; address: string | null }>;
}
const emptyModel = (): Model => ({ lines: new Map(), orders: new Map(), products: new Map(), customers: new Map() });
const keyOf = (order: string, product: string) => JSON.stringify([order, product]);

interface Expected {
  model: Model;
  counts: Record<string, number>;
  /** Physical line -> the columns its reasons must name ('fields' for a field-count mismatch, 'conflict:...'). */
  rejects: Map<number, string[]>;
}

/** A file's rows (their values as the header maps them, or a field-count mismatch) applied to `before`. */
function expectedLoad(file: { rows: FileRow[]; campaignName: string }, before: Model, mode: 'append' | 'replace'): Expected {
  const { rows } = file;
  const rejects = new Map<number, string[]>();
  const firstRow = new Map<string, OrderFields & { line: number }>();
  const winners = new Map<string, { line: Line; fields: OrderFields }>();
  const products: Model['products'] = new Map();
  const customers: Model['customers'] = new Map();
  let duplicates = 0;
  for (const row of rows) {
    if (row.values === 'mismatch') {
      rejects.set(row.line, ['fields']);
      continue;
    }
    const v = row.values;
    const faults = faultsOf(v);
    if (faults.length > 0) {
      rejects.set(row.line, faults);
      continue;
    }
    const fields = {
      customerId: v.customerId!,
      day: v.dateOfSale!.slice(0, 10),
      region: v.region!,
      paymentMethod: v.paymentMethod!,
    };
    const first = firstRow.get(v.orderId!);
    if (first) {
      const conflicts = ORDER_FIELDS.filter((field) =>
        field === 'dateOfSale' ? first.day !== fields.day : first[field] !== fields[field],
      );
      if (conflicts.length > 0) {
        rejects.set(
          row.line,
          conflicts.map((field) => `conflict: ${COLUMNS[field]}`),
        );
        continue;
      }
    } else firstRow.set(v.orderId!, { ...fields, line: row.line });
    const key = keyOf(v.orderId!, v.productId!);
    if (winners.has(key)) duplicates++;
    const campaign = v.campaign ? { [file.campaignName]: v.campaign } : null;
    winners.set(key, {
      fields,
      line: {
        order: v.orderId!,
        product: v.productId!,
        quantity: Number(v.quantitySold),
        unitPrice: decimalOf(v.unitPrice!),
        discount: v.discount ? discountOf(v.discount)! : ZERO,
        shipping: v.shippingCost ? decimalOf(v.shippingCost) : ZERO,
        unitCost: v.unitCost ? decimalOf(v.unitCost) : null,
        attributes: campaign,
      },
    });
    products.set(v.productId!, { name: v.productName!, category: v.category! });
    customers.set(v.customerId!, { name: v.customerName!, email: v.customerEmail!, address: v.customerAddress || null });
  }

  const counts = { read: rows.length, rejected: rejects.size, duplicates, inserted: 0, updated: 0, unchanged: 0, deleted: 0 };
  const model: Model =
    mode === 'replace'
      ? emptyModel()
      : {
          lines: new Map(before.lines),
          orders: new Map(before.orders),
          products: new Map(before.products),
          customers: new Map(before.customers),
        };
  for (const [key, { line, fields }] of winners) {
    const stored = before.lines.get(key);
    if (!stored) counts.inserted++;
    else {
      const order = before.orders.get(stored.order)!;
      const same =
        stored.quantity === line.quantity &&
        sameValue(stored.unitPrice, line.unitPrice) &&
        sameValue(stored.discount, line.discount) &&
        sameValue(stored.shipping, line.shipping) &&
        sameValue(stored.unitCost, line.unitCost) &&
        JSON.stringify(stored.attributes) === JSON.stringify(line.attributes) &&
        JSON.stringify(order) === JSON.stringify(fields);
      counts[same ? 'unchanged' : 'updated']++;
    }
    model.lines.set(key, line);
    model.orders.set(line.order, fields);
  }
  if (mode === 'replace') {
    counts.deleted = [...before.lines.keys()].filter((key) => !winners.has(key)).length;
    model.products = products;
    model.customers = customers;
  } else {
    for (const [code, product] of products) model.products.set(code, product);
    for (const [code, customer] of customers) model.customers.set(code, customer);
  }
  return { model, counts, rejects };
}

// ---- Random files -----------------------------------------------------------------------------------------

/** A valid value of each column, then spellings semantics.md accepts, then values it refuses. */
const ACCEPTED: Partial<Record<Column, string[]>> = {
  quantitySold: ['1', '2', '3', '7', '12', '007', '2147483647'],
  unitPrice: ['10', '19.99', '0', '.5', '12.', '1234.5678', '0.001', '007.50'],
  discount: ['', '0', '0.1', '.25', '1', '10%', '10 %', '12.5%', '100%', '0%', '0.125'],
  shippingCost: ['', '0', '4.99', '.5', '12.'],
  unitCost: ['', '3', '4.25', '.75'],
  campaign: ['', 'Spring', 'Black Friday'],
};
const REFUSED: Partial<Record<Column, string[]>> = {
  quantitySold: ['0', '-1', '1.5', '1e2', 'ten', '2147483648', '+3', '3 units', ''],
  unitPrice: ['-1', '1e3', '$5', 'abc', '1.2.3', '', '+2'],
  discount: ['1.5', '101%', '-0.1', 'abc', '%', '0.5%%', '1e-1'],
  shippingCost: ['-2', 'x', '1e1'],
  unitCost: ['-1', 'n/a'],
  dateOfSale: [
    '2024-02-30',
    '2023-02-29',
    '2024-13-01',
    '24-01-01',
    '2024/01/01',
    '2999-01-01',
    '',
    '2024-01-10T25:00',
    '10.01.2024',
  ],
  customerEmail: ['ann.x.io', 'ann@xio', '@x.io', 'a@b@x.io', ''],
  orderId: [''],
  productId: [''],
  customerId: [''],
  productName: [''],
  category: [''],
  region: [''],
  paymentMethod: [''],
  customerName: [''],
};
const DAYS = ['2023-12-31', '2024-01-10', '2024-02-29', '2022-06-15'];
const TIMES = ['T18:00:00', ' 09:30', 'T23:59:59.5Z', 'T08:00+02:00'];
const REGIONS = ['Europe', 'Asia', 'North America'];
const PAYMENTS = ['Card', 'Cash', 'PayPal'];
const CATEGORIES = ['Shoes', 'Hats', 'Electronics'];
const NAMES = ['Shoe', 'Boot "Max"', '=SUM(A1)', 'Two\nlines', 'Café'];
const ADDRESSES = ['', '1 Road, Town', '5 Main St, Anytown, CA 12345', 'PO Box 7'];
const PADDING = ['', ' ', '  ', '\t', ' \t '];
const HEADER_SPELLINGS = (name: string) => [
  name,
  name.toLowerCase().replaceAll(' ', '_'),
  name.replaceAll(' ', ''),
  name.toUpperCase().replaceAll(' ', '-'),
];

const pick = <T>(items: readonly T[]) => fc.constantFrom(...items);
/** `arbitrary` one time in `every`, else null. */
const sometimes = <T>(arbitrary: fc.Arbitrary<T>, every: number) =>
  fc.oneof({ arbitrary: fc.constant(null), weight: every - 1 }, { arbitrary, weight: 1 });

const orderArb = fc.record({ customer: fc.nat(3), day: pick(DAYS), region: pick(REGIONS), payment: pick(PAYMENTS) });
const productArb = fc.record({ name: pick(NAMES), category: pick(CATEGORIES) });
const customerArb = fc.record({
  name: pick(['Ann', 'Bob', 'Zoë']),
  email: pick(['ann@x.io', 'b.o@mail.example.com']),
  address: pick(ADDRESSES),
});
const poolsArb = fc.record({
  orders: fc.array(orderArb, { minLength: 5, maxLength: 5 }),
  products: fc.array(productArb, { minLength: 4, maxLength: 4 }),
  customers: fc.array(customerArb, { minLength: 4, maxLength: 4 }),
});
type Pools = typeof poolsArb extends fc.Arbitrary<infer T> ? T : never;

const valueArb = (column: Column) => pick(ACCEPTED[column]!);
const rowArb = fc.record({
  order: fc.nat(4),
  product: fc.nat(3),
  quantitySold: valueArb('quantitySold'),
  unitPrice: valueArb('unitPrice'),
  discount: valueArb('discount'),
  shippingCost: valueArb('shippingCost'),
  unitCost: valueArb('unitCost'),
  campaign: valueArb('campaign'),
  time: sometimes(pick(TIMES), 3),
  /** Another product or customer text than the pool's: the last valid row wins. */
  renamed: sometimes(
    fc.record({ productName: pick(NAMES), category: pick(CATEGORIES), customerName: pick(['Ann B.', 'Robert']) }),
    3,
  ),
  /** A different order-level value than the order's own: a conflict, unless it is rejected anyway. */
  conflict: sometimes(fc.record({ field: pick(ORDER_FIELDS), value: fc.nat(3) }), 6),
  /** Values semantics.md refuses, in one or two columns of one row in four. */
  refused: fc.oneof(
    { arbitrary: fc.constant([]), weight: 3 },
    fc.array(fc.record({ column: pick(Object.keys(REFUSED) as Column[]), index: fc.nat(8) }), { minLength: 1, maxLength: 2 }),
  ),
  /** Field-count changes: the address written with bare commas, a field dropped, a field added. */
  shape: fc.oneof(
    { arbitrary: fc.constant('plain' as const), weight: 9 },
    fc.constantFrom('bare-address' as const, 'drop-field' as const, 'extra-field' as const),
  ),
  padding: fc.noShrink(fc.array(pick(PADDING), { minLength: 17, maxLength: 17 })),
  quoteAll: fc.boolean(),
  blankLineAfter: fc.boolean(),
});
type RowSpec = typeof rowArb extends fc.Arbitrary<infer T> ? T : never;

const headerArb = fc.record({
  withUnitCost: fc.boolean(),
  withCampaign: fc.boolean(),
  order: fc.array(fc.nat(), { minLength: 17, maxLength: 17 }),
  spelling: fc.array(fc.nat(3), { minLength: 17, maxLength: 17 }),
  addressLast: fc.boolean(),
});

// Shrinking works on the rows (each try is a real load): the header and the pools stay as they failed.
const scenarioArb = fc.record({
  header: fc.noShrink(headerArb),
  pools: fc.noShrink(poolsArb),
  rows: fc.array(rowArb, { minLength: 1, maxLength: 24 }),
  earlier: sometimes(fc.record({ pools: poolsArb, rows: fc.array(rowArb, { minLength: 1, maxLength: 10 }) }), 3),
  mode: fc.constantFrom('append' as const, 'replace' as const),
  crlf: fc.boolean(),
  bom: fc.boolean(),
  /** Sorts the file into parts of about this many bytes by order (a few rows each), as the loader does with a large file. */
  partBytes: sometimes(fc.integer({ min: 100, max: 2000 }), 2),
});
type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

interface FileRow {
  line: number;
  values: Values | 'mismatch';
}

const cell = (text: string, quote: boolean) => (quote || /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text);

/** The file's text and, per data row, its physical line and the values the header maps it to. */
function fileOf(
  header: Scenario['header'],
  pools: Pools,
  specs: RowSpec[],
  crlf: boolean,
  valid: boolean,
): { text: string; rows: FileRow[]; campaignName: string } {
  const all = (Object.keys(COLUMNS) as Column[]).filter(
    (column) => (column !== 'unitCost' || header.withUnitCost) && (column !== 'campaign' || header.withCampaign),
  );
  const columns: Column[] = all
    .filter((column) => column !== 'customerAddress')
    .map((column, i) => ({ column, rank: header.order[i] }))
    .sort((a, b) => a.rank - b.rank)
    .map(({ column }) => column);
  const at = header.addressLast ? columns.length : header.order[16] % columns.length;
  columns.splice(at, 0, 'customerAddress');
  const addressLast = columns.at(-1) === 'customerAddress';
  const newline = crlf ? '\r\n' : '\n';
  const headerNames = columns.map((column, i) => HEADER_SPELLINGS(COLUMNS[column])[header.spelling[i]]);
  let text = `${headerNames.join(',')}${newline}`;
  let line = 2;
  const rows: FileRow[] = [];
  for (const spec of specs) {
    const order = pools.orders[spec.order];
    const customer = pools.customers[order.customer];
    const product = pools.products[spec.product];
    const raw: Record<Column, string> = {
      orderId: `O${spec.order + 1}`,
      productId: `P${spec.product + 1}`,
      customerId: `C${order.customer + 1}`,
      productName: spec.renamed?.productName ?? product.name,
      category: spec.renamed?.category ?? product.category,
      region: order.region,
      dateOfSale: `${order.day}${spec.time ?? ''}`,
      quantitySold: spec.quantitySold,
      unitPrice: spec.unitPrice,
      discount: spec.discount,
      shippingCost: spec.shippingCost,
      paymentMethod: order.payment,
      customerName: spec.renamed?.customerName ?? customer.name,
      customerEmail: customer.email,
      customerAddress: customer.address,
      unitCost: spec.unitCost,
      campaign: spec.campaign,
    };
    if (!valid) {
      if (spec.conflict) {
        const { field, value } = spec.conflict;
        raw[field] = {
          customerId: `C${value + 1}`,
          dateOfSale: DAYS[value],
          region: REGIONS[value % 3],
          paymentMethod: PAYMENTS[value % 3],
        }[field];
      }
      for (const { column, index } of spec.refused) raw[column] = REFUSED[column]![index % REFUSED[column]!.length];
    }
    const shape = valid ? 'plain' : spec.shape;
    const cells = columns.map((column, i) => {
      const padded = `${spec.padding[i]}${raw[column]}${spec.padding[i]}`;
      return column === 'customerAddress' && (shape === 'bare-address' || shape === 'extra-field')
        ? padded
        : cell(padded, spec.quoteAll);
    });
    if (shape === 'drop-field') cells.splice(columns.indexOf('customerAddress') === 0 ? 1 : 0, 1);
    if (shape === 'extra-field') cells.push('Suite 5');
    const record = cells.join(',');
    // The fields the reader will find: a bare address adds one per comma it holds.
    const addressCommas = raw.customerAddress.split(',').length - 1;
    const fields = {
      plain: columns.length,
      'bare-address': columns.length + addressCommas,
      'extra-field': columns.length + addressCommas + 1,
      'drop-field': columns.length - 1,
    }[shape];
    let values: FileRow['values'];
    if (fields === columns.length) values = Object.fromEntries(columns.map((column) => [column, raw[column].trim()]));
    else if (fields > columns.length && addressLast) {
      values = Object.fromEntries(columns.map((column) => [column, raw[column].trim()]));
      const tail = `${spec.padding[columns.length - 1]}${raw.customerAddress}${spec.padding[columns.length - 1]}${shape === 'extra-field' ? ',Suite 5' : ''}`;
      values.customerAddress = tail.trim();
    } else values = 'mismatch';
    rows.push({ line, values });
    text += `${record}${newline}`;
    line += 1 + (record.match(/\n/g)?.length ?? 0);
    if (spec.blankLineAfter) {
      text += newline;
      line++;
    }
  }
  return { text, rows, campaignName: headerNames[columns.indexOf('campaign')] ?? '' };
}

/** Runs are bounded (each is one or two real loads, ~0.5 s apiece here); a fixed seed replays the same files. */
const RUNS = 20;
const SEED = 20_261_202;

// ---- The database, read back -------------------------------------------------------------------------------

describe('load properties', () => {
  const db = useTestDatabase();

  /** Empties every table but the run history: the next load is a first load again (cloning a database costs more). */
  async function emptyDatabase(): Promise<void> {
    const { rows } = await db().pool.query(`SELECT string_agg(quote_ident(tablename), ', ') AS tables FROM pg_tables
      WHERE schemaname = 'public' AND tablename NOT IN ('refresh_runs', 'refresh_rejects', 'data_version', 'schema_migrations')`);
    await db().pool.query(`TRUNCATE ${rows[0].tables}`);
  }

  async function storedModel(): Promise<Model> {
    const pool = db().pool;
    const lines = await pool.query(`SELECT o.code AS order, p.code AS product, i.quantity, i.unit_price::text AS price,
        i.discount::text AS discount, i.shipping_cost::text AS shipping, i.unit_cost::text AS cost, i.attributes,
        c.code AS customer, o.sale_date::text AS day, r.name AS region, m.name AS payment
      FROM order_items i JOIN orders o USING (order_id) JOIN products p USING (product_id) JOIN customers c USING (customer_id)
      JOIN regions r USING (region_id) JOIN payment_methods m USING (payment_method_id)`);
    const model = emptyModel();
    for (const row of lines.rows) {
      model.lines.set(keyOf(row.order, row.product), {
        order: row.order,
        product: row.product,
        quantity: row.quantity,
        unitPrice: decimalOf(row.price),
        discount: decimalOf(row.discount),
        shipping: decimalOf(row.shipping),
        unitCost: row.cost === null ? null : decimalOf(row.cost),
        attributes: row.attributes,
      });
      model.orders.set(row.order, { customerId: row.customer, day: row.day, region: row.region, paymentMethod: row.payment });
    }
    const products = await pool.query(
      'SELECT p.code, p.name, c.name AS category FROM products p JOIN categories c USING (category_id)',
    );
    for (const row of products.rows) model.products.set(row.code, { name: row.name, category: row.category });
    const customers = await pool.query('SELECT code, name, email, address FROM customers');
    for (const row of customers.rows) model.customers.set(row.code, { name: row.name, email: row.email, address: row.address });
    return model;
  }

  /** Lines with exact decimals as canonical text, sorted: comparable with deep equality. */
  const comparable = (model: Model) => ({
    lines: [...model.lines.entries()]
      .map(([key, line]) => ({
        key,
        ...line,
        unitPrice: decimalText(line.unitPrice),
        discount: decimalText(line.discount),
        shipping: decimalText(line.shipping),
        unitCost: decimalText(line.unitCost),
        orderFields: model.orders.get(line.order),
      }))
      .sort((a, b) => (a.key < b.key ? -1 : 1)),
    products: Object.fromEntries([...model.products].sort()),
    customers: Object.fromEntries([...model.customers].sort()),
  });

  const revenueOf = (line: Line) => {
    const gross = times({ units: BigInt(line.quantity), scale: 0 }, line.unitPrice);
    return times(gross, add(ONE, { units: -line.discount.units, scale: line.discount.scale }));
  };
  function expectedRevenue(model: Model, group: (line: Line) => string): Record<string, string> {
    const sums = new Map<string, Decimal>();
    for (const line of model.lines.values()) sums.set(group(line), add(sums.get(group(line)) ?? ZERO, revenueOf(line)));
    return Object.fromEntries([...sums].map(([key, sum]) => [key, decimalText(sum)!]).sort());
  }
  /** Revenue by key from the record (PostgreSQL) or from the rollups (the published snapshot). */
  async function storedRevenue(sql: string, from: 'record' | 'snapshot' = 'snapshot'): Promise<Record<string, string>> {
    const { rows } = from === 'record' ? await db().pool.query(sql) : await snapshotQuery(db().pool, sql);
    return Object.fromEntries(rows.map((row) => [row.key, decimalText(decimalOf(row.revenue as string))!]).sort());
  }

  async function loadText(text: string, mode: 'append' | 'replace', partBytes?: number) {
    const outcome = await load(db().pool, await writeFile(text), mode, partBytes);
    expect(outcome.run.error, 'the load fails').to.equal(null);
    return outcome;
  }

  it('loads or rejects every row, exactly once, and holds what semantics.md says', async function () {
    this.timeout(360_000);
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (scenario) => {
        runs++;
        await emptyDatabase();
        await checkScenario(scenario);
      }),
      // A failure is shrunk for at most the rest of the time limit, then reported as shrunk so far.
      { numRuns: RUNS, seed: SEED, interruptAfterTimeLimit: 300_000, markInterruptAsFailure: true },
    );
    expect(runs).to.equal(RUNS);
  });

  async function checkScenario(scenario: Scenario): Promise<void> {
    const { header, pools } = scenario;
    let before = emptyModel();
    if (scenario.earlier) {
      const earlier = fileOf(header, scenario.earlier.pools, scenario.earlier.rows, false, true);
      await loadText(earlier.text, 'append');
      before = expectedLoad(earlier, before, 'append').model;
    }
    const file = fileOf(header, pools, scenario.rows, scenario.crlf, false);
    const expected = expectedLoad(file, before, scenario.mode);
    const { run } = await loadText(`${scenario.bom ? '\uFEFF' : ''}${file.text}`, scenario.mode, scenario.partBytes ?? undefined);

    expect(run.counts, 'counts').to.deep.equal(expected.counts);
    const stored = await db().pool.query('SELECT line, reasons FROM refresh_rejects WHERE run_id = $1 ORDER BY line', [run.id]);
    expect(
      stored.rows.map((row) => row.line),
      'rejected lines',
    ).to.deep.equal([...expected.rejects.keys()]);
    for (const { line, reasons } of stored.rows as { line: number; reasons: string[] }[]) {
      const named = expected.rejects.get(line)!;
      expect(reasons, `reasons of line ${line}`).to.have.length(named.length);
      for (const name of named) {
        const wanted = name === 'fields' ? 'fields' : name.startsWith('conflict') ? name : COLUMNS[name as Column];
        expect(
          reasons.some((reason) => reason.includes(wanted)),
          `line ${line} has a reason naming ${wanted}: ${reasons.join(' | ')}`,
        ).to.equal(true);
      }
    }

    expect(comparable(await storedModel()), 'the database').to.deep.equal(comparable(expected.model));
    const total = expectedRevenue(expected.model, () => 'all');
    expect(
      await storedRevenue(
        `SELECT 'all' AS key, sum(quantity * unit_price * (1 - discount))::text AS revenue FROM order_items HAVING count(*) > 0`,
        'record',
      ),
      'revenue of the stored lines',
    ).to.deep.equal(total);
    for (const rollup of ['sales_by_day_region', 'sales_by_month_product_region', 'sales_by_day_category_region']) {
      expect(
        await storedRevenue(`SELECT 'all' AS key, sum(revenue)::text AS revenue FROM ${rollup} HAVING count(*) > 0`),
        `revenue in ${rollup}`,
      ).to.deep.equal(total);
    }
    const byDayRegion = expectedRevenue(expected.model, (line) => {
      const order = expected.model.orders.get(line.order)!;
      return `${order.day} ${order.region}`;
    });
    expect(
      await storedRevenue(`SELECT strftime(sale_date, '%Y-%m-%d') || ' ' || r.name AS key, sum(revenue)::text AS revenue
            FROM sales_by_day_region JOIN regions r USING (region_id) GROUP BY 1`),
      'revenue by day and region',
    ).to.deep.equal(byDayRegion);
    const byCategory = expectedRevenue(expected.model, (line) => expected.model.products.get(line.product)!.category);
    expect(
      await storedRevenue(`SELECT c.name AS key, sum(revenue)::text AS revenue
            FROM sales_by_day_category_region JOIN categories c USING (category_id) GROUP BY 1`),
      'revenue by category',
    ).to.deep.equal(byCategory);
  }
});
