// Exact checks on decimal text: values go to PostgreSQL numeric as written, never through a double.

const PLAIN_DECIMAL = /^(\d+\.?\d*|\.\d+)$/;

/** '12', '12.5', '.5', '12.' : digits with at most one point; no sign, exponent, currency or separators. */
export function isPlainDecimal(text: string): boolean {
  return PLAIN_DECIMAL.test(text);
}

/** Canonical form of a plain decimal: no leading zeros, no trailing fractional zeros ('007.50' -> '7.5'). */
export function canonicalDecimal(text: string): string {
  const point = text.indexOf('.');
  const whole = (point === -1 ? text : text.slice(0, point)).replace(/^0+/, '') || '0';
  const fraction = point === -1 ? '' : text.slice(point + 1).replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : whole;
}

/** Compares two canonical non-negative decimals. */
export function compareDecimal(a: string, b: string): number {
  const [aWhole, aFraction = ''] = a.split('.');
  const [bWhole, bFraction = ''] = b.split('.');
  if (aWhole.length !== bWhole.length) return aWhole.length - bWhole.length;
  if (aWhole !== bWhole) return aWhole < bWhole ? -1 : 1;
  const width = Math.max(aFraction.length, bFraction.length);
  const x = aFraction.padEnd(width, '0');
  const y = bFraction.padEnd(width, '0');
  return x === y ? 0 : x < y ? -1 : 1;
}

/** A canonical decimal divided by 100, exactly ('12.5' -> '0.125'). */
export function percentToFraction(canonical: string): string {
  const [whole, fraction = ''] = canonical.split('.');
  const digits = whole.padStart(3, '0') + fraction;
  const point = digits.length - fraction.length - 2;
  return canonicalDecimal(`${digits.slice(0, point)}.${digits.slice(point)}`);
}
