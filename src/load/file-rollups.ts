// The aggregation layer of a load into an empty database, summed here from the file's lines rather than by
// the database from the tables it has just written: the database's side of a first load is then only COPY
// (rebuilding them from the tables took 280 s for 10M lines, against about 60 s here).
// Summed a part of the file at a time (stream-rows.ts): each part's cells go to sorted runs on disk
// (rollup-runs.ts), merged into the tables' rows at the end, so that memory holds one part's cells.
// Exact: figures are integers in units of 10^-places (FigurePlaces, each part its own), summed as doubles
// only while they stay safe integers; when a figure or a sum cannot, the caller rebuilds the rollups with SQL.
// The result matches what rollup-sql.ts computes from the tables (a test compares every row of every table).
import { DECIMAL_PLACES } from './decimal.js';
import type { Places } from './figure-places.js';
import type { FileState, LineColumns, OrderColumns } from './file-state.js';
import { KeyTable } from './key-table.js';
import { mergeRuns, RunWriter, runFile } from './rollup-runs.js';

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
  private keyTable: KeyTable;
  measures: Float64Array[];
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

  /** Lets the cells go (they are written). */
  release(): void {
    this.keyTable = new KeyTable(this.keyTable.c ? 3 : 2);
    this.measures = [];
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

const DAY_MS = 86_400_000;
/** A day's number (days since 1970-01-01, negative before): how runs key and sort days. */
const dayNumberOf = (day: string) => Date.parse(`${day}T00:00:00Z`) / DAY_MS;
/** A month's number (year * 12 + month - 1) and its name. */
const monthNumberOf = (day: string) => Number(day.slice(0, 4)) * 12 + Number(day.slice(5, 7)) - 1;
const monthName = (month: number) =>
  `${String(Math.floor(month / 12)).padStart(4, '0')}-${String((month % 12) + 1).padStart(2, '0')}-01`;

/** How a measure is scaled: a count, 10^-money units (gross, shipping, cost) or 10^-(money + discount) (revenue, discount). */
type Scale = 'count' | 'money' | 'revenue';
const PRODUCT_SCALES: Scale[] = ['count', 'count', 'revenue', 'revenue', 'money'];
const LINE_SCALES: Scale[] = [...PRODUCT_SCALES, 'money', 'revenue', 'money'];

/** A rollup's cells as runs (rollup-runs.ts): their key numbers, then their measures. */
interface RunKind {
  name: string;
  keys: number;
  scales: Scale[];
}
const RUNS = {
  /** day, product, region: the figures of products */
  dayProduct: { name: 'day-product', keys: 3, scales: PRODUCT_SCALES },
  /** month, product, region: the figures of products */
  monthProduct: { name: 'month-product', keys: 3, scales: PRODUCT_SCALES },
  /** day, category, region: the figures of products, then orders */
  dayCategory: { name: 'day-category', keys: 3, scales: [...PRODUCT_SCALES, 'count'] },
  /** day, region: all eight figures, then orders */
  dayRegion: { name: 'day-region', keys: 2, scales: [...LINE_SCALES, 'count'] },
  /** day, customer: orders, revenue */
  dayCustomer: { name: 'day-customer', keys: 2, scales: ['count', 'revenue'] },
} satisfies Record<string, RunKind>;

/** What a part left: its figure places, its runs' files, and the totals of its eight figures (in its places). */
interface PartSums {
  places: Places;
  runs: Map<RunKind, string>;
  totals: Float64Array;
}

/**
 * Every rollup table's rows for a file loaded into an empty database, summed a part at a time (addPart, while
 * the part's lines are held) and written at the end (rows), from each part's sorted runs merged.
 */
export class FileRollups {
  /** False once some part's figures cannot be summed exactly here. */
  private summable = true;
  private readonly parts: PartSums[] = [];
  /** By day index (FileState.days): its day number and its month's. */
  private readonly dayNumber: number[] = [];
  private readonly monthNumber: number[] = [];

  constructor(private readonly directory: string) {}

  /** Sums a part's lines and orders (the state holds that part's); `places`: its figures'. */
  addPart(state: FileState, places: Places | undefined): void {
    if (!this.summable) return;
    if (places === undefined) {
      this.summable = false;
      return;
    }
    const days = state.days.names;
    for (let day = this.dayNumber.length; day < days.length; day++) {
      this.dayNumber.push(dayNumberOf(days[day]));
      this.monthNumber.push(monthNumberOf(days[day]));
    }
    try {
      this.sumPart(state, places);
    } catch (error) {
      if (!(error instanceof Unsafe)) throw error;
      this.summable = false;
    }
  }

  private sumPart(state: FileState, places: Places): void {
    const sums: PartSums = { places, runs: new Map(), totals: new Float64Array(FIGURES) };
    const orderRevenues = this.sumLines(state, sums);
    // The daily customer cells need only the orders: the lines go first.
    state.releaseLines();
    const cells = dayCustomerCells(state.orderColumns(), orderRevenues);
    this.writeRun(sums, RUNS.dayCustomer, (writer) => writeCells(writer, cells, (day) => this.dayNumber[day]));
    this.parts.push(sums);
  }

  private writeRun(sums: PartSums, kind: RunKind, write: (run: RunWriter) => void): void {
    const writer = new RunWriter(runFile(this.directory, kind.name, this.parts.length), kind.keys + kind.scales.length);
    write(writer);
    writer.close();
    sums.runs.set(kind, writer.file);
  }

  /** Sums a part's lines into every run but the daily customers'; returns each order's revenue. */
  private sumLines(state: FileState, sums: PartSums): Float64Array {
    const places = sums.places;
    const lines = state.lines();
    const orders = state.orderColumns();
    const figuresOf = lineFigureReader(lines, places);
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
    const seenCategory = new Int32Array(state.categories.names.length).fill(-1);
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
        const productCell = byMonthProductRegion.cell(this.monthNumber[day], product, region);
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

    const { totals } = sums;
    for (let m = 0; m < FIGURES; m++) for (let c = 0; c < byDayRegion.size; c++) totals[m] += byDayRegion.measures[m][c];
    const run = (kind: RunKind, write: (run: RunWriter) => void) => this.writeRun(sums, kind, write);
    const day = (index: number) => this.dayNumber[index];
    // One rollup's cells at a time: each part's cells are written and let go before the next are made.
    run(RUNS.monthProduct, (writer) => writeCells(writer, byMonthProductRegion, (month) => month));
    run(RUNS.dayCategory, (writer) => writeCells(writer, byDayCategoryRegion, day));
    run(RUNS.dayRegion, (writer) => writeCells(writer, byDayRegion, day));
    byMonthProductRegion.release();
    byDayCategoryRegion.release();
    byDayRegion.release();
    run(RUNS.dayProduct, (writer) =>
      writeDayProductRun(writer, { lines, orders, start, slots, figuresOf }, this.dayNumber, state.regions.names.length),
    );
    return orderRevenues;
  }

  /**
   * Every rollup table's rows, in the order to write them, or undefined when the figures cannot be summed
   * exactly here. Call once, after the last part.
   */
  rows(state: FileState, ids: RollupIds): RollupRows[] | undefined {
    if (!this.summable) return undefined;
    const places = {
      money: Math.max(0, ...this.parts.map((part) => part.places.money)),
      discount: Math.max(0, ...this.parts.map((part) => part.places.discount)),
    };
    // Each part's measures in the file's places.
    const multipliers = this.parts.map((part) => {
      const money = 10 ** (places.money - part.places.money);
      const revenue = 10 ** (places.money + places.discount - part.places.money - part.places.discount);
      return (kind: RunKind) =>
        Float64Array.from(kind.scales, (scale) => (scale === 'money' ? money : scale === 'revenue' ? revenue : 1));
    });
    // Every figure is >= 0, so no sum is larger than the file's total of its figure: when the totals are
    // exact integers, so is every cell (and every running sum) summed from the same lines.
    for (let m = 0; m < FIGURES; m++) {
      let total = 0;
      this.parts.forEach((part, p) => {
        total += part.totals[m] * multipliers[p](RUNS.dayRegion)[m];
      });
      if (!Number.isSafeInteger(total)) return undefined;
    }
    const merged = (kind: RunKind) =>
      mergeRuns(
        this.parts.map((part) => part.runs.get(kind)!),
        kind.keys,
        kind.keys + kind.scales.length,
        multipliers.map((multiplier) => multiplier(kind)),
      );
    return rollupRows(merged, places, state, ids);
  }
}

/** A part's cells of sales_by_day_customer (orders, revenue), from its orders. */
function dayCustomerCells(orders: OrderColumns, orderRevenues: Float64Array): Cells {
  const cells = new Cells(2, 2);
  for (let o = 0; o < orders.count; o++) {
    const cell = cells.cell(orders.day[o], orders.customer[o]);
    cells.add(cell, 0, 1);
    cells.add(cell, 1, orderRevenues[o]);
  }
  return cells;
}

/** A part's cells, sorted by their keys (the first mapped to its number), as run cells. */
function writeCells(run: RunWriter, cells: Cells, first: (key: number) => number): void {
  cells.seal();
  const [a, b, c] = cells.keys;
  const number = Float64Array.from(a.subarray(0, cells.size), first);
  // Every key part is a small index: stable counting sorts by the last part, then each one before it, order
  // the cells in a few linear passes (a comparison sort of the ~400k cells of a part took 0.4 s).
  let order: Int32Array = Int32Array.from({ length: cells.size }, (_, cell) => cell);
  if (c) order = reorder(order, c);
  order = reorder(order, b);
  order = reorder(order, ranksOf(number));
  const keys = c ? 3 : 2;
  const cell = new Float64Array(keys + cells.measures.length);
  for (const x of order) {
    cell[0] = number[x];
    cell[1] = b[x];
    if (c) cell[2] = c[x];
    for (let m = 0; m < cells.measures.length; m++) cell[keys + m] = cells.measures[m][x];
    run.add(cell);
  }
}

function rollupRows(
  merged: (kind: RunKind) => Generator<Float64Array>,
  places: Places,
  state: FileState,
  ids: RollupIds,
): RollupRows[] {
  const money = places.money;
  // gross, shipping and cost are in 10^-money units; discount and revenue in 10^-(money + discount places).
  const revenuePlaces = money + places.discount;
  const dayNames = state.days.names;
  const dayName = new Map(dayNames.map((name) => [dayNumberOf(name), name]));
  const years = [...new Set(dayNames.map((name) => `${name.slice(0, 4)}-01-01`))].sort();
  const yearIndex = new Map(years.map((year, index) => [Number(year.slice(0, 4)), index]));

  /** The figures of products, from a run cell's measures at `at`. */
  const productMeasures = (c: Float64Array, at: number) =>
    `${c[at + LINES]}\t${c[at + QUANTITY]}\t${decimal(c[at + REVENUE], revenuePlaces)}\t${decimal(
      c[at + COSTED_REVENUE],
      revenuePlaces,
    )}\t${decimal(c[at + COST], money)}`;

  // Summed while the rows they come from are written, read by the tables after those.
  const byYearProductRegion = new Cells(3, PRODUCT_FIGURES);
  const byYearCustomer = new Cells(2, 4); // orders, revenue, first day's number, last day's
  // Days by rank, for customers_by_day's pairs of a day and the customer's previous order day (-1: none).
  const dayByRank = [...dayName.keys()].sort((a, b) => a - b);
  const rankOf = new Map(dayByRank.map((day, rank) => [day, rank]));
  const nameOfRank = dayByRank.map((day) => dayName.get(day)!);
  const yearOfRank = Int32Array.from(nameOfRank, (name) => yearIndex.get(Number(name.slice(0, 4)))!);
  const customerDays = new Map<number, number>(); // rank * (days + 1) + previous rank + 1 -> customers
  const written = new Set<string>();
  const after = (table: string, next: string) => {
    if (!written.has(table)) throw new Error(`${next} is written after ${table}`);
  };

  function* monthProductRows(): Generator<string> {
    const k = RUNS.monthProduct.keys;
    for (const c of merged(RUNS.monthProduct)) {
      yield `${monthName(c[0])}\t${ids.product[c[1]]}\t${ids.region[c[2]]}\t${productMeasures(c, k)}\n`;
      const year = yearIndex.get(Math.floor(c[0] / 12))!;
      const target = byYearProductRegion.cell(year, c[1], c[2]);
      for (let m = 0; m < PRODUCT_FIGURES; m++) byYearProductRegion.add(target, m, c[k + m]);
    }
    written.add('sales_by_month_product_region');
  }
  /** Each cell's COPY row: `row` gets the cell and its key parts. */
  function* cellRows(cells: Cells, row: (cell: number, a: number, b: number, c: number) => string): Generator<string> {
    const [first, second, third] = cells.keys;
    for (let cell = 0; cell < cells.size; cell++) yield row(cell, first[cell], second[cell], third ? third[cell] : 0);
  }
  const cellMeasures = (cells: Cells, cell: number) =>
    productMeasures(
      Float64Array.from(cells.measures, (measure) => measure[cell]),
      0,
    );
  function* yearProductRegionRows(): Generator<string> {
    after('sales_by_month_product_region', 'sales_by_year_product_region');
    yield* cellRows(
      byYearProductRegion,
      (cell, year, product, region) =>
        `${years[year]}\t${ids.product[product]}\t${ids.region[region]}\t${cellMeasures(byYearProductRegion, cell)}\n`,
    );
  }
  function* yearProductRows(): Generator<string> {
    after('sales_by_month_product_region', 'sales_by_year_product');
    const byYearProduct = new Cells(2, PRODUCT_FIGURES);
    rollUp(byYearProductRegion, byYearProduct, (year, product) => [year, product, 0]);
    yield* cellRows(
      byYearProduct,
      (cell, year, product) => `${years[year]}\t${ids.product[product]}\t${cellMeasures(byYearProduct, cell)}\n`,
    );
  }
  function* throughRows(): Generator<string> {
    after('sales_by_month_product_region', 'sales_through_year_product_region');
    yield* throughYearRows(byYearProductRegion, years, ids, revenuePlaces);
  }
  function* dayProductRows(): Generator<string> {
    const k = RUNS.dayProduct.keys;
    for (const c of merged(RUNS.dayProduct)) {
      yield `${dayName.get(c[0])}\t${ids.product[c[1]]}\t${ids.region[c[2]]}\t${productMeasures(c, k)}\n`;
    }
  }
  function* dayCategoryRows(): Generator<string> {
    const k = RUNS.dayCategory.keys;
    for (const c of merged(RUNS.dayCategory)) {
      yield `${dayName.get(c[0])}\t${ids.category[c[1]]}\t${ids.region[c[2]]}\t${c[k + CATEGORY_ORDERS]}\t${productMeasures(c, k)}\n`;
    }
  }
  function* dayRegionRows(): Generator<string> {
    const k = RUNS.dayRegion.keys;
    for (const c of merged(RUNS.dayRegion)) {
      yield `${dayName.get(c[0])}\t${ids.region[c[1]]}\t${c[k + REGION_ORDERS]}\t${productMeasures(c, k)}\t${decimal(
        c[k + GROSS],
        money,
      )}\t${decimal(c[k + DISCOUNT], revenuePlaces)}\t${decimal(c[k + SHIPPING], money)}\n`;
    }
  }
  function* dayCustomerRows(): Generator<string> {
    const previousRank = new Int32Array(ids.customer.length).fill(-1);
    const y = byYearCustomer.measures;
    for (const [day, customer, orders, revenue] of merged(RUNS.dayCustomer)) {
      const rank = rankOf.get(day)!;
      yield `${nameOfRank[rank]}\t${ids.customer[customer]}\t${orders}\t${decimal(revenue, revenuePlaces)}\n`;
      const target = byYearCustomer.cell(yearOfRank[rank], customer);
      if (y[0][target] === 0) y[2][target] = day; // the year's first day: the cells come in day order
      y[0][target] += orders;
      y[1][target] += revenue;
      y[3][target] = day;
      const pair = rank * (dayByRank.length + 1) + previousRank[customer] + 1;
      customerDays.set(pair, (customerDays.get(pair) ?? 0) + 1);
      previousRank[customer] = rank;
    }
    written.add('sales_by_day_customer');
  }
  function* customerDayRows(): Generator<string> {
    after('sales_by_day_customer', 'customers_by_day');
    const stride = dayByRank.length + 1;
    for (const [pair, customers] of customerDays) {
      const day = dayName.get(dayByRank[Math.floor(pair / stride)]);
      const previous = (pair % stride) - 1;
      yield `${day}\t${previous === -1 ? '-infinity' : dayName.get(dayByRank[previous])}\t${customers}\n`;
    }
  }
  function* yearCustomerRows(): Generator<string> {
    after('sales_by_day_customer', 'sales_by_year_customer');
    const y = byYearCustomer.measures;
    yield* cellRows(
      byYearCustomer,
      (cell, year, customer) =>
        `${years[year]}\t${ids.customer[customer]}\t${y[0][cell]}\t${decimal(y[1][cell], revenuePlaces)}\t${dayName.get(
          y[2][cell],
        )}\t${dayName.get(y[3][cell])}\n`,
    );
  }

  // In this order: a table summed while another is written comes after it.
  return [
    {
      table: 'sales_by_day_product_region',
      columns: `sale_date, product_id, region_id, ${PRODUCT_MEASURE_COLUMNS}`,
      rows: dayProductRows,
    },
    {
      table: 'sales_by_month_product_region',
      columns: `month, product_id, region_id, ${PRODUCT_MEASURE_COLUMNS}`,
      rows: monthProductRows,
    },
    {
      table: 'sales_by_year_product_region',
      columns: `year, product_id, region_id, ${PRODUCT_MEASURE_COLUMNS}`,
      rows: yearProductRegionRows,
    },
    { table: 'sales_by_year_product', columns: `year, product_id, ${PRODUCT_MEASURE_COLUMNS}`, rows: yearProductRows },
    { table: 'sales_through_year_product_region', columns: 'year, product_id, region_id, quantity, revenue', rows: throughRows },
    {
      table: 'sales_by_day_category_region',
      columns: `sale_date, category_id, region_id, orders, ${PRODUCT_MEASURE_COLUMNS}`,
      rows: dayCategoryRows,
    },
    { table: 'sales_by_day_region', columns: `sale_date, region_id, orders, ${LINE_MEASURE_COLUMNS}`, rows: dayRegionRows },
    { table: 'sales_by_day_customer', columns: 'sale_date, customer_id, orders, revenue', rows: dayCustomerRows },
    { table: 'customers_by_day', columns: 'sale_date, previous_sale_date, customers', rows: customerDayRows },
    {
      table: 'sales_by_year_customer',
      columns: 'year, customer_id, orders, revenue, first_day, last_day',
      rows: yearCustomerRows,
    },
  ];
}

/** Fills `figures` with line i's eight measures, exact integers (throws Unsafe where they cannot be). */
function lineFigureReader(lines: LineColumns, places: Places) {
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

/** `order` stably reordered by `key` of each of its entries (small integers >= 0). */
function reorder(order: Int32Array, key: ArrayLike<number>): Int32Array {
  let rankCount = 0;
  for (const entry of order) rankCount = Math.max(rankCount, key[entry] + 1);
  return orderByRank(order.length, (i) => key[order[i]], rankCount).map((i) => order[i]);
}

/** Each value's rank among the distinct values. */
function ranksOf(values: Float64Array): Int32Array {
  const distinct = [...new Set(values)].sort((x, y) => x - y);
  const rank = new Map(distinct.map((value, r) => [value, r]));
  return Int32Array.from(values, (value) => rank.get(value)!);
}

/** A part's lines, grouped by order: slots[start[o] .. start[o + 1]) are order o's. */
interface PartLines {
  lines: LineColumns;
  orders: OrderColumns;
  start: Int32Array;
  slots: Int32Array;
  figuresOf: (line: number, figures: Float64Array) => void;
}

/** Each day index's rank by day number, among the days known so far. */
function dayRanks(dayNumber: number[]): Int32Array {
  const order = dayNumber.map((_, day) => day).sort((a, b) => dayNumber[a] - dayNumber[b]);
  const rank = new Int32Array(dayNumber.length);
  order.forEach((day, r) => {
    rank[day] = r;
  });
  return rank;
}

/**
 * A part's cells of sales_by_day_product_region, in (day, product, region) order: about one per line, so they
 * are summed a day at a time from the lines rather than all held.
 */
function writeDayProductRun(run: RunWriter, part: PartLines, dayNumber: number[], regionCount: number): void {
  const { lines, orders, start, slots, figuresOf } = part;
  const rank = dayRanks(dayNumber);
  const ordersByDay = orderByRank(orders.count, (o) => rank[orders.day[o]], dayNumber.length);
  const cellOf = new Map<number, number>();
  const keys: number[] = [];
  const sums: number[][] = [[], [], [], [], []]; // lines, quantity, revenue, costed revenue, cost
  const figures = new Float64Array(FIGURES);
  const cell = new Float64Array(RUNS.dayProduct.keys + RUNS.dayProduct.scales.length);
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
        let c = cellOf.get(key);
        if (c === undefined) {
          c = keys.push(key) - 1;
          cellOf.set(key, c);
          for (const column of sums) column.push(0);
        }
        sums[0][c] += 1;
        sums[1][c] += figures[QUANTITY];
        sums[2][c] += figures[REVENUE];
        sums[3][c] += figures[COSTED_REVENUE];
        sums[4][c] += figures[COST];
      }
    }
    cell[0] = dayNumber[day];
    for (const c of keys.map((_, c) => c).sort((a, b) => keys[a] - keys[b])) {
      cell[1] = Math.floor(keys[c] / regionCount);
      cell[2] = keys[c] - cell[1] * regionCount;
      for (let m = 0; m < PRODUCT_FIGURES; m++) cell[RUNS.dayProduct.keys + m] = sums[m][c];
      run.add(cell);
    }
  }
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
      yield `${years[year]}${prefix}${quantity}\t${decimal(revenue, revenuePlaces)}\n`;
    }
  }
}
