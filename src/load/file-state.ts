// What one file says, across its rows: each order's head (its first valid row), the last row of each line
// key with its figures, and the latest product and customer attributes. Pure: the streaming side of the load
// keeps it. Compact by design (codes in CodeTables, order and line fields in typed arrays, line keys in a
// KeyTable over them): a million-line file (584k orders, 118k customers) keeps about 110 MB here.

import { CodeTable } from './code-table.js';
import { DECIMAL_PLACES, decimalUnits } from './decimal.js';
import { KeyTable } from './key-table.js';
import type { SaleLine } from './validate-line.js';

/**
 * A flat copy of `text` that holds no reference to the chunk it was cut from. V8 keeps substrings of 13 or
 * more characters as views into their parent string, so a kept name would pin a whole batch; the usual
 * ` ${text}`.slice(1) makes a view too, 32 bytes more per kept string (8 MB for the customers of a 1M-line
 * file). A JSON round trip makes a plain string.
 */
export function detach(text: string): string {
  return text.length < 13 ? text : JSON.parse(JSON.stringify(text));
}

/** A kept row: its order and product (indexes in this file), and the earlier row of its line key it replaces. */
export interface Accepted {
  accepted: true;
  order: number;
  product: number;
  supersedes?: number;
}

export type Verdict = Accepted | { accepted: false; reasons: string[] };

/** A list of distinct strings, each with a small integer id. */
class NameTable {
  readonly names: string[] = [];
  private readonly ids = new Map<string, number>();

  id(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.names.length;
      const copy = detach(name);
      this.names.push(copy);
      this.ids.set(copy, id);
    }
    return id;
  }
}

type TypedColumn = Int32Array | Uint32Array | Float64Array;

/** Growable typed-array columns. */
class Columns<C extends Record<string, TypedColumn>> {
  private capacity = 1024;
  readonly columns: C;

  constructor(make: (capacity: number) => C) {
    this.columns = make(this.capacity);
  }

  ensure(index: number): void {
    if (index < this.capacity) return;
    this.capacity *= 2;
    for (const key of Object.keys(this.columns) as (keyof C)[]) {
      const old = this.columns[key];
      const grown = new (old.constructor as new (length: number) => TypedColumn)(this.capacity);
      grown.set(old);
      this.columns[key] = grown as C[keyof C];
    }
  }
}

const ints = (capacity: number) => new Int32Array(capacity);
const units = (capacity: number): UnitsColumn => new Uint32Array(capacity);
const lineColumns = () =>
  new Columns((n) => ({
    line: ints(n),
    quantity: ints(n),
    price: units(n),
    discount: units(n),
    shipping: units(n),
    cost: units(n),
  }));

export interface OrderHead {
  customerCode: string;
  saleDate: string;
  region: string;
  paymentMethod: string;
  firstLine: number;
}

export interface ProductAttributes {
  name: string;
  category: string;
}

export interface CustomerAttributes {
  name: string;
  email: string;
  address: string | null;
}

const ORDER_FIELDS = [
  ['customerCode', 'Customer ID'],
  ['saleDate', 'Date of Sale'],
  ['region', 'Region'],
  ['paymentMethod', 'Payment Method'],
] as const;

/** A column of whole units: 4 bytes a line while they fit, 8 (exact up to 2^53) once one does not. */
type UnitsColumn = Uint32Array | Float64Array;

/**
 * A line's figures as exact integers in units of 10^-DECIMAL_PLACES, for sums computed here rather than in
 * the database (only when figurePlaces() says they are exact). cost holds units + 1; 0: the unit cost is unknown.
 */
export interface LineColumns {
  count: number;
  order: Int32Array;
  product: Int32Array;
  quantity: Int32Array;
  price: UnitsColumn;
  discount: UnitsColumn;
  shipping: UnitsColumn;
  cost: UnitsColumn;
}

/** Each order's head, as indexes into the file's name tables. */
export interface OrderColumns {
  count: number;
  customer: Int32Array;
  day: Int32Array;
  region: Int32Array;
  payment: Int32Array;
}

export class FileState {
  /** Earlier valid rows of a line key that a later row replaced (last wins). */
  readonly supersededLines: number[] = [];

  /** The file's order codes; an order's index is its code's id. */
  private orderCodeTable = new CodeTable();
  private orderCount = 0;
  private readonly orderFields = new Columns((n) => ({
    customer: ints(n),
    day: ints(n),
    region: ints(n),
    payment: ints(n),
    firstLine: ints(n),
  }));
  /** Each line slot's key: order index (a) and product index (b). */
  private lineKeys = new KeyTable(2);
  private lineFields = lineColumns();
  private lineTotal = 0;
  /** The most decimal places any figure had (price, shipping, cost; discount apart); Infinity: too many. */
  private moneyPlaces = 0;
  private discountPlaces = 0;
  /** False once a figure is too large to be exact in a double (NaN units). */
  private figuresExact = true;

