// The dashboard's page: reads its state from the URL, asks the API for the period and the previous one,
// and draws the tiles, the charts and the tables. Chart.js comes from its UMD build (a global).
import { ApiError, apiUrl, request } from './api.js';
import { formatChange, formatCount, formatDay, formatMoney, formatMoneyAxis, formatShare } from './format.js';
import { PRESETS, presetRange, previousRange, readState, writeState } from './periods.js';
import { startRefreshPanel } from './refresh.js';

const { Chart } = globalThis;
const $ = (selector) => document.querySelector(selector);
const COLOURS = ['#2563eb', '#16a34a', '#ea580c', '#9333ea', '#0891b2', '#db2777', '#65a30d', '#ca8a04'];

let state = readState(location.search);
let bounds; // the data's first and last sale day, from the API's defaults
let generation = 0;
const charts = {};

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function fillRows(table, rows) {
  const body = $(`${table} tbody`);
  body.replaceChildren(
    ...rows.map((cells) => {
      const tr = document.createElement('tr');
      tr.append(...cells);
      return tr;
    }),
  );
}

function showEmpty(name, empty) {
  $(`[data-empty="${name}"]`).hidden = !empty;
}

function same(a, b) {
  return a.toLowerCase() === b.toLowerCase();
}

function showError(message) {
  $('#error-text').textContent = message;
  $('#error').hidden = false;
  $('#status').textContent = '';
}

function fillOptions(select, names, chosen) {
  const first = select.options[0];
  select.replaceChildren(first, ...names.map((name) => new Option(name, name)));
  // A filter from a shared URL that the data no longer holds is kept, so the page says it answers nothing.
  if (chosen && !names.some((name) => same(name, chosen))) select.append(new Option(chosen, chosen));
  select.value = names.find((name) => same(name, chosen)) ?? chosen;
}

// --- Figures -----------------------------------------------------------------------------------------

/** Revenue, orders, customers and average order value of a range, under the page's filters. */
async function keyFigures(range) {
  const { category, region } = state;
  if (!category && !region) {
    const [revenue, summary] = await Promise.all([request('/revenue', range), request('/customers/summary', range)]);
    return {
      revenue: revenue.revenue,
      orders: revenue.orders,
      customers: summary.customers,
      averageOrderValue: summary.averageOrderValue,
    };
  }
  // Filtered: the category's (or region's) own line of by-category (by-region), whose orders count each order once.
  const answer = category
    ? await request('/revenue/by-category', { ...range, region })
    : await request('/revenue/by-region', { ...range, category });
  const item = answer.items.find((entry) => same(category ? entry.category : entry.region, category || region));
  const revenue = item?.revenue ?? 0;
  const orders = item?.orders ?? 0;
  return { revenue, orders, customers: null, averageOrderValue: orders ? revenue / orders : 0 };
}

function drawTiles(current, previous) {
  const formats = { revenue: formatMoney, orders: formatCount, customers: formatCount, averageOrderValue: formatMoney };
  for (const [name, format] of Object.entries(formats)) {
    const tile = $(`[data-kpi="${name}"]`);
    const value = current[name];
    tile.querySelector('.value').textContent = value === null ? 'n/a' : format(value);
    const change = value === null ? undefined : formatChange(value, previous[name]);
    const changeNode = tile.querySelector('.change');
    changeNode.textContent = change === undefined ? 'no sales in the previous period' : `${change} vs previous period`;
    changeNode.className = `change ${change === undefined ? '' : value >= previous[name] ? 'up' : 'down'}`;
  }
  const note = $('#kpi-note');
  note.hidden = current.customers !== null;
  note.textContent =
    'Customers are not counted under a filter (the API counts them over all sales); the average order value is revenue / orders.';
}

function chart(id, config) {
  if (charts[id]) {
    charts[id].data = config.data;
    charts[id].update();
    return;
  }
  charts[id] = new Chart($(`#${id}`), {
    ...config,
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: { legend: { display: config.type === 'line' } },
      scales: { y: { beginAtZero: true, ticks: { callback: (value) => formatMoneyAxis(value) } } },
      ...config.options,
    },
  });
}

