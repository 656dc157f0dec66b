// Quotients computed exactly: an average or a share is rounded from the exact quotient of two exact sums, half
// away from zero, as PostgreSQL's numeric division and round() give it. In SQL a division goes through a double
// in DuckDB (680.725 became 680.72): the analyses select both sums as exact text and divide here.

/** A decimal's text (or a whole number) as an integer of 10^-scale units. */
function scaled(value: string | number): { units: bigint; scale: number } {
  const text = typeof value === 'number' ? String(value) : value;
  if (!/^-?\d+(\.\d+)?$/.test(text)) throw new Error(`not an exact decimal: ${text}`);
  const [whole, fraction = ''] = text.split('.');
  return { units: BigInt(whole + fraction), scale: fraction.length };
}

/**
 * numerator / denominator rounded half away from zero to `places` decimals, as the JSON number of that decimal
 * (the double nearest to it, as PostgreSQL's `round(x, places)::float8`); `ifZero` when the denominator is 0.
 */
export function roundedQuotient(
  numerator: string | number,
  denominator: string | number,
  places: number,
  ifZero: number | null = 0,
): number | null {
  const n = scaled(numerator);
  const d = scaled(denominator);
  if (d.units === 0n) return ifZero;
  const negative = n.units < 0n !== d.units < 0n && n.units !== 0n;
  const a = (n.units < 0n ? -n.units : n.units) * 10n ** BigInt(d.scale + places);
  const b = (d.units < 0n ? -d.units : d.units) * 10n ** BigInt(n.scale);
  const rounded = (2n * a + b) / (2n * b);
  const digits = rounded.toString().padStart(places + 1, '0');
  const text = places === 0 ? digits : `${digits.slice(0, -places)}.${digits.slice(-places)}`;
  return Number(negative ? `-${text}` : text);
}
