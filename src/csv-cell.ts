// One rule for every CSV this application writes (the API's answers, the rejects command): a text cell that a
// spreadsheet would run as a formula (= + - @, tab, carriage return first) is prefixed with an apostrophe.
const FORMULA_START = /^[=+\-@\t\r]/;

/** A value as a CSV cell: lists joined with '; ', formula-like text defused, numbers left as numbers. */
export function csvCell(value: unknown): unknown {
  if (typeof value === 'string' && FORMULA_START.test(value)) return `'${value}`;
  if (Array.isArray(value)) return csvCell(value.join('; '));
  return value;
}