function drawTrend(trend, previousTrend) {
  chart('trend-chart', {
    type: 'line',
    data: {
      labels: trend.items.map((item) => item.period),
      datasets: [
        {
          label: 'This period',
          data: trend.items.map((item) => item.revenue),
          borderColor: COLOURS[0],
          backgroundColor: COLOURS[0],
          cubicInterpolationMode: 'monotone',
        },
        {
          label: 'Previous period',
          data: previousTrend.items.map((item) => item.revenue),
          borderColor: 'rgba(100, 116, 139, 0.45)',
          backgroundColor: 'rgba(100, 116, 139, 0.45)',
          borderDash: [4, 4],
          pointRadius: 2,
          cubicInterpolationMode: 'monotone',
        },
      ],
    },
    options: {
      interaction: { mode: 'index', intersect: false },
      plugins: {
        tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${formatMoney(item.raw)}` } },
      },
    },
  });
  const total = trend.items.reduce((sum, item) => sum + item.revenue, 0);
  $('#trend-chart').setAttribute(
    'aria-label',
    `Revenue per ${state.interval}, ${trend.items.length} periods, ${formatMoney(total)} in all`,
  );
  showEmpty(
    'trend',
    trend.items.every((item) => item.revenue === 0),
  );
}

function drawBars(id, empty, items, key) {
  chart(id, {
    type: 'bar',
    data: {
      labels: items.map((item) => item[key]),
      datasets: [
        {
          label: 'Revenue',
          data: items.map((item) => item.revenue),
          backgroundColor: items.map((_, i) => COLOURS[i % COLOURS.length]),
        },
      ],
    },
    options: {
      indexAxis: 'y',
      scales: { x: { ticks: { callback: (value) => formatMoneyAxis(value) } } },
      plugins: { legend: { display: false }, tooltip: { callbacks: { label: (item) => formatMoney(item.raw) } } },
    },
  });
  $(`#${id}`).setAttribute(
    'aria-label',
    items.map((item) => `${item[key]}: ${formatMoney(item.revenue)}`).join('; ') || 'no sales',
  );
  showEmpty(empty, items.length === 0);
}

/** The top-N question for the chosen grouping: a filtered dimension has one group, the plain top-N. */
function topQuestion(range) {
  const { category, region, top } = state;
  if (top === 'category' && !category)
    return { path: '/products/top/by-category', query: { ...range, n: 5, region }, group: 'category' };
  if (top === 'region' && !region)
    return { path: '/products/top/by-region', query: { ...range, n: 5, category }, group: 'region' };
  return { path: '/products/top', query: { ...range, n: top === 'overall' ? 10 : 5, category, region } };
}

function drawTop(answer, question) {
  const groups = question.group ? answer.groups.map((group) => [group[question.group], group.items]) : [['', answer.items]];
  const rows = groups.flatMap(([name, items]) =>
    items.map((item) => [
      cell(name, 'group-col'),
      cell(formatCount(item.rank)),
      cell(`${item.productName} (${item.productId})`),
      cell(item.category),
      cell(formatCount(item.quantity), 'num'),
      cell(formatMoney(item.revenue), 'num'),
    ]),
  );
  fillRows('#top-table', rows);
  $('#top-table').classList.toggle('grouped', Boolean(question.group));
  const link = $('#top-csv');
  link.href = apiUrl(question.path, { ...question.query, format: 'csv' });
  showEmpty('top', rows.length === 0);
}

function drawSegments(answer) {
  fillRows(
    '#segments-table',
    answer.segments.map((segment) => {
      const name = cell(segment.segment);
      name.title = segment.description;
      return [
        name,
        cell(formatCount(segment.customers), 'num'),
        cell(formatShare(segment.share), 'num'),
        cell(formatShare(segment.revenueShare), 'num'),
      ];
    }),
  );
}

function drawCustomers(answer) {
  fillRows(
    '#customers-table',
    answer.items.map((customer) => [
      cell(`${customer.name} (${customer.customerId})`),
      cell(formatCount(customer.orders), 'num'),
      cell(formatMoney(customer.revenue), 'num'),
      cell(formatDay(customer.lastOrder)),
    ]),
  );
  showEmpty('customers', answer.items.length === 0);
}

// --- The page ----------------------------------------------------------------------------------------

function drawControls() {
  $('#range').value = state.range;
  $('#interval').value = state.interval;
  $('#top').value = state.top;
  for (const label of document.querySelectorAll('.custom')) label.hidden = state.range !== 'custom';
}

/** The data's first and last sale day and the names to filter by, over all time. */
async function loadBounds() {
  const [revenue, categories, regions] = await Promise.all([
    request('/revenue'),
    request('/revenue/by-category'),
    request('/revenue/by-region'),
  ]);
  fillOptions($('#category'), categories.items.map((item) => item.category).sort(), state.category);
  fillOptions($('#region'), regions.items.map((item) => item.region).sort(), state.region);
  return revenue.to === null ? null : { first: revenue.from, last: revenue.to };
}

async function refreshPage({ reloadBounds = false } = {}) {
  const mine = ++generation;
  const main = $('#main');
  main.setAttribute('aria-busy', 'true');
  $('#status').textContent = 'Loading…';
  $('#error').hidden = true;
  drawControls();
  try {
    if (!bounds || reloadBounds) bounds = await loadBounds();
    if (mine !== generation) return;
    if (!bounds) {
      $('#panels').hidden = true;
      $('#period').textContent = '';
      $('#status').textContent = 'No sales loaded yet. Start a refresh below to load a file.';
      return;
    }
    $('#panels').hidden = false;
    const range = presetRange(state.range, bounds, state);
    const previous = previousRange(range);
    if (state.range === 'custom') {
      $('#from').value = range.from;
      $('#to').value = range.to;
    }
    const filters = { category: state.category, region: state.region };
    const question = topQuestion(range);
    const [current, before, trend, previousTrend, byCategory, byRegion, top, segments, customers] = await Promise.all([
      keyFigures(range),
      keyFigures(previous),
      request('/revenue/trend', { ...range, ...filters, interval: state.interval }),
      request('/revenue/trend', { ...previous, ...filters, interval: state.interval }),
      request('/revenue/by-category', { ...range, region: state.region }),
      request('/revenue/by-region', { ...range, category: state.category }),
      request(question.path, question.query),
      request('/customers/segments', range),
      request('/customers/lifetime-value', { ...range, limit: 10 }),
    ]);
    if (mine !== generation) return;
    $('#period').textContent =
      `${formatDay(range.from)} – ${formatDay(range.to)}, compared with ${formatDay(previous.from)} – ${formatDay(previous.to)}`;
    drawTiles(current, before);
    drawTrend(trend, previousTrend);
    drawBars(
      'category-chart',
      'category',
      byCategory.items.filter((item) => !state.category || same(item.category, state.category)),
      'category',
    );
    drawBars(
      'region-chart',
      'region',
      byRegion.items.filter((item) => !state.region || same(item.region, state.region)),
      'region',
    );
    drawTop(top, question);
    drawSegments(segments);
    drawCustomers(customers);
    $('#customers-note').hidden = !state.category && !state.region;
    $('#status').textContent = current.orders === 0 ? 'No sales in this period.' : '';
  } catch (error) {
    if (mine !== generation) return;
    showError(error instanceof ApiError ? error.message : `The page failed: ${error.message}`);
  } finally {
    if (mine === generation) main.setAttribute('aria-busy', 'false');
  }
}

function change(update) {
  state = { ...state, ...update };
  if (state.range !== 'custom') {
    state.from = undefined;
    state.to = undefined;
  }
  history.pushState(null, '', `${location.pathname}${writeState(state)}`);
  refreshPage();
}

$('#range').append(...PRESETS.map((preset) => new Option(preset.label, preset.id)));
$('#range').addEventListener('change', (event) => {
  const range = event.target.value;
  // Custom starts from the range on screen, so the two date fields are filled in.
  const shown = bounds ? presetRange(state.range, bounds, state) : {};
  change(range === 'custom' ? { range, from: shown.from, to: shown.to } : { range });
});
$('#from').addEventListener('change', (event) => event.target.value && change({ from: event.target.value }));
$('#to').addEventListener('change', (event) => event.target.value && change({ to: event.target.value }));
$('#category').addEventListener('change', (event) => change({ category: event.target.value }));
$('#region').addEventListener('change', (event) => change({ region: event.target.value }));
$('#interval').addEventListener('change', (event) => change({ interval: event.target.value }));
$('#top').addEventListener('change', (event) => change({ top: event.target.value }));
$('#controls').addEventListener('submit', (event) => event.preventDefault());
$('#retry').addEventListener('click', () => refreshPage({ reloadBounds: true }));
window.addEventListener('popstate', () => {
  state = readState(location.search);
  refreshPage();
});

startRefreshPanel({ onLoaded: () => refreshPage({ reloadBounds: true }) });
refreshPage();
