// How many decimal places the line figures of a part of a file need, so that the loader can sum its rollups
// exactly as integers (file-rollups.ts). Kept by the parsing thread over the part's valid rows: rows that the
// bookkeeping then rejects or supersedes can only make the places more, never the sums different.
import { DECIMAL_PLACES, decimalUnits } from './decimal.js';
import type { SaleLine } from './validate-line.js';

/** Decimal places of money figures (price, shipping, cost) and of the discount. */
export interface Places {
  money: number;
  discount: number;
}

function decimalPlaces(canonical: string): number {
  const point = canonical.indexOf('.');
  return point === -1 ? 0 : canonical.length - point - 1;
}

export class FigurePlaces {
  private money = 0;
  private discount = 0;
  /** False once a figure is too large to be exact in a double (NaN units). */
  private exact = true;

  add(row: SaleLine): void {
    for (const text of [row.unitPrice, row.shippingCost, row.unitCost]) {
      if (text === null) continue;
      this.money = Math.max(this.money, decimalPlaces(text));
      if (Number.isNaN(decimalUnits(text))) this.exact = false;
    }
    this.discount = Math.max(this.discount, decimalPlaces(row.discount));
    if (Number.isNaN(decimalUnits(row.discount))) this.exact = false;
  }

  /**
   * The places, or undefined when some figure has more than DECIMAL_PLACES or is too large to be exact in a
   * double: its sums must then be computed by the database.
   */
  result(): Places | undefined {
    const { money, discount } = this;
    return this.exact && money <= DECIMAL_PLACES && discount <= DECIMAL_PLACES ? { money, discount } : undefined;
  }
}
