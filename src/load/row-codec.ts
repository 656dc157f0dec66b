// Validated rows between the parsing thread and the loader's: a batch travels as one string, the lengths of
// its values and a record index (two transferable Int32Arrays), not as a million cloned objects.
import type { SaleLine } from './3-rows/validate-line.js';

/**
 * A record as the parsing thread leaves it: a valid row, or every reason it is refused. A valid row keeps its
 * raw text too: the bookkeeping may still refuse it (a conflict within its order).
 */
export type ParsedRecord = { line: number; row: SaleLine; raw: string } | { line: number; reasons: string[]; raw: string };

export interface EncodedBatch {
  text: string;
  /** Each value's length in `text`; -1 is null. */
  lengths: Int32Array;
  /** Per record: its line, then 0 for a valid row or the number of reasons. */
  records: Int32Array;
}

/** The order a valid row's values travel in (decodeBatch reads them back in the same order). */
function rowValues(row: SaleLine): (string | null)[] {
  return [
    row.orderCode,
    row.productCode,
    row.customerCode,
    row.productName,
    row.category,
    row.region,
    row.saleDate,
    String(row.quantity),
    row.unitPrice,
    row.discount,
    row.shippingCost,
    row.unitCost,
    row.paymentMethod,
    row.customerName,
    row.customerEmail,
    row.customerAddress,
    row.attributes ? JSON.stringify(row.attributes) : null,
  ];
}

export class BatchEncoder {
  // Concatenated as it goes (V8 ropes, flattened once when the batch is posted): cheaper than join().
  private text = '';
  private lengths = new Int32Array(1 << 16);
  private valueCount = 0;
  private readonly records: number[] = [];

  add(record: ParsedRecord): void {
    if ('row' in record) {
      this.records.push(record.line, 0);
      for (const value of rowValues(record.row)) this.value(value);
    } else {
      this.records.push(record.line, record.reasons.length);
      for (const reason of record.reasons) this.value(reason);
    }
    this.value(record.raw);
  }

  finish(): EncodedBatch {
    return { text: this.text, lengths: this.lengths.slice(0, this.valueCount), records: Int32Array.from(this.records) };
  }

  private value(value: string | null): void {
    if (this.valueCount === this.lengths.length) {
      const grown = new Int32Array(this.lengths.length * 2);
      grown.set(this.lengths);
      this.lengths = grown;
    }
    if (value === null) {
      this.lengths[this.valueCount++] = -1;
      return;
    }
    this.text += value;
    this.lengths[this.valueCount++] = value.length;
  }
}

export function* decodeBatch({ text, lengths, records }: EncodedBatch): Generator<ParsedRecord> {
  let offset = 0;
  let value = 0;
  const next = (): string | null => {
    const length = lengths[value++];
    if (length === -1) return null;
    offset += length;
    return text.slice(offset - length, offset);
  };
  for (let r = 0; r < records.length; r += 2) {
    const line = records[r];
    const reasonCount = records[r + 1];
    if (reasonCount > 0) {
      const reasons = Array.from({ length: reasonCount }, () => next() as string);
      yield { line, reasons, raw: next() as string };
      continue;
    }
    // An object literal in one shape for every row (the bookkeeping reads these fields a million times).
    const row: SaleLine = {
      orderCode: next() as string,
      productCode: next() as string,
      customerCode: next() as string,
      productName: next() as string,
      category: next() as string,
      region: next() as string,
      saleDate: next() as string,
      quantity: Number(next()),
      unitPrice: next() as string,
      discount: next() as string,
      shippingCost: next() as string,
      unitCost: next(),
      paymentMethod: next() as string,
      customerName: next() as string,
      customerEmail: next() as string,
      customerAddress: next(),
      attributes: parseAttributes(next()),
    };
    yield { line, row, raw: next() as string };
  }
}

function parseAttributes(json: string | null): Record<string, string> | null {
  return json === null ? null : JSON.parse(json);
}
