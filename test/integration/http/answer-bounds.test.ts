// What one request can make the server hold: a trend lists at most 10,000 periods of its effective range,
// and the answer cache is bounded by the bytes of its answers, not by their number (test/unit/http).
import { expect } from 'chai';
import { ConfigError, readConfig } from '../../../src/config.js';
import { useTestDatabase } from '../../support/database.js';
import { load, writeFile } from '../../support/sales-files.js';
import { startTestServer, type TestServer } from '../../support/server.js';

const HEADER =
  'Order ID,Product ID,Customer ID,Product Name,Category,Region,Date of Sale,Quantity Sold,Unit Price,Discount,Shipping Cost,Payment Method,Customer Name,Customer Email,Customer Address';
const DAY_MS = 86_400_000;
const plusDays = (day: string, days: number) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
const isLeap = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

describe('trend size', () => {
  const db = useTestDatabase();
  let server: TestServer;
  before(async () => {
    // Two sales 34 years apart: the default range alone holds more than 10,000 days.
    const csv = [
      HEADER,
      '1,P1,C1,Shoe,Shoes,Europe,1990-03-01,1,10.00,0,0,Cash,Ann,ann@example.com,',
      '2,P1,C1,Shoe,Shoes,Europe,2024-01-15,1,10.00,0,0,Cash,Ann,ann@example.com,',
    ].join('\n');
    await load(db().pool, await writeFile(`${csv}\n`));
    server = await startTestServer(db());
  });
  after(() => server.close());

  const trend = (query: string) => fetch(`${server.url}/api/v1/revenue/trend?${query}`);
  async function refused(query: string): Promise<{ name: string; reason: string }[]> {
    const response = await trend(query);
    expect(response.status, query).to.equal(400);
    return (await response.json())['invalid-params'];
  }

  it('refuses more than 10,000 periods with a 400 saying how many were asked', async () => {
    let days = 0;
    for (let year = 1; year <= 1000; year += 1) days += isLeap(year) ? 366 : 365;
    expect(await refused('interval=day&from=0001-01-01&to=1000-12-31')).to.deep.equal([
      {
        name: 'from',
        reason: `0001-01-01 to 1000-12-31 holds ${days} day periods; a trend lists at most 10000: narrow the range or use a longer interval`,
      },
    ]);
    expect((await refused('interval=month&from=0001-01-01&to=9999-12-31'))[0].reason).to.match(/ holds 119988 month periods;/);
    expect((await refused('interval=week&from=1800-01-01&to=2024-01-01'))[0].reason).to.match(/ holds 11689 week periods;/);
  });

  it('answers exactly 10,000 periods, and refuses 10,001', async () => {
    const last = plusDays('2000-01-01', 9_999);
    const answer = await (await trend(`interval=day&from=2000-01-01&to=${last}`)).json();
    expect(answer.items).to.have.length(10_000);
    expect(answer.items[9_999].period).to.equal(last);
    expect(await refused(`interval=day&from=2000-01-01&to=${plusDays(last, 1)}`)).to.have.length(1);
  });

  it('counts the periods of the effective range, where a missing bound is the first or last sale day', async () => {
    expect(await refused('interval=day')).to.deep.equal([
      {
        name: 'interval',
        reason:
          '1990-03-01 to 2024-01-15 holds 12374 day periods; a trend lists at most 10000: narrow the range or use a longer interval',
      },
    ]);
    expect((await refused('interval=day&to=2024-01-01'))[0].name).to.equal('to');
    expect((await refused('interval=day&from=1990-01-01'))[0].name).to.equal('from');
    const weeks = await (await trend('interval=week')).json();
    expect(weeks.items).to.have.length(1769);
    expect((await (await trend('interval=day&from=2000-01-01')).json()).items).to.have.length(8781);
  });
});

describe('ANALYTICS_CACHE_MB', () => {
  it('refuses an ANALYTICS_CACHE_MB that is not a whole number of megabytes', () => {
    expect(() => readConfig({ ANALYTICS_CACHE_MB: '0.5' })).to.throw(
      ConfigError,
      "ANALYTICS_CACHE_MB must be an integer from 1 to 65536 (got '0.5')",
    );
    expect(readConfig({ ANALYTICS_CACHE_MB: '2' }).analyticsCache).to.deep.equal({ enabled: true, maxBytes: 2 * 1024 * 1024 });
  });
});
