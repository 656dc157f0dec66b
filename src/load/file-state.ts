// What one file says, across its rows: each order's head (its first valid row), the last row of each line
// key, and the latest product and customer attributes. Pure: the streaming side of the load keeps it.
import type { SaleLine } from './validate-line.js';

/** The order-level fields, taken from the order's first valid row in the file. */
export interface OrderHead {
  customerCode: string;
  saleDate: string;
  region: string;
  paymentMethod: string;
  firstLine: number;
  /** Alternating product code and the line that currently holds that line key. */
  lineKeys: (string | number)[];
}

const ORDER_FIELDS = [
  ['customerCode', 'Customer ID'],
  ['saleDate', 'Date of Sale'],
  ['region', 'Region'],
  ['paymentMethod', 'Payment Method'],
] as const;

export type Verdict = { accepted: true; supersedes?: number } | { accepted: false; reasons: string[] };

export class FileState {
  readonly orders = new Map<string, OrderHead>();
  readonly products = new Map<string, { name: string; category: string }>();
  readonly customers = new Map<string, { name: string; email: string; address: string | null }>();
  /** Earlier valid rows of a line key that a later row replaced (last wins). */
  readonly supersededLines: number[] = [];

  /** Accepts a valid row, or rejects it for disagreeing with its order's first valid row. */
  accept(row: SaleLine, line: number): Verdict {
    const head = this.orders.get(row.orderCode);
    let supersedes: number | undefined;
    if (head === undefined) {
      this.orders.set(row.orderCode, {
        customerCode: row.customerCode,
        saleDate: row.saleDate,
        region: row.region,
        paymentMethod: row.paymentMethod,
        firstLine: line,
        lineKeys: [row.productCode, line],
      });
    } else {
      const reasons: string[] = [];
      for (const [field, column] of ORDER_FIELDS) {
        if (head[field] !== row[field]) {
          reasons.push(
            `conflict: ${column} '${row[field]}' differs from '${head[field]}' on line ${head.firstLine}, the first row of order ${row.orderCode}`,
          );
        }
      }
      if (reasons.length > 0) return { accepted: false, reasons };
      const keys = head.lineKeys;
      let found = -1;
      for (let i = 0; i < keys.length; i += 2) {
        if (keys[i] === row.productCode) {
          found = i;
          break;
        }
      }
      if (found === -1) {
        keys.push(row.productCode, line);
      } else {
        supersedes = keys[found + 1] as number;
        this.supersededLines.push(supersedes);
        keys[found + 1] = line;
      }
    }
    this.products.set(row.productCode, { name: row.productName, category: row.category });
    this.customers.set(row.customerCode, { name: row.customerName, email: row.customerEmail, address: row.customerAddress });
    return { accepted: true, supersedes };
  }

  get duplicates(): number {
    return this.supersededLines.length;
  }
}
