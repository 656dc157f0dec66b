// Maps a file's header to the brief's columns: names compared lower-cased without spaces, '_' and '-'.
import { InputFormatError } from '../1-bytes/file.js';
import { unstorableReasons } from '../1-bytes/utf8.js';

export const REQUIRED_COLUMNS = {
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
} as const;

export const OPTIONAL_COLUMNS = { unitCost: 'Unit Cost' } as const;

export type ColumnKey = keyof typeof REQUIRED_COLUMNS | keyof typeof OPTIONAL_COLUMNS;
export const COLUMN_NAMES: Record<ColumnKey, string> = { ...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS };

export function normalizeColumnName(name: string): string {
  return name.toLowerCase().replace(/[\s_-]+/g, '');
}

const KEY_BY_NORMALIZED = new Map<string, ColumnKey>(
  (Object.entries(COLUMN_NAMES) as [ColumnKey, string][]).map(([key, name]) => [normalizeColumnName(name), key]),
);

export interface ColumnMap {
  /** Position of each known column in a record. */
  index: Partial<Record<ColumnKey, number>> & Record<keyof typeof REQUIRED_COLUMNS, number>;
  /** The other columns: [position, name as written]. Kept as attributes of each line. */
  extras: [number, string][];
  width: number;
  /** Customer Address is last: rows with extra fields hold an address with bare commas. */
  addressIsLast: boolean;
}

/** Delimiters other exports use, as the hint names them. */
const OTHER_DELIMITERS: [string, string][] = [
  [';', "';'"],
  ['\t', 'tabs'],
  ['|', "'|'"],
];

export function mapColumns(header: string[]): ColumnMap {
  const other = header.length === 1 ? OTHER_DELIMITERS.find(([delimiter]) => header[0].includes(delimiter)) : undefined;
  if (other) {
    throw new InputFormatError(
      `the header has one column; is the file delimited by ${other[1]}? Columns must be separated by commas`,
    );
  }
  const columnNames = header.map((raw, position) => {
    const name = raw.trim();
    // A column name becomes an attribute key, and may be quoted in an error: it must be text PostgreSQL can store.
    const [unstorable] = unstorableReasons([name]);
    if (unstorable) throw new InputFormatError(`header column ${position + 1} ${unstorable}`);
    return name;
  });
  // A file without its header line: its first row's values would be named as missing, empty or repeated columns.
  if (!columnNames.some((name) => KEY_BY_NORMALIZED.has(normalizeColumnName(name)))) {
    throw new InputFormatError(
      `line 1 names none of the required columns, such as ${REQUIRED_COLUMNS.orderId} or ${REQUIRED_COLUMNS.dateOfSale}: is the header missing?`,
    );
  }
  const index: Partial<Record<ColumnKey, number>> = {};
  const extras: [number, string][] = [];
  const seen = new Map<string, string>();
  columnNames.forEach((name, position) => {
    const normalized = normalizeColumnName(name);
    if (normalized === '') throw new InputFormatError(`header column ${position + 1} has no name`);
    const earlier = seen.get(normalized);
    if (earlier !== undefined) throw new InputFormatError(`header names the column '${name}' twice (also as '${earlier}')`);
    seen.set(normalized, name);
    const key = KEY_BY_NORMALIZED.get(normalized);
    if (key) index[key] = position;
    else extras.push([position, name]);
  });
  const missing = (Object.keys(REQUIRED_COLUMNS) as (keyof typeof REQUIRED_COLUMNS)[]).filter((key) => index[key] === undefined);
  if (missing.length > 0) {
    const names = missing.map((key) => REQUIRED_COLUMNS[key]);
    throw new InputFormatError(`missing required column${names.length > 1 ? 's' : ''}: ${names.join(', ')}`);
  }
  return {
    index: index as ColumnMap['index'],
    extras,
    width: header.length,
    addressIsLast: index.customerAddress === header.length - 1,
  };
}
