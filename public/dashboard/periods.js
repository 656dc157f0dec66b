// Date ranges of the dashboard: the presets, anchored on the data's last sale day (the day the API itself
// takes for a missing `to`), the previous period of equal length, and the page's state in the URL query.
// Pure functions over 'YYYY-MM-DD' strings (UTC calendar days), so they run in the browser and in mocha.

export const PRESETS = [
  { id: 'last7', label: 'Last 7 days' },
  { id: 'last30', label: 'Last 30 days' },
  { id: 'last90', label: 'Last 90 days' },
  { id: 'month', label: 'This month' },
  { id: 'quarter', label: 'This quarter' },
  { id: 'year', label: 'This year' },
  { id: 'lastyear', label: 'Last year' },
  { id: 'all', label: 'All time' },
  { id: 'custom', label: 'Custom' },
];
const INTERVALS = ['day', 'week', 'month', 'quarter', 'year'];
const GROUPINGS = ['overall', 'category', 'region'];
const DEFAULTS = { range: 'last90', interval: 'week', top: 'overall' };

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const MS_PER_DAY = 86_400_000;

function isDay(text) {
  if (typeof text !== 'string' || !DAY.test(text)) return false;
  return toDay(new Date(`${text}T00:00:00Z`)) === text;
}

function toDay(date) {
  return date.toISOString().slice(0, 10);
}

function addDays(day, days) {
  return toDay(new Date(Date.parse(`${day}T00:00:00Z`) + days * MS_PER_DAY));
}

/** Days in [from, to], both inclusive. */
function dayCount(from, to) {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / MS_PER_DAY) + 1;
}

/**
 * The range a preset names. `bounds` is the data's first and last sale day; "last N days" and "this ..." end
 * on the last sale day, so a history that stopped months ago still shows its latest figures.
 */
export function presetRange(preset, bounds, custom = {}) {
  const last = bounds.last;
  const [year, month] = last.split('-').map(Number);
  const pad = (n) => String(n).padStart(2, '0');
  switch (preset) {
    case 'last7':
    case 'last30':
    case 'last90':
      return { from: addDays(last, 1 - Number(preset.slice(4))), to: last };
    case 'month':
      return { from: `${year}-${pad(month)}-01`, to: last };
    case 'quarter':
      return { from: `${year}-${pad(month - ((month - 1) % 3))}-01`, to: last };
    case 'year':
      return { from: `${year}-01-01`, to: last };
    case 'lastyear':
      return { from: `${year - 1}-01-01`, to: `${year - 1}-12-31` };
    case 'custom':
      return { from: custom.from ?? bounds.first, to: custom.to ?? last };
    default:
      return { from: bounds.first, to: last };
  }
}

/** The period of equal length that ends the day before `from`. */
export function previousRange({ from, to }) {
  const days = dayCount(from, to);
  return { from: addDays(from, -days), to: addDays(from, -1) };
}

/** The page's state from a URL query; unknown or malformed values fall back to the defaults. */
export function readState(search) {
  const query = new URLSearchParams(search);
  const pick = (name, allowed) => (allowed.includes(query.get(name)) ? query.get(name) : DEFAULTS[name]);
  const state = {
    range: pick(
      'range',
      PRESETS.map((preset) => preset.id),
    ),
    interval: pick('interval', INTERVALS),
    top: pick('top', GROUPINGS),
    category: query.get('category') ?? '',
    region: query.get('region') ?? '',
    from: isDay(query.get('from')) ? query.get('from') : undefined,
    to: isDay(query.get('to')) ? query.get('to') : undefined,
  };
  if (state.range !== 'custom') {
    state.from = undefined;
    state.to = undefined;
  }
  return state;
}

/** The query for a state: defaults left out, so a plain `/` is the default view. */
export function writeState(state) {
  const query = new URLSearchParams();
  if (state.range !== DEFAULTS.range) query.set('range', state.range);
  if (state.range === 'custom') {
    if (state.from) query.set('from', state.from);
    if (state.to) query.set('to', state.to);
  }
  if (state.interval !== DEFAULTS.interval) query.set('interval', state.interval);
  if (state.top !== DEFAULTS.top) query.set('top', state.top);
  if (state.category) query.set('category', state.category);
  if (state.region) query.set('region', state.region);
  const text = query.toString();
  return text ? `?${text}` : '';
}
