// Numbers, money, days and changes in the browser's locale (Intl). The API reports no currency; the data
// (the brief's sample) is priced in US dollars, so money is shown as USD.
export const CURRENCY = 'USD';

const money = new Intl.NumberFormat(undefined, { style: 'currency', currency: CURRENCY });
const compactMoney = new Intl.NumberFormat(undefined, { style: 'currency', currency: CURRENCY, notation: 'compact' });
const count = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const percent = new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 1 });
const signedPercent = new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 1, signDisplay: 'exceptZero' });
const day = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' });
const moment = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const bytes = new Intl.NumberFormat(undefined, { style: 'unit', unit: 'megabyte', maximumFractionDigits: 1 });

export const formatMoney = (value) => money.format(value);
/** For chart axes: $180K rather than $180,000.00. */
export const formatMoneyAxis = (value) => compactMoney.format(value);
export const formatCount = (value) => count.format(value);
export const formatShare = (value) => percent.format(value);
export const formatDay = (text) => day.format(new Date(`${text}T00:00:00Z`));
export const formatMoment = (text) => (text ? moment.format(new Date(text)) : '');
export const formatMegabytes = (value) => bytes.format(value / 1_000_000);
export const formatDuration = (ms) =>
  ms === null || ms === undefined
    ? ''
    : ms < 1000
      ? `${count.format(ms)} ms`
      : `${(ms / 1000).toLocaleString(undefined, { maximumFractionDigits: 1 })} s`;

/** The change from `previous` to `current`, or undefined when there is nothing to compare with. */
export function formatChange(current, previous) {
  if (!previous) return undefined;
  return signedPercent.format((current - previous) / previous);
}