  /** The file's customer codes; a customer's index is its code's id. */
  private customerCodes = new CodeTable();
  // Each customer's attributes, by id: three arrays rather than an object each (48 bytes apiece).
  private readonly customerNames: string[] = [];
  private readonly customerEmails: string[] = [];
  private readonly customerAddresses: (string | null)[] = [];
  private customerTotal = 0;

  private readonly productIndex = new Map<string, number>();
  private readonly productCodes: string[] = [];
  private readonly productNames: string[] = [];
  private readonly productCategories: number[] = [];

  readonly days = new NameTable();
  readonly regions = new NameTable();
  readonly payments = new NameTable();
  readonly categories = new NameTable();

  /** Accepts a valid row, or rejects it for disagreeing with its order's first valid row. */
  accept(row: SaleLine, line: number): Verdict {
    let order = this.orderCodeTable.find(row.orderCode);
    if (order !== -1) {
      const reasons = this.conflicts(order, row);
      if (reasons.length > 0) return { accepted: false, reasons };
    } else {
      const customer = this.customerId(row.customerCode);
      order = this.orderCodeTable.add(row.orderCode);
      this.orderCount++;
      this.orderFields.ensure(order);
      const c = this.orderFields.columns;
      c.customer[order] = customer;
      c.day[order] = this.days.id(row.saleDate);
      c.region[order] = this.regions.id(row.region);
      c.payment[order] = this.payments.id(row.paymentMethod);
      c.firstLine[order] = line;
    }

    const product = this.rememberProduct(row);
    let slot = this.lineKeys.find(order, product);
    let supersedes: number | undefined;
    if (slot === -1) {
      slot = this.lineKeys.add(order, product);
      this.lineTotal++;
      this.lineFields.ensure(slot);
    } else {
      supersedes = this.lineFields.columns.line[slot];
      this.supersededLines.push(supersedes);
    }
    this.rememberFigures(slot, row, line);
    // The order's customer is the row's: a row that names another one is a conflict.
    this.rememberCustomer(this.orderFields.columns.customer[order], row);
    return { accepted: true, order, product, supersedes };
  }

  private rememberFigures(slot: number, row: SaleLine, line: number): void {
    const c = this.lineFields.columns;
    c.line[slot] = line;
    c.quantity[slot] = row.quantity;
    this.setUnits('price', slot, this.money(row.unitPrice));
    this.setUnits('shipping', slot, this.money(row.shippingCost));
    this.setUnits('cost', slot, row.unitCost === null ? 0 : this.money(row.unitCost) + 1);
    this.setUnits('discount', slot, decimalUnits(row.discount));
    this.discountPlaces = Math.max(this.discountPlaces, decimalPlaces(row.discount));
  }

  private money(text: string): number {
    this.moneyPlaces = Math.max(this.moneyPlaces, decimalPlaces(text));
    return decimalUnits(text);
  }

  private setUnits(column: 'price' | 'discount' | 'shipping' | 'cost', slot: number, value: number): void {
    const columns = this.lineFields.columns;
    if (!(value <= 0xffffffff)) {
      if (Number.isNaN(value)) this.figuresExact = false;
      else if (columns[column] instanceof Uint32Array) columns[column] = Float64Array.from(columns[column]);
    }
    columns[column][slot] = value;
  }

  /** The valid lines of the file, last row of each line key; read-only views (empty after releaseLines()). */
  lines(): LineColumns {
    return { count: this.lineKeys.size, order: this.lineKeys.a, product: this.lineKeys.b, ...this.lineFields.columns };
  }

  orderColumns(): OrderColumns {
    const { customer, day, region, payment } = this.orderFields.columns;
    return { count: this.orderCount, customer, day, region, payment };
  }

  /** The file's order codes, by order index. */
  *orderCodes(): Generator<string> {
    for (let order = 0; order < this.orderCodeTable.size; order++) yield this.orderCodeTable.code(order);
  }

  /** Each product's category, as an index into `categories`. */
  productCategory(product: number): number {
    return this.productCategories[product];
  }

  get productCount(): number {
    return this.productCategories.length;
  }

  get customerCount(): number {
    return this.customerTotal;
  }

  /**
   * Lets the codes, the attributes and the line-key lookup go once the file is read and its dimensions
   * written: what is left (indexes, figures, names of days, regions and categories) is what the rollups need,
   * and the memory goes to summing them.
   */
  releaseCodes(): void {
    this.lineKeys.seal();
    this.orderCodeTable = new CodeTable();
    this.customerCodes = new CodeTable();
    this.customerNames.length = 0;
    this.customerEmails.length = 0;
    this.customerAddresses.length = 0;
    this.productIndex.clear();
    this.productCodes.length = 0;
    this.productNames.length = 0;
  }

