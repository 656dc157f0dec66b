// Every analytics endpoint against an independent computation over generated data (multi-line orders,
// discounts, unit costs, several categories and regions), over many kinds of range.
import { expect } from 'chai';
import { type GeneratedLine, generateSales } from '../../../src/generate/sales-generator.js';
import * as oracle from '../../support/analytics-oracle.js';
import { useTestDatabase } from '../../support/database.js';
import { csvOf, load, writeFile } from '../../support/sales-files.js';
import { startTestServer, type TestServer } from '../../support/server.js';

describe('analytics over generated data', () => {
  const db = useTestDatabase();
  let server: TestServer;
  let lines: GeneratedLine[];
  let all: oracle.Range;

  before(async () => {
    lines = [...generateSales({ rows: 4000, seed: 11, extraColumns: true })];
    const outcome = await load(db().pool, await writeFile(csvOf(lines, { style: 'standard', extraColumns: true })));
    expect(outcome.run.status).to.equal('succeeded');
    const days = lines.map((line) => line.dateOfSale).sort();
    all = { from: days[0], to: days[days.length - 1] };
    server = await startTestServer(db(), { ANALYTICS_CACHE: 'false' });
  });
  after(() => server.close());

  const get = async (route: string) => {
    const response = await fetch(`${server.url}/api/v1/${route}`);
    expect(response.status, `${route}: ${response.status}`).to.equal(200);
    return response.json();
  };
  const query = (range: oracle.Range | undefined, extra = '') =>
    [range ? `from=${range.from}&to=${range.to}` : '', extra].filter(Boolean).join('&');

  const busiestDay = () => {
    const counts = new Map<string, number>();
    for (const line of lines) counts.set(line.dateOfSale, (counts.get(line.dateOfSale) ?? 0) + 1);
    return [...counts].sort((a, b) => b[1] - a[1])[0][0];
  };

  const ranges: [string, () => oracle.Range | undefined][] = [
    ['all time (no bounds)', () => undefined],
    ['one year', () => ({ from: '2023-01-01', to: '2023-12-31' })],
    ['one month', () => ({ from: '2023-06-01', to: '2023-06-30' })],
    ['a single day', () => ({ from: busiestDay(), to: busiestDay() })],
    ['whole years from the first year of the data', () => ({ from: '2022-01-01', to: '2024-12-31' })],
    ['whole years after the first', () => ({ from: '2023-01-01', to: '2024-12-31' })],
    ['partial months at both ends', () => ({ from: '2023-02-10', to: '2024-05-03' })],
    ['within one month', () => ({ from: '2024-03-05', to: '2024-03-19' })],
    ['a range without sales', () => ({ from: '2030-01-01', to: '2030-12-31' })],
  ];

  for (const [name, rangeOf] of ranges) {
    describe(name, () => {
      const effective = () => rangeOf() ?? all;

      it('revenue', async () => {
        expect(await get(`revenue?${query(rangeOf())}`)).to.deep.equal(oracle.revenue(lines, effective()));
      });
      it('revenue by category and by region', async () => {
        expect(await get(`revenue/by-category?${query(rangeOf())}`)).to.deep.equal(
          oracle.byDimension(lines, effective(), 'category'),
        );
        expect(await get(`revenue/by-region?${query(rangeOf())}`)).to.deep.equal(
          oracle.byDimension(lines, effective(), 'region'),
        );
      });
      it('revenue by product, paginated', async () => {
        expect(await get(`revenue/by-product?${query(rangeOf(), 'limit=1000')}`)).to.deep.equal(
          oracle.byProduct(lines, effective(), { limit: 1000, offset: 0 }),
        );
        expect(await get(`revenue/by-product?${query(rangeOf(), 'limit=3&offset=2')}`)).to.deep.equal(
          oracle.byProduct(lines, effective(), { limit: 3, offset: 2 }),
        );
      });
      it('top products overall, by category and by region', async () => {
        expect(await get(`products/top?${query(rangeOf(), 'n=7')}`)).to.deep.equal(oracle.top(lines, effective(), 7));
        expect(await get(`products/top/by-category?${query(rangeOf(), 'n=3')}`)).to.deep.equal(
          oracle.topBy(lines, effective(), 3, 'category'),
        );
        expect(await get(`products/top/by-region?${query(rangeOf())}`)).to.deep.equal(
          oracle.topBy(lines, effective(), 5, 'region'),
        );
      });
      it('monthly trend', async () => {
        expect(await get(`revenue/trend?${query(rangeOf())}`)).to.deep.equal(oracle.trend(lines, effective(), 'month'));
      });
      it('customer summary with exact distinct customers', async () => {
        expect(await get(`customers/summary?${query(rangeOf())}`)).to.deep.equal(oracle.customerSummary(lines, effective()));
      });
      it('lifetime value, paginated', async () => {
        expect(await get(`customers/lifetime-value?${query(rangeOf(), 'limit=20&offset=5')}`)).to.deep.equal(
          oracle.lifetimeValue(lines, effective(), { limit: 20, offset: 5 }),
        );
      });
      it('profit margin', async () => {
        const expected: Record<string, unknown> = oracle.profitMargin(lines, effective(), { limit: 1000, offset: 0 });
        if ((expected.items as unknown[]).length === 0) {
          expected.note = 'no line in this range has a known unit cost: cost, profit and margin cannot be computed';
        }
        expect(await get(`products/profit-margin?${query(rangeOf(), 'limit=1000')}`)).to.deep.equal(expected);
      });
    });
  }

  it('lists every period of a trend, zero-filled, for every interval', async () => {
    const range = { from: '2023-12-20', to: '2024-01-10' };
    for (const interval of ['day', 'week', 'month', 'quarter', 'year']) {
      const answer = await get(`revenue/trend?${query(range, `interval=${interval}`)}`);
      expect(answer, interval).to.deep.equal(oracle.trend(lines, range, interval));
    }
    const weeks = await get('revenue/trend?from=2022-01-01&to=2022-01-10&interval=week');
    expect(
      weeks.items.map((item: { period: string; start: string; end: string }) => [item.period, item.start, item.end]),
    ).to.deep.equal([
      ['2021-W52', '2021-12-27', '2022-01-02'],
      ['2022-W01', '2022-01-03', '2022-01-09'],
      ['2022-W02', '2022-01-10', '2022-01-16'],
    ]);
    const empty = await get('revenue/trend?from=2031-01-01&to=2031-03-31&interval=month');
    expect(empty.items.map((item: { period: string; revenue: number }) => [item.period, item.revenue])).to.deep.equal([
      ['2031-01', 0],
      ['2031-02', 0],
      ['2031-03', 0],
    ]);
  });

  it('applies category and region filters exactly, ignoring case; an unknown name gives an empty answer', async () => {
    const electronics = lines.filter((line) => line.category === 'Electronics');
    const europe = lines.filter((line) => line.region === 'Europe');
    expect(await get(`revenue/by-product?${query(all, 'category=ELECTRONICS&limit=1000')}`)).to.deep.equal(
      oracle.byProduct(electronics, all, { limit: 1000, offset: 0 }),
    );
    expect(await get(`products/top?${query(all, 'region=europe&n=4')}`)).to.deep.equal(oracle.top(europe, all, 4));
    const europeanElectronics = electronics.filter((line) => line.region === 'Europe');
    expect((await get(`revenue/trend?${query(all, 'category=electronics&region=Europe&interval=year')}`)).items).to.deep.equal(
      oracle.trend(europeanElectronics, all, 'year').items,
    );
    expect((await get(`revenue/by-region?${query(all, 'category=Electronics')}`)).items).to.deep.equal(
      oracle.byDimension(electronics, all, 'region').items,
    );
    expect((await get(`revenue/by-category?${query(all, 'region=Europe')}`)).items).to.deep.equal(
      oracle.byDimension(europe, all, 'category').items,
    );
    expect((await get('revenue/by-product?category=Nonexistent')).items).to.deep.equal([]);
    expect((await get('products/top/by-region?category=Nonexistent')).groups).to.deep.equal([]);
  });
});
