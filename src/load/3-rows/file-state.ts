// What one file says, across its rows: each order's head (its first valid row), the last row of each line
// key, and the latest product and customer attributes. Pure: the streaming side of the load
// keeps it. Compact by design (codes in CodeTables, order and line fields in typed arrays, line keys in a
// KeyTable over them): a million-line file (584k orders, 118k customers) keeps about 110 MB here.
// Orders and lines are kept for one part of the file at a time (stream-rows.ts): a large file reaches this
// sorted into parts by order, every row of an order in the same part, so each part's orders and lines can go
// once it is written (nextPart). Products, customers and names are the whole file's; as parts do not come in
// line order, their attributes are those of the highest line that mentions them rather than of the latest call.

import { CodeTable } from './code-table.js';
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
export class NameTable {
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

type TypedColumn = Int32Array;

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
const orderColumns = () =>
  new Columns((n) => ({ customer: ints(n), day: ints(n), region: ints(n), payment: ints(n), firstLine: ints(n) }));
/** Each line key's row: its line, the one a later row of the key supersedes. */
const lineColumns = () => new Columns((n) => ({ line: ints(n) }));

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
  private orderFields = orderColumns();
  /** Each line slot's key: order index (a) and product index (b). */
  private lineKeys = new KeyTable(2);
  private lineFields = lineColumns();
  private lineTotal = 0;
  /** The orders of earlier parts: an order's index in the file is this plus its index in its part. */
  private orderBase = 0;

  /** The file's customer codes; a customer's index is its code's id. */
  private customerCodes = new CodeTable();
  // Each customer's attributes, by id: three arrays rather than an object each (48 bytes apiece).
  private readonly customerNames: string[] = [];
  private readonly customerEmails: string[] = [];
  private readonly customerAddresses: (string | null)[] = [];
  /** The line the attributes are from. */
  private readonly customerLines: number[] = [];
  private customerTotal = 0;

  private readonly productIndex = new Map<string, number>();
  private readonly productCodes: string[] = [];
  private readonly productNames: string[] = [];
  private readonly productCategories: number[] = [];
  private readonly productLines: number[] = [];

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

    const product = this.rememberProduct(row, line);
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
    this.lineFields.columns.line[slot] = line;
    // The order's customer is the row's: a row that names another one is a conflict.
    this.rememberCustomer(this.orderFields.columns.customer[order], row, line);
    return { accepted: true, order: this.orderBase + order, product, supersedes };
  }

  /** This part's orders, by their index in the part. */
  orderColumns(): OrderColumns {
    const { customer, day, region, payment } = this.orderFields.columns;
    return { count: this.orderCount, customer, day, region, payment };
  }

  /** The index in the file of this part's first order. */
  get firstOrder(): number {
    return this.orderBase;
  }

  /** This part's order codes, by their index in the part. */
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

  /** This part's orders are written: lets their codes and the line keys' lookup go (no row is accepted until nextPart). */
  releasePartCodes(): void {
    this.orderCodeTable = new CodeTable();
    this.lineKeys.seal();
  }

  /**
   * This part's orders and lines are written: lets them go. The next part's orders are numbered on
   * from this one's; only the count of lines is kept.
   */
  nextPart(): void {
    this.orderBase += this.orderCount;
    this.orderCodeTable = new CodeTable();
    this.orderCount = 0;
    this.orderFields = orderColumns();
    this.lineKeys = new KeyTable(2);
    this.lineFields = lineColumns();
  }

  /** Lets the codes and the attributes go once the file is read and its dimensions written. */
  releaseCodes(): void {
    this.customerCodes = new CodeTable();
    this.customerNames.length = 0;
    this.customerEmails.length = 0;
    this.customerAddresses.length = 0;
    this.productIndex.clear();
    this.productCodes.length = 0;
    this.productNames.length = 0;
  }

  /** The number of valid lines of the file so far (last row of each line key). */
  get lineCount(): number {
    return this.lineTotal;
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

  /** Each order of this part with its head. */
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
      this.customerLines.push(0);
    }
    return id;
  }

  /** The last valid row that mentions a customer wins; most rows repeat what is known and allocate nothing. */
  private rememberCustomer(id: number, row: SaleLine, line: number): void {
    if (line < this.customerLines[id]) return;
    this.customerLines[id] = line;
    if (this.customerNames[id] !== row.customerName) this.customerNames[id] = detach(row.customerName);
    if (this.customerEmails[id] !== row.customerEmail) this.customerEmails[id] = detach(row.customerEmail);
    if (this.customerAddresses[id] !== row.customerAddress) {
      this.customerAddresses[id] = row.customerAddress === null ? null : detach(row.customerAddress);
    }
  }

  private rememberProduct(row: SaleLine, line: number): number {
    let id = this.productIndex.get(row.productCode);
    if (id === undefined) {
      id = this.productCodes.length;
      const copy = detach(row.productCode);
      this.productIndex.set(copy, id);
      this.productCodes.push(copy);
      this.productNames.push(detach(row.productName));
      this.productCategories.push(this.categories.id(row.category));
      this.productLines.push(line);
      return id;
    }
    if (line < this.productLines[id]) return id;
    this.productLines[id] = line;
    if (this.productNames[id] !== row.productName) this.productNames[id] = detach(row.productName);
    if (this.categories.names[this.productCategories[id]] !== row.category)
      this.productCategories[id] = this.categories.id(row.category);
    return id;
  }
}