  /** Lets the lines go once the rollups are summed: from then on only their count is kept. */
  releaseLines(): void {
    this.lineKeys = new KeyTable(2);
    this.lineFields = lineColumns();
  }

  /** The number of valid lines (last row of each line key), also after releaseLines(). */
  get lineCount(): number {
    return this.lineTotal;
  }

  /**
   * How many decimal places the line figures need (money, discount), or undefined when some figure has more
   * than DECIMAL_PLACES or is too large to be exact in a double: its sums must then be computed by the database.
   */
  figurePlaces(): { money: number; discount: number } | undefined {
    const { moneyPlaces: money, discountPlaces: discount } = this;
    return this.figuresExact && money <= DECIMAL_PLACES && discount <= DECIMAL_PLACES ? { money, discount } : undefined;
  }

  /** How a row disagrees with its order's first valid row: one reason per field. */
  private conflicts(order: number, row: SaleLine): string[] {
    const c = this.orderFields.columns;
    const agrees =
      this.customerCodes.equals(c.customer[order], row.customerCode) &&
      this.days.names[c.day[order]] === row.saleDate &&
      this.regions.names[c.region[order]] === row.region &&
      this.payments.names[c.payment[order]] === row.paymentMethod;
    if (agrees) return [];
    const first = this.orderHead(order);
    const reasons: string[] = [];
    for (const [property, column] of ORDER_FIELDS) {
      if (first[property] !== row[property]) {
        reasons.push(
          `conflict: ${column} '${row[property]}' differs from '${first[property]}' on line ${first.firstLine}, the first row of order ${row.orderCode}`,
        );
      }
    }
    return reasons;
  }

  get duplicates(): number {
    return this.supersededLines.length;
  }

  /** Each order of the file with its head. */
  *orders(): Generator<[string, OrderHead]> {
    let order = 0;
    for (const code of this.orderCodes()) yield [code, this.orderHead(order++)];
  }

  /** Each product of the file with the attributes of the last valid row that mentions it. */
  *products(): Generator<[string, ProductAttributes]> {
    for (let i = 0; i < this.productCodes.length; i++) {
      yield [this.productCodes[i], { name: this.productNames[i], category: this.categories.names[this.productCategories[i]] }];
    }
  }

  /** Each customer of the file with the attributes of the last valid row that mentions it. */
  *customers(): Generator<[string, CustomerAttributes]> {
    for (let i = 0; i < this.customerCodes.size; i++) {
      yield [
        this.customerCodes.code(i),
        { name: this.customerNames[i], email: this.customerEmails[i], address: this.customerAddresses[i] },
      ];
    }
  }

  private orderHead(order: number): OrderHead {
    const c = this.orderFields.columns;
    return {
      customerCode: this.customerCodes.code(c.customer[order]),
      saleDate: this.days.names[c.day[order]],
      region: this.regions.names[c.region[order]],
      paymentMethod: this.payments.names[c.payment[order]],
      firstLine: c.firstLine[order],
    };
  }

  private customerId(code: string): number {
    let id = this.customerCodes.find(code);
    if (id === -1) {
      id = this.customerCodes.add(code);
      this.customerTotal++;
      this.customerNames.push('');
      this.customerEmails.push('');
      this.customerAddresses.push(null);
    }
    return id;
  }

  /** The last valid row that mentions a customer wins; most rows repeat what is known and allocate nothing. */
  private rememberCustomer(id: number, row: SaleLine): void {
    if (this.customerNames[id] !== row.customerName) this.customerNames[id] = detach(row.customerName);
    if (this.customerEmails[id] !== row.customerEmail) this.customerEmails[id] = detach(row.customerEmail);
    if (this.customerAddresses[id] !== row.customerAddress) {
      this.customerAddresses[id] = row.customerAddress === null ? null : detach(row.customerAddress);
    }
  }

  private rememberProduct(row: SaleLine): number {
    let id = this.productIndex.get(row.productCode);
    if (id === undefined) {
      id = this.productCodes.length;
      const copy = detach(row.productCode);
      this.productIndex.set(copy, id);
      this.productCodes.push(copy);
      this.productNames.push(detach(row.productName));
      this.productCategories.push(this.categories.id(row.category));
      return id;
    }
    if (this.productNames[id] !== row.productName) this.productNames[id] = detach(row.productName);
    if (this.categories.names[this.productCategories[id]] !== row.category)
      this.productCategories[id] = this.categories.id(row.category);
    return id;
  }
}

function decimalPlaces(canonical: string): number {
  const point = canonical.indexOf('.');
  return point === -1 ? 0 : canonical.length - point - 1;
}
