// What one file says, across its rows: each order's head (its first valid row), the last row of each line
// key, and the latest product and customer attributes. Pure: the streaming side of the load keeps it.
// Compact by design (codes map to indexes, order fields live in typed arrays): a million-line file keeps
// about 100 MB here rather than several hundred in objects.
import type { SaleLine } from './validate-line.js';

/**
 * A copy of `text` that holds no reference to the chunk it was cut from. V8 keeps substrings of 13 or
 * more characters as views into their parent string, so a kept name would pin a whole 1 MB chunk.
 */
export function detach(text: string): string {
  return text.length < 13 ? text : ` ${text}`.slice(1);
}

export type Verdict = { accepted: true; supersedes?: number } | { accepted: false; reasons: string[] };

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

/** Growable Int32Array columns. */
class IntColumns<K extends string> {
  private capacity = 1024;
  readonly columns: Record<K, Int32Array>;

  constructor(private readonly keys: K[]) {
    this.columns = Object.fromEntries(keys.map((key) => [key, new Int32Array(this.capacity)])) as Record<K, Int32Array>;
  }

  ensure(index: number): void {
    if (index < this.capacity) return;
    this.capacity *= 2;
    for (const key of this.keys) {
      const grown = new Int32Array(this.capacity);
      grown.set(this.columns[key]);
      this.columns[key] = grown;
    }
  }
}

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

/** Line keys are (order index, product index) packed into one number: exact below 2^53. */
const PRODUCT_SLOTS = 2 ** 22;

export class FileState {
  /** Earlier valid rows of a line key that a later row replaced (last wins). */
  readonly supersededLines: number[] = [];

  private readonly orderIndex = new Map<string, number>();
  private readonly orderFields = new IntColumns(['customer', 'day', 'region', 'payment', 'firstLine']);
  private readonly lineKeys = new Map<number, number>();

  private readonly customerIndex = new Map<string, number>();
  private readonly customerCodes: string[] = [];
  private readonly customerAttributes: CustomerAttributes[] = [];

  private readonly productIndex = new Map<string, number>();
  private readonly productCodes: string[] = [];
  private readonly productNames: string[] = [];
  private readonly productCategories: number[] = [];

  private readonly days = new NameTable();
  private readonly regions = new NameTable();
  private readonly payments = new NameTable();
  private readonly categories = new NameTable();

  /** Accepts a valid row, or rejects it for disagreeing with its order's first valid row. */
  accept(row: SaleLine, line: number): Verdict {
    let order = this.orderIndex.get(row.orderCode);
    if (order !== undefined) {
      const reasons = this.conflicts(order, row);
      if (reasons.length > 0) return { accepted: false, reasons };
    } else {
      const customer = this.customerId(row.customerCode);
      order = this.orderIndex.size;
      this.orderIndex.set(detach(row.orderCode), order);
      this.orderFields.ensure(order);
      const c = this.orderFields.columns;
      c.customer[order] = customer;
      c.day[order] = this.days.id(row.saleDate);
      c.region[order] = this.regions.id(row.region);
      c.payment[order] = this.payments.id(row.paymentMethod);
      c.firstLine[order] = line;
    }

    const product = this.rememberProduct(row);
    const key = order * PRODUCT_SLOTS + product;
    const supersedes = this.lineKeys.get(key);
    if (supersedes !== undefined) this.supersededLines.push(supersedes);
    this.lineKeys.set(key, line);
    this.rememberCustomer(this.customerId(row.customerCode), row);
    return { accepted: true, supersedes };
  }

  /** How a row disagrees with its order's first valid row: one reason per field. */
  private conflicts(order: number, row: SaleLine): string[] {
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
    for (const [code, order] of this.orderIndex) yield [code, this.orderHead(order)];
  }

  /** Each product of the file with the attributes of the last valid row that mentions it. */
  *products(): Generator<[string, ProductAttributes]> {
    for (let i = 0; i < this.productCodes.length; i++) {
      yield [this.productCodes[i], { name: this.productNames[i], category: this.categories.names[this.productCategories[i]] }];
    }
  }

  /** Each customer of the file with the attributes of the last valid row that mentions it. */
  *customers(): Generator<[string, CustomerAttributes]> {
    for (let i = 0; i < this.customerCodes.length; i++) yield [this.customerCodes[i], this.customerAttributes[i]];
  }

  private orderHead(order: number): OrderHead {
    const c = this.orderFields.columns;
    return {
      customerCode: this.customerCodes[c.customer[order]],
      saleDate: this.days.names[c.day[order]],
      region: this.regions.names[c.region[order]],
      paymentMethod: this.payments.names[c.payment[order]],
      firstLine: c.firstLine[order],
    };
  }

  private customerId(code: string): number {
    let id = this.customerIndex.get(code);
    if (id === undefined) {
      id = this.customerCodes.length;
      const copy = detach(code);
      this.customerIndex.set(copy, id);
      this.customerCodes.push(copy);
      this.customerAttributes.push({ name: '', email: '', address: null });
    }
    return id;
  }

  /** The last valid row that mentions a customer wins; most rows repeat what is known and allocate nothing. */
  private rememberCustomer(id: number, row: SaleLine): void {
    const known = this.customerAttributes[id];
    if (known.name !== row.customerName) known.name = detach(row.customerName);
    if (known.email !== row.customerEmail) known.email = detach(row.customerEmail);
    if (known.address !== row.customerAddress) known.address = row.customerAddress === null ? null : detach(row.customerAddress);
  }

  private rememberProduct(row: SaleLine): number {
    let id = this.productIndex.get(row.productCode);
    if (id === undefined) {
      id = this.productCodes.length;
      if (id >= PRODUCT_SLOTS) throw new RangeError(`more than ${PRODUCT_SLOTS} distinct products in one file`);
      const copy = detach(row.productCode);
      this.productIndex.set(copy, id);
      this.productCodes.push(copy);
      this.productNames.push(detach(row.productName));
      this.productCategories.push(this.categories.id(row.category));
      return id;
    }
    if (this.productNames[id] !== row.productName) this.productNames[id] = detach(row.productName);
    this.productCategories[id] = this.categories.id(row.category);
    return id;
  }
}
