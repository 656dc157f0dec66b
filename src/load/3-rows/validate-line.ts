// The row validator: raw fields of one record in, a typed sale line or every reason it is refused out. Pure.
import { COLUMN_NAMES, type ColumnKey, type ColumnMap } from '../2-records/columns.js';
import { canonicalDecimal, compareDecimal, isPlainDecimal, percentToFraction } from './decimal.js';

export interface SaleLine {
  orderCode: string;
  productCode: string;
  customerCode: string;
  productName: string;
  category: string;
  region: string;
  /** The day as written, YYYY-MM-DD. */
  saleDate: string;
  quantity: number;
  /** Canonical decimal text. */
  unitPrice: string;
  /** A fraction in [0, 1], canonical decimal text. */
  discount: string;
  shippingCost: string;
  unitCost: string | null;
  paymentMethod: string;
  customerName: string;
  customerEmail: string;
  customerAddress: string | null;
  /** The file's other columns, non-empty values only; null when there are none. */
  attributes: Record<string, string> | null;
}

export type LineResult = { ok: true; line: SaleLine } | { ok: false; reasons: string[] };

const DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/;
const MAX_QUANTITY = 2_147_483_647;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** 'YYYY-MM-DD' of a local calendar day: the day of the load, for the "not in the future" rule. */
export function localDay(date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

function quoted(value: string): string {
  return value.length > 40 ? `'${value.slice(0, 40)}…'` : `'${value}'`;
}

/** How the reason of a row dated after the day of its load begins: the one reason that depends on that day. */
export const AFTER_THE_LOAD_DAY = 'Date of Sale is after the day of the load';

export function validateDate(value: string, today: string): string | undefined {
  const match = DATE.exec(value);
  if (!match) return `Date of Sale must be YYYY-MM-DD, optionally followed by a time (got ${quoted(value)})`;
  const [, y, m, d, hour, minute, second] = match;
  const year = Number(y);
  const month = Number(m);
  const day = Number(d);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    return `Date of Sale is not a calendar date (got ${quoted(value)})`;
  }
  if (hour !== undefined && (Number(hour) > 23 || Number(minute) > 59 || Number(second ?? 0) > 59)) {
    return `Date of Sale has an invalid time (got ${quoted(value)})`;
  }
  if (value.slice(0, 10) > today) return `${AFTER_THE_LOAD_DAY}, ${today} (got ${quoted(value)})`;
  return undefined;
}

export function validateEmail(value: string): boolean {
  const at = value.indexOf('@');
  return at > 0 && at === value.lastIndexOf('@') && value.indexOf('.', at + 1) !== -1;
}

/**
 * Memoises a pure check of one text value: files repeat dates, prices and discounts endlessly.
 * Bounded: cleared when full.
 */
function memoize<T>(check: (text: string) => T, limit = 50_000): (text: string) => T {
  // An undefined result (a valid date, an invalid decimal) is kept as NONE: one lookup per value, not two.
  const NONE = Symbol('none');
  const cache = new Map<string, T | typeof NONE>();
  return (text) => {
    let result = cache.get(text);
    if (result === undefined) {
      result = check(text);
      if (cache.size >= limit) cache.clear();
      cache.set(` ${text}`.slice(1), result === undefined ? NONE : result);
    }
    return (result === NONE ? undefined : result) as T;
  };
}

const dateChecks = new Map<string, (value: string) => string | undefined>();
/** validateDate for one day of the load, memoised. */
function dateCheck(today: string): (value: string) => string | undefined {
  let check = dateChecks.get(today);
  if (check === undefined) {
    check = memoize((value) => validateDate(value, today), 20_000);
    dateChecks.clear();
    dateChecks.set(today, check);
  }
  return check;
}

/** A plain decimal's canonical text, or undefined when it is not one. */
const plainDecimal = memoize((text: string) => (isPlainDecimal(text) ? canonicalDecimal(text) : undefined));

/** A discount's canonical fraction ('10%' -> '0.1', '.25' -> '0.25'), or undefined when it is not one. */
const discountFraction = memoize((text: string) => {
  const percent = /^(.*?)\s*%$/.exec(text);
  const canonical = plainDecimal(percent ? percent[1] : text);
  if (canonical === undefined || compareDecimal(canonical, percent ? '100' : '1') > 0) return undefined;
  return percent ? percentToFraction(canonical) : canonical;
});

