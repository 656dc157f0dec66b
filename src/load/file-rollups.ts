// The aggregation layer of a load into an empty database, summed here from the file's lines rather than by
// the database from the tables it has just written: the database's side of a first load is then only COPY.
// Exact: figures are integers in units of 10^-places (FileState.figurePlaces), summed as doubles only while
// they stay safe integers; when a figure or a sum cannot, the caller rebuilds the rollups with SQL instead.
// The result matches what rollup-sql.ts computes from the tables (a test compares every row of every table).
import { DECIMAL_PLACES } from './decimal.js';
import type { FileState } from './file-state.js';
import { KeyTable } from './key-table.js';

/** Database ids of the file's products, customers, regions and categories (by their indexes in FileState). */
export interface RollupIds {
  product: Int32Array;
  customer: Int32Array;
  region: Int32Array;
  category: Int32Array;
}

/** One rollup table's rows, in COPY text (a generator: they are formatted as they are sent). */
export interface RollupRows {
  table: string;
  columns: string;
  rows: () => Generator<string>;
}

class Unsafe extends Error {}

function safe(value: number): number {
  if (!Number.isSafeInteger(value)) throw new Unsafe();
  return value;
}

/** The exact decimal text of `units` (>= 0) at `places` decimal places, without trailing fractional zeros. */
function decimal(units: number, places: number): string {
  let value = units;
  let scale = places;
  while (scale > 0 && value % 10 === 0) {
    value /= 10;
    scale--;
  }
  if (scale === 0) return String(value);
  const digits = String(value).padStart(scale + 1, '0');
  return `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

/** Cells keyed by two or three small integers, with Float64Array measures. */
class Cells {
  private readonly keyTable: KeyTable;
  readonly measures: Float64Array[];
  private capacity = 1024;

  constructor(parts: 2 | 3, measureCount: number) {
    this.keyTable = new KeyTable(parts);
    this.measures = Array.from({ length: measureCount }, () => new Float64Array(this.capacity));
  }

  get size(): number {
    return this.keyTable.size;
  }

  /** Each key part's column, by cell (no third with two parts). */
  get keys(): [Int32Array, Int32Array, Int32Array | undefined] {
    const { a, b, c } = this.keyTable;
    return [a, b, c];
  }

  /** All cells are there: lets their lookup go (the rows need only their keys and measures). */
  seal(): void {
    this.keyTable.seal();
  }

  cell(a: number, b: number, c = 0): number {
    const cell = this.keyTable.row(a, b, c);
    if (cell === this.capacity) this.grow();
    return cell;
  }

  add(cell: number, measure: number, value: number): void {
    this.measures[measure][cell] += value;
  }

  private grow(): void {
    this.capacity *= 2;
    for (let m = 0; m < this.measures.length; m++) {
      const grown = new Float64Array(this.capacity);
      grown.set(this.measures[m]);
      this.measures[m] = grown;
    }
  }
}

// The eight line figures. The first five are all the product and category rollups keep (no analysis reads
// their gross, discounts or shipping); the daily region rollup keeps all eight.
const LINES = 0;
const QUANTITY = 1;
const REVENUE = 2;
const COSTED_REVENUE = 3;
const COST = 4;
const GROSS = 5;
const DISCOUNT = 6;
const SHIPPING = 7;
const FIGURES = 8;
const PRODUCT_FIGURES = 5;
/** The orders measure of the category and region cells, after their figures. */
const CATEGORY_ORDERS = PRODUCT_FIGURES;
const REGION_ORDERS = FIGURES;
/** The columns of the first five figures, then of all eight, in figure order. */
const PRODUCT_MEASURE_COLUMNS = 'lines, quantity, revenue, costed_revenue, cost';
const LINE_MEASURE_COLUMNS = `${PRODUCT_MEASURE_COLUMNS}, gross, discount, shipping`;

/**
 * Every rollup table's rows for a file loaded into an empty database, or undefined when the figures cannot
 * be summed exactly here.
 */
export function fileRollups(state: FileState, ids: RollupIds): RollupRows[] | undefined {
  const places = state.figurePlaces();
  if (places === undefined) return undefined;
  try {
    return computeRollups(state, ids, places);
  } catch (error) {
    if (error instanceof Unsafe) return undefined;
    throw error;
  }
}

type Places = { money: number; discount: number };

function computeRollups(state: FileState, ids: RollupIds, places: Places): RollupRows[] {
  const money = places.money;
  // gross, shipping and cost are in 10^-money units; discount and revenue in 10^-(money + discount places).
  const revenuePlaces = money + places.discount;

  // Days in date order; each day's month, each month's year.
  const dayNames = state.days.names;
  const dayOrder = dayNames.map((_, i) => i).sort((a, b) => (dayNames[a] < dayNames[b] ? -1 : 1));
  const dayRank = new Int32Array(dayNames.length);
  dayOrder.forEach((day, rank) => {
    dayRank[day] = rank;
  });
  const months: string[] = [];
  const years: string[] = [];
  const dayMonth = new Int32Array(dayNames.length);
  {
    const monthIndex = new Map<string, number>();
    const yearIndex = new Map<string, number>();
    for (const day of dayOrder) {
      const month = `${dayNames[day].slice(0, 7)}-01`;
      const year = `${dayNames[day].slice(0, 4)}-01-01`;
      if (!monthIndex.has(month)) monthIndex.set(month, months.push(month) - 1);
      if (!yearIndex.has(year)) yearIndex.set(year, years.push(year) - 1);
      dayMonth[day] = monthIndex.get(month)!;
    }
  }
  const monthYear = months.map((month) => years.indexOf(`${month.slice(0, 4)}-01-01`));

  const { byMonthProductRegion, byDayCategoryRegion, byDayRegion, orderRevenues, start, slots } = sumLines(
    state,
    places,
    dayMonth,
  );
  // The lines are summed: the state lets them go, only the daily product rows still read them (and drop them).
  let dayProductSource: DayProductSource | undefined = {
    lines: state.lines(),
    orders: state.orderColumns(),
    start,
    slots,
    places,
  };
  state.releaseLines();
  const byDayCustomer = sumOrders(state, orderRevenues);

  const byYearProductRegion = new Cells(3, PRODUCT_FIGURES);
  rollUp(byMonthProductRegion, byYearProductRegion, (month, product, region) => [monthYear[month], product, region]);
  const byYearProduct = new Cells(2, PRODUCT_FIGURES);
  rollUp(byYearProductRegion, byYearProduct, (year, product) => [year, product, 0]);

  const byYearCustomer = new Cells(2, 4); // orders, revenue, first day's rank, last day's rank
  const [customerDayOf, customerOf] = byDayCustomer.keys;
  for (let cell = 0; cell < byDayCustomer.size; cell++) {
    const m = byDayCustomer.measures;
    const day = customerDayOf[cell];
    const target = byYearCustomer.cell(monthYear[dayMonth[day]], customerOf[cell]);
    const t = byYearCustomer.measures;
    const known = t[0][target] > 0;
    t[0][target] += m[0][cell];
    t[1][target] += m[1][cell];
    if (!known || dayRank[day] < t[2][target]) t[2][target] = dayRank[day];
    if (!known || dayRank[day] > t[3][target]) t[3][target] = dayRank[day];
  }

  const all = [
    byMonthProductRegion,
    byYearProductRegion,
    byYearProduct,
    byDayCategoryRegion,
    byDayRegion,
    byDayCustomer,
    byYearCustomer,
  ];
  for (const cells of all) cells.seal();
  for (const cells of [byMonthProductRegion, byYearProductRegion, byYearProduct, byDayCategoryRegion, byDayRegion]) {
    for (const measure of cells.measures) for (let cell = 0; cell < cells.size; cell++) safe(measure[cell]);
  }
  for (let cell = 0; cell < byYearCustomer.size; cell++) safe(byYearCustomer.measures[1][cell]);
  // A day's cell sums part of a year's: safe too.

  const productMeasures = (cells: Cells, cell: number) => {
    const m = cells.measures;
    return `${m[LINES][cell]}\t${m[QUANTITY][cell]}\t${decimal(m[REVENUE][cell], revenuePlaces)}\t${decimal(
      m[COSTED_REVENUE][cell],
      revenuePlaces,
    )}\t${decimal(m[COST][cell], money)}`;
  };
  const lineMeasures = (cells: Cells, cell: number) => {
    const m = cells.measures;
    return `${productMeasures(cells, cell)}\t${decimal(m[GROSS][cell], money)}\t${decimal(
      m[DISCOUNT][cell],
      revenuePlaces,
    )}\t${decimal(m[SHIPPING][cell], money)}`;
  };

  /** Each cell's COPY row: `row` gets the cell and its key parts. */
  function* rows(cells: Cells, row: (cell: number, a: number, b: number, c: number) => string): Generator<string> {
    const [first, second, third] = cells.keys;
    for (let cell = 0; cell < cells.size; cell++) yield row(cell, first[cell], second[cell], third ? third[cell] : 0);
  }
  function* dayCustomerRows(): Generator<string> {
    const m = byDayCustomer.measures;
    for (const cell of orderByRank(byDayCustomer.size, (c) => dayRank[customerDayOf[c]], dayNames.length)) {
      yield `${dayNames[customerDayOf[cell]]}\t${ids.customer[customerOf[cell]]}\t${m[0][cell]}\t${decimal(m[1][cell], revenuePlaces)}\n`;
    }
  }
  const y = byYearCustomer.measures;
  const yearCustomerRows = () =>
    rows(
      byYearCustomer,
      (cell, year, customer) =>
        `${years[year]}\t${ids.customer[customer]}\t${y[0][cell]}\t${decimal(y[1][cell], revenuePlaces)}\t${
          dayNames[dayOrder[y[2][cell]]]
        }\t${dayNames[dayOrder[y[3][cell]]]}\n`,
    );

  return [
    {
      // First: the lines it reads are let go once it is written.
      table: 'sales_by_day_product_region',
      columns: 'sale_date, product_id, region_id, lines, quantity, revenue, costed_revenue, cost',
      rows: function* () {
        if (dayProductSource === undefined) throw new Error('the daily product rows were already written');
        yield* dayProductRows(dayProductSource, dayRank, dayNames, ids, revenuePlaces);
        dayProductSource = undefined;
      },
    },
    {
      table: 'sales_by_month_product_region',
      columns: `month, product_id, region_id, ${PRODUCT_MEASURE_COLUMNS}`,
      rows: () =>
        rows(
          byMonthProductRegion,
          (cell, month, product, region) =>
            `${months[month]}\t${ids.product[product]}\t${ids.region[region]}\t${productMeasures(byMonthProductRegion, cell)}\n`,
        ),
    },
    {
      table: 'sales_by_year_product_region',
      columns: `year, product_id, region_id, ${PRODUCT_MEASURE_COLUMNS}`,
      rows: () =>
        rows(
          byYearProductRegion,
          (cell, year, product, region) =>
            `${years[year]}\t${ids.product[product]}\t${ids.region[region]}\t${productMeasures(byYearProductRegion, cell)}\n`,
        ),
    },
    {
      table: 'sales_by_year_product',
      columns: `year, product_id, ${PRODUCT_MEASURE_COLUMNS}`,
      rows: () =>
        rows(
          byYearProduct,
          (cell, year, product) => `${years[year]}\t${ids.product[product]}\t${productMeasures(byYearProduct, cell)}\n`,
        ),
    },
    {
      table: 'sales_through_year_product_region',
      columns: 'year, product_id, region_id, quantity, revenue',
      rows: () => throughYearRows(byYearProductRegion, years, ids, revenuePlaces),
    },
    {
      table: 'sales_by_day_category_region',
      columns: `sale_date, category_id, region_id, orders, ${PRODUCT_MEASURE_COLUMNS}`,
      rows: () =>
        rows(
          byDayCategoryRegion,
          (cell, day, category, region) =>
            `${dayNames[day]}\t${ids.category[category]}\t${ids.region[region]}\t${byDayCategoryRegion.measures[CATEGORY_ORDERS][cell]}\t${productMeasures(
              byDayCategoryRegion,
              cell,
            )}\n`,
        ),
    },
    {
      table: 'sales_by_day_region',
      columns: `sale_date, region_id, orders, ${LINE_MEASURE_COLUMNS}`,
      rows: () =>
        rows(
          byDayRegion,
          (cell, day, region) =>
            `${dayNames[day]}\t${ids.region[region]}\t${byDayRegion.measures[REGION_ORDERS][cell]}\t${lineMeasures(byDayRegion, cell)}\n`,
        ),
    },
    {
      table: 'customers_by_day',
      columns: 'sale_date, previous_sale_date, customers',
      rows: () => customerDayRows(state, dayRank, dayNames, dayOrder),
    },
    { table: 'sales_by_day_customer', columns: 'sale_date, customer_id, orders, revenue', rows: dayCustomerRows },
    {
      table: 'sales_by_year_customer',
      columns: 'year, customer_id, orders, revenue, first_day, last_day',
      rows: yearCustomerRows,
    },
  ];
}

/** The cells summed from the lines themselves (the coarser rollups are summed from these). */
function sumLines(state: FileState, places: Places, dayMonth: Int32Array) {
  const lines = state.lines();
  const orders = state.orderColumns();
  const figuresOf = lineFigureReader(lines, places);
  const categoryCount = state.categories.names.length;

  const byMonthProductRegion = new Cells(3, PRODUCT_FIGURES);
  const byDayCategoryRegion = new Cells(3, PRODUCT_FIGURES + 1); // then orders
  const byDayRegion = new Cells(2, FIGURES + 1); // then orders
  const orderRevenues = new Float64Array(orders.count);

  // The lines of each order, together (a counting sort of line slots by order).
  const start = new Int32Array(orders.count + 1);
  for (let i = 0; i < lines.count; i++) start[lines.order[i] + 1]++;
  for (let o = 0; o < orders.count; o++) start[o + 1] += start[o];
  const slots = new Int32Array(lines.count);
  {
    const next = start.slice(0, orders.count);
    for (let i = 0; i < lines.count; i++) slots[next[lines.order[i]]++] = i;
  }

  const figures = new Float64Array(FIGURES);
  const seenCategory = new Int32Array(categoryCount).fill(-1);
  for (let o = 0; o < orders.count; o++) {
    const day = orders.day[o];
    const region = orders.region[o];
    const dayRegion = byDayRegion.cell(day, region);
    let orderRevenue = 0;
    for (let s = start[o]; s < start[o + 1]; s++) {
      const i = slots[s];
      const product = lines.product[i];
      figuresOf(i, figures);
      orderRevenue += figures[REVENUE];

      const category = state.productCategory(product);
      const productCell = byMonthProductRegion.cell(dayMonth[day], product, region);
      const categoryCell = byDayCategoryRegion.cell(day, category, region);
      for (let m = 0; m < PRODUCT_FIGURES; m++) {
        byMonthProductRegion.add(productCell, m, figures[m]);
        byDayCategoryRegion.add(categoryCell, m, figures[m]);
      }
      for (let m = 0; m < FIGURES; m++) byDayRegion.add(dayRegion, m, figures[m]);
      if (seenCategory[category] !== o) {
        seenCategory[category] = o;
        byDayCategoryRegion.add(categoryCell, CATEGORY_ORDERS, 1);
      }
    }
    byDayRegion.add(dayRegion, REGION_ORDERS, 1);
    orderRevenues[o] = orderRevenue;
  }

  return { byMonthProductRegion, byDayCategoryRegion, byDayRegion, orderRevenues, start, slots };
}

/** Fills `figures` with line i's eight measures, exact integers (throws Unsafe where they cannot be). */
function lineFigureReader(lines: ReturnType<FileState['lines']>, places: Places) {
  const moneyDivisor = 10 ** (DECIMAL_PLACES - places.money);
  const ratioDivisor = 10 ** (DECIMAL_PLACES - places.discount);
  const ratioUnit = 10 ** places.discount;
  return (i: number, figures: Float64Array): void => {
    const quantity = lines.quantity[i];
    const gross = safe(quantity * (lines.price[i] / moneyDivisor));
    const discount = safe(gross * (lines.discount[i] / ratioDivisor));
    const revenue = safe(gross * ratioUnit - discount);
    const unitCost = lines.cost[i]; // units + 1; 0: unknown
    figures[LINES] = 1;
    figures[QUANTITY] = quantity;
    figures[GROSS] = gross;
    figures[DISCOUNT] = discount;
    figures[REVENUE] = revenue;
    figures[SHIPPING] = lines.shipping[i] / moneyDivisor;
    figures[COSTED_REVENUE] = unitCost === 0 ? 0 : revenue;
    figures[COST] = unitCost === 0 ? 0 : safe(quantity * ((unitCost - 1) / moneyDivisor));
  };
}

/** 0..count-1 ordered by rank (each in [0, rankCount)), stably: a counting sort. */
function orderByRank(count: number, rankOf: (index: number) => number, rankCount: number): Int32Array {
  const next = new Int32Array(rankCount + 1);
  for (let i = 0; i < count; i++) next[rankOf(i) + 1]++;
  for (let r = 0; r < rankCount; r++) next[r + 1] += next[r];
  const ordered = new Int32Array(count);
  for (let i = 0; i < count; i++) ordered[next[rankOf(i)]++] = i;
  return ordered;
}

/** What the daily product rows are made from: the lines, held until those rows are written. */
interface DayProductSource {
  lines: ReturnType<FileState['lines']>;
  orders: ReturnType<FileState['orderColumns']>;
  /** Each order's line slots: slots[start[o] .. start[o + 1]). */
  start: Int32Array;
  slots: Int32Array;
  places: Places;
}

/**
 * sales_by_day_product_region, day by day in date order (the table is read by ranges of days): its cells are
 * about one per line, so they are summed here a day at a time from the lines rather than kept in memory.
 */
function* dayProductRows(
  source: DayProductSource,
  dayRank: Int32Array,
  dayNames: string[],
  ids: RollupIds,
  revenuePlaces: number,
): Generator<string> {
  const { lines, orders, start, slots } = source;
  const figuresOf = lineFigureReader(lines, source.places);
  const ordersByDay = orderByRank(orders.count, (o) => dayRank[orders.day[o]], dayNames.length);
  const regionCount = ids.region.length;
  const cellOf = new Map<number, number>();
  const keys: number[] = [];
  const sums: number[][] = [[], [], [], [], []]; // lines, quantity, revenue, costed revenue, cost
  const figures = new Float64Array(FIGURES);
  for (let next = 0; next < ordersByDay.length; ) {
    const day = orders.day[ordersByDay[next]];
    cellOf.clear();
    keys.length = 0;
    for (const column of sums) column.length = 0;
    for (; next < ordersByDay.length && orders.day[ordersByDay[next]] === day; next++) {
      const order = ordersByDay[next];
      for (let s = start[order]; s < start[order + 1]; s++) {
        const i = slots[s];
        figuresOf(i, figures);
        const key = lines.product[i] * regionCount + orders.region[order];
        let cell = cellOf.get(key);
        if (cell === undefined) {
          cell = keys.push(key) - 1;
          cellOf.set(key, cell);
          for (const column of sums) column.push(0);
        }
        sums[0][cell] += 1;
        sums[1][cell] += figures[QUANTITY];
        sums[2][cell] += figures[REVENUE];
        sums[3][cell] += figures[COSTED_REVENUE];
        sums[4][cell] += figures[COST];
      }
    }
    for (let cell = 0; cell < keys.length; cell++) {
      const product = Math.floor(keys[cell] / regionCount);
      const region = keys[cell] - product * regionCount;
      yield `${dayNames[day]}\t${ids.product[product]}\t${ids.region[region]}\t${sums[0][cell]}\t${sums[1][cell]}\t${decimal(
        sums[2][cell],
        revenuePlaces,
      )}\t${decimal(sums[3][cell], revenuePlaces)}\t${decimal(sums[4][cell], source.places.money)}\n`;
    }
  }
}

/** The customers' daily cells (orders, revenue), from the orders and their revenues (once the lines are let go). */
function sumOrders(state: FileState, orderRevenues: Float64Array): Cells {
  const orders = state.orderColumns();
  const byDayCustomer = new Cells(2, 2);
  for (let o = 0; o < orders.count; o++) {
    const cell = byDayCustomer.cell(orders.day[o], orders.customer[o]);
    byDayCustomer.add(cell, 0, 1);
    byDayCustomer.add(cell, 1, orderRevenues[o]);
  }
  return byDayCustomer;
}

/** Sums every cell of `from` into the cell of `to` that `key` maps it to. */
function rollUp(from: Cells, to: Cells, key: (a: number, b: number, c: number) => [number, number, number]): void {
  const [first, second, third] = from.keys;
  for (let cell = 0; cell < from.size; cell++) {
    const [a, b, c] = key(first[cell], second[cell], third ? third[cell] : 0);
    const target = to.cell(a, b, c);
    for (let m = 0; m < from.measures.length; m++) to.add(target, m, from.measures[m][cell]);
  }
}

/** Running quantity and revenue per product and region through each year of the data, from its first year. */
function* throughYearRows(byYear: Cells, years: string[], ids: RollupIds, revenuePlaces: number): Generator<string> {
  const [yearOf, productOf, regionOf] = byYear.keys as [Int32Array, Int32Array, Int32Array]; // three parts
  const regionRadix = regionOf.reduce((max, region) => Math.max(max, region), 0) + 1;
  const pairs = new Map<number, number[]>();
  for (let cell = 0; cell < byYear.size; cell++) {
    const pair = productOf[cell] * regionRadix + regionOf[cell];
    const cells = pairs.get(pair);
    if (cells === undefined) pairs.set(pair, [cell]);
    else cells.push(cell);
  }
  const sales = new Float64Array(years.length * 2);
  for (const cells of pairs.values()) {
    sales.fill(0);
    let first = years.length;
    for (const cell of cells) {
      sales[yearOf[cell] * 2] = byYear.measures[QUANTITY][cell];
      sales[yearOf[cell] * 2 + 1] = byYear.measures[REVENUE][cell];
      first = Math.min(first, yearOf[cell]);
    }
    const prefix = `\t${ids.product[productOf[cells[0]]]}\t${ids.region[regionOf[cells[0]]]}\t`;
    let quantity = 0;
    let revenue = 0;
    for (let year = first; year < years.length; year++) {
      quantity += sales[year * 2];
      revenue += sales[year * 2 + 1];
      yield `${years[year]}${prefix}${quantity}\t${decimal(safe(revenue), revenuePlaces)}\n`;
    }
  }
}

/** customers_by_day: each customer's distinct order days, each with the customer's previous order day. */
function* customerDayRows(state: FileState, dayRank: Int32Array, dayNames: string[], dayOrder: number[]): Generator<string> {
  const orders = state.orderColumns();
  const dayCount = dayNames.length;
  const keys = new Float64Array(orders.count);
  for (let o = 0; o < orders.count; o++) keys[o] = orders.customer[o] * dayCount + dayRank[orders.day[o]];
  keys.sort();
  const counts = new Map<number, number>();
  let customer = -1;
  let previous = -1;
  for (let k = 0; k < keys.length; k++) {
    if (k > 0 && keys[k] === keys[k - 1]) continue;
    const owner = Math.floor(keys[k] / dayCount);
    const rank = keys[k] - owner * dayCount;
    if (owner !== customer) {
      customer = owner;
      previous = -1;
    }
    const pair = rank * (dayCount + 1) + previous + 1;
    counts.set(pair, (counts.get(pair) ?? 0) + 1);
    previous = rank;
  }
  for (const [pair, customers] of counts) {
    const rank = Math.floor(pair / (dayCount + 1));
    const previousRank = pair - rank * (dayCount + 1) - 1;
    yield `${dayNames[dayOrder[rank]]}\t${previousRank === -1 ? '-infinity' : dayNames[dayOrder[previousRank]]}\t${customers}\n`;
  }
}