/** A record's values by column: a row with more fields than columns holds an address with bare commas. Undefined: the wrong number of fields. */
function recordValues(fields: string[], columns: ColumnMap): string[] | undefined {
  if (fields.length === columns.width) return fields;
  if (fields.length < columns.width || !columns.addressIsLast) return undefined;
  const values = fields.slice(0, columns.width - 1);
  values.push(fields.slice(columns.width - 1).join(','));
  return values;
}

/** A record's Order ID as validateLine reads it ('' when it has none or the wrong number of fields). */
export function recordOrderCode(fields: string[], columns: ColumnMap): string {
  const values = recordValues(fields, columns);
  return values === undefined ? '' : values[columns.index.orderId].trim();
}

/**
 * Checks one record's fields against the rules of semantics.md, collecting every reason that applies.
 * `today` is the local day of the load (YYYY-MM-DD); `extra` holds attributes the record carries beyond its fields.
 */
export function validateLine(fields: string[], columns: ColumnMap, today: string, extra?: Record<string, string>): LineResult {
  const reasons: string[] = [];
  // The brief's sample writes addresses with bare commas: the overflow is joined back into the address.
  const values = recordValues(fields, columns);
  if (values === undefined) return { ok: false, reasons: [`expected ${columns.width} fields, found ${fields.length}`] };
  const { index } = columns;
  const get = (key: ColumnKey): string => {
    const position = index[key];
    return position === undefined ? '' : values[position].trim();
  };
  const required = (key: ColumnKey): string => {
    const value = get(key);
    if (value === '') reasons.push(`${COLUMN_NAMES[key]} is required`);
    return value;
  };
  const decimal = (key: ColumnKey, value: string): string | null => {
    if (value === '') return null;
    const canonical = plainDecimal(value);
    if (canonical === undefined) {
      reasons.push(`${COLUMN_NAMES[key]} must be a plain decimal >= 0, like 12.50 (got ${quoted(value)})`);
      return null;
    }
    return canonical;
  };

  const orderCode = required('orderId');
  const productCode = required('productId');
  const customerCode = required('customerId');
  const productName = required('productName');
  const category = required('category');
  const region = required('region');
  const paymentMethod = required('paymentMethod');
  const customerName = required('customerName');
  const customerEmail = required('customerEmail');
  if (customerEmail !== '' && !validateEmail(customerEmail)) {
    reasons.push(`Customer Email must have one @, a name before it and a domain with a dot (got ${quoted(customerEmail)})`);
  }

  const saleDate = required('dateOfSale');
  if (saleDate !== '') {
    const problem = dateCheck(today)(saleDate);
    if (problem) reasons.push(problem);
  }

  const quantityText = required('quantitySold');
  let quantity = 0;
  if (quantityText !== '') {
    quantity = /^\d+$/.test(quantityText) ? Number(quantityText) : Number.NaN;
    if (!(quantity > 0 && quantity <= MAX_QUANTITY)) {
      reasons.push(`Quantity Sold must be a whole number from 1 to ${MAX_QUANTITY} (got ${quoted(quantityText)})`);
    }
  }

  const unitPriceText = required('unitPrice');
  const unitPrice = decimal('unitPrice', unitPriceText);
  const shippingCost = decimal('shippingCost', get('shippingCost')) ?? '0';
  const unitCost = decimal('unitCost', get('unitCost'));

  const discountText = get('discount');
  let discount = '0';
  if (discountText !== '') {
    const fraction = discountFraction(discountText);
    if (fraction === undefined) {
      reasons.push(`Discount must be a fraction from 0 to 1 or a percentage from 0% to 100% (got ${quoted(discountText)})`);
    } else {
      discount = fraction;
    }
  }

  const address = get('customerAddress');
  let attributes: Record<string, string> | null = extra ? { ...extra } : null;
  for (const [position, name] of columns.extras) {
    const value = values[position].trim();
    if (value !== '') {
      attributes ??= {};
      attributes[name] = value;
    }
  }
  if (reasons.length > 0) return { ok: false, reasons };
  return {
    ok: true,
    line: {
      orderCode,
      productCode,
      customerCode,
      productName,
      category,
      region,
      saleDate: saleDate.slice(0, 10),
      quantity,
      unitPrice: unitPrice!,
      discount,
      shippingCost,
      unitCost,
      paymentMethod,
      customerName,
      customerEmail,
      customerAddress: address === '' ? null : address,
      attributes,
    },
  };
}
