// Hand-checked figures on the brief's six rows (lifetime value, segments, summary), tie orders, every kind of
// bad parameter, CSV output, ETag and 304.
import { expect } from 'chai';
import { useTestDatabase } from '../../support/database.js';
import { load, writeFile } from '../../support/sales-files.js';
import { startTestServer, type TestServer } from '../../support/server.js';

const HEADER =
  'Order ID,Product ID,Customer ID,Product Name,Category,Region,Date of Sale,Quantity Sold,Unit Price,Discount,Shipping Cost,Payment Method,Customer Name,Customer Email,Customer Address';

describe('analytics rules', () => {
  const db = useTestDatabase();
  let server: TestServer;
  before(async () => {
    await load(db().pool, 'test/fixtures/brief-sample.csv');
    server = await startTestServer(db());
  });
  after(() => server.close());

  const request = (route: string, headers: Record<string, string> = {}) => fetch(`${server.url}/api/v1/${route}`, { headers });
  const get = async (route: string) => {
    const response = await request(route);
    expect(response.status, route).to.equal(200);
    return response.json();
  };

  describe("the brief's six rows, by hand", () => {
    // Revenue per order: 1001 324, 1002 1299, 1003 143.976, 1004 180, 1005 297.4915, 1006 2468.1.
    it('revenue: 4712.5675 rounds to 4712.57; gross 4966.96; discounts 254.3925', async () => {
      expect(await get('revenue')).to.deep.equal({
        from: '2023-12-15',
        to: '2024-05-18',
        revenue: 4712.57,
        grossRevenue: 4966.96,
        discounts: 254.39,
        shipping: 70,
        orders: 6,
        quantity: 10,
      });
    });

    it('customer summary: 3 customers, 6 orders, average order value 785.427916... -> 785.43', async () => {
      expect(await get('customers/summary')).to.deep.equal({
        from: '2023-12-15',
        to: '2024-05-18',
        customers: 3,
        orders: 6,
        revenue: 4712.57,
        averageOrderValue: 785.43,
      });
      expect(await get('customers/summary?from=2024-01-01&to=2024-03-10')).to.include({ customers: 3, orders: 3 });
      expect(await get('customers/summary?from=2024-03-11&to=2024-04-30')).to.include({ customers: 1, orders: 1 });
    });

    it('lifetime value: per customer within the range, revenue desc', async () => {
      expect((await get('customers/lifetime-value')).items).to.deep.equal([
        {
          customerId: 'C101',
          name: 'Sarah Johnson',
          orders: 2,
          revenue: 2648.1,
          averageOrderValue: 1324.05,
          firstOrder: '2024-03-10',
          lastOrder: '2024-05-18',
        },
        {
          customerId: 'C789',
          name: 'Emily Davis',
          orders: 2,
          revenue: 1596.49,
          averageOrderValue: 798.25,
          firstOrder: '2024-01-03',
          lastOrder: '2024-04-22',
        },
        {
          customerId: 'C456',
          name: 'John Smith',
          orders: 2,
          revenue: 467.98,
          averageOrderValue: 233.99,
          firstOrder: '2023-12-15',
          lastOrder: '2024-02-28',
        },
      ]);
      expect((await get('customers/lifetime-value?from=2024-02-01&to=2024-04-30')).items).to.deep.equal([
        {
          customerId: 'C789',
          name: 'Emily Davis',
          orders: 1,
          revenue: 297.49,
          averageOrderValue: 297.49,
          firstOrder: '2024-04-22',
          lastOrder: '2024-04-22',
        },
        {
          customerId: 'C101',
          name: 'Sarah Johnson',
          orders: 1,
          revenue: 180,
          averageOrderValue: 180,
          firstOrder: '2024-03-10',
          lastOrder: '2024-03-10',
        },
        {
          customerId: 'C456',
          name: 'John Smith',
          orders: 1,
          revenue: 143.98,
          averageOrderValue: 143.98,
          firstOrder: '2024-02-28',
          lastOrder: '2024-02-28',
        },
      ]);
    });

    // To 2024-05-18: recency C101 0, C789 26, C456 80 days; two orders each (ties by code: C101, C456, C789);
    // revenue C101 2648.1 > C789 1596.4915 > C456 467.976. Three customers in five ntiles: scores 5, 4, 3.
    // C101 r5 f5 m5 champions; C456 r3 f4 m3 loyal; C789 r4 f3 m4 promising.
    it('segments: RFM scores by quintile, named by the documented rules', async () => {
      const answer = await get('customers/segments');
      expect(answer.segments.map(({ description: _, ...segment }: { description: string }) => segment)).to.deep.equal([
        { segment: 'champions', customers: 1, revenue: 2648.1, share: 0.3333, revenueShare: 0.5619 },
        { segment: 'loyal', customers: 1, revenue: 467.98, share: 0.3333, revenueShare: 0.0993 },
        { segment: 'cant-lose', customers: 0, revenue: 0, share: 0, revenueShare: 0 },
        { segment: 'at-risk', customers: 0, revenue: 0, share: 0, revenueShare: 0 },
        { segment: 'promising', customers: 1, revenue: 1596.49, share: 0.3333, revenueShare: 0.3388 },
        { segment: 'needs-attention', customers: 0, revenue: 0, share: 0, revenueShare: 0 },
        { segment: 'hibernating', customers: 0, revenue: 0, share: 0, revenueShare: 0 },
      ]);
      expect(await get('customers/segments/loyal')).to.deep.equal({
        from: '2023-12-15',
        to: '2024-05-18',
        segment: 'loyal',
        items: [
          {
            customerId: 'C456',
            name: 'John Smith',
            recency: 80,
            frequency: 2,
            monetary: 467.98,
            recencyScore: 3,
            frequencyScore: 4,
            monetaryScore: 3,
            lastOrder: '2024-02-28',
          },
        ],
        limit: 100,
        offset: 0,
        total: 1,
      });
    });

    it('profit margin without any unit cost: 200, coverage 0, null figures and a note', async () => {
      const answer = await get('products/profit-margin?limit=1');
      expect(answer).to.deep.include({
        costCoverage: 0,
        total: 4,
        note: 'no line in this range has a known unit cost: cost, profit and margin cannot be computed',
      });
      expect(answer.items).to.deep.equal([
        {
          productId: 'P456',
          productName: 'iPhone 15 Pro',
          category: 'Electronics',
          revenue: 3767.1,
          costedRevenue: 0,
          cost: null,
          profit: null,
          margin: null,
        },
      ]);
    });
  });

  describe('ties', () => {
    const tied = useTestDatabase();
    let tiedServer: TestServer;
    before(async () => {
      // P999 and P1000: same units, same revenue (byte order puts P1000 first); P2 sells as many units for less.
      const rows = [
        '1,P999,C1,Nine,Toys,Europe,2024-01-01,2,10.00,0,0,Cash,Ann,ann@example.com,',
        '2,P1000,C2,Thousand,Toys,Europe,2024-01-02,2,10.00,0,0,Cash,Bob,bob@example.com,',
        '3,P2,C3,Two,Toys,Asia,2024-01-03,2,5.00,0,0,Cash,Cy,cy@example.com,',
        '4,P3,C3,Three,Books,Asia,2024-01-03,1,20.00,0,0,Cash,Cy,cy@example.com,',
        '5,P4,C4,=HYPERLINK("http://x"),@Tools,Asia,2024-01-04,1,0.50,0,0,Cash,-Dee,dee@example.com,',
      ];
      await load(tied().pool, await writeFile([HEADER, ...rows].join('\n')));
      tiedServer = await startTestServer(tied());
    });
    after(() => tiedServer.close());

    it('top-N: quantity desc, revenue desc, then product id in byte order; rank is the position', async () => {
      const answer = await (await fetch(`${tiedServer.url}/api/v1/products/top`)).json();
      expect(answer.items.map((item: { rank: number; productId: string }) => [item.rank, item.productId])).to.deep.equal([
        [1, 'P1000'],
        [2, 'P999'],
        [3, 'P2'],
        [4, 'P3'],
        [5, 'P4'],
      ]);
      const grouped = await (await fetch(`${tiedServer.url}/api/v1/products/top/by-region?n=1`)).json();
      expect(
        grouped.groups.map((group: { region: string; items: { productId: string }[] }) => [
          group.region,
          group.items[0].productId,
        ]),
      ).to.deep.equal([
        ['Asia', 'P2'],
        ['Europe', 'P1000'],
      ]);
      const byRevenue = await (await fetch(`${tiedServer.url}/api/v1/revenue/by-product`)).json();
      expect(byRevenue.items.map((item: { productId: string }) => item.productId)).to.deep.equal([
        'P1000',
        'P3',
        'P999',
        'P2',
        'P4',
      ]);
    });

    it('neutralises cells a spreadsheet would run as formulas in CSV answers', async () => {
      const csv = await (await fetch(`${tiedServer.url}/api/v1/products/top?format=csv&category=@tools`)).text();
      expect(csv).to.equal(
        'rank,productId,productName,category,quantity,revenue\n1,P4,"\'=HYPERLINK(""http://x"")",\'@Tools,1,0.5\n',
      );
      const customers = await (
        await fetch(`${tiedServer.url}/api/v1/customers/lifetime-value?format=csv&from=2024-01-04`)
      ).text();
      expect(customers).to.equal(
        "customerId,name,orders,revenue,averageOrderValue,firstOrder,lastOrder\nC4,'-Dee,1,0.5,0.5,2024-01-04,2024-01-04\n",
      );
    });
  });

  it('answers 400 with one invalid-params entry per bad parameter', async () => {
    const cases: [string, { name: string; reason: string }[]][] = [
      [
        'revenue?from=2024-02-30',
        [{ name: 'from', reason: 'must be a real date written YYYY-MM-DD (0001-01-01 to 9999-12-31)' }],
      ],
      ['revenue?to=yesterday', [{ name: 'to', reason: 'must be a real date written YYYY-MM-DD (0001-01-01 to 9999-12-31)' }]],
      ['revenue?from=2024-05-01&to=2024-04-30', [{ name: 'from', reason: 'must not be after to (2024-04-30)' }]],
      ['products/top?n=0', [{ name: 'n', reason: 'must be >= 1' }]],
      ['products/top?n=101', [{ name: 'n', reason: 'must be <= 100' }]],
      ['products/top?n=ten', [{ name: 'n', reason: 'must be a whole number written in digits' }]],
      ['revenue/trend?interval=fortnight', [{ name: 'interval', reason: 'must be one of day, week, month, quarter, year' }]],
      ['revenue?form=2024-01-01', [{ name: 'form', reason: 'unknown parameter' }]],
      ['revenue?from=2024-01-01&from=2024-02-01', [{ name: 'from', reason: 'given more than once' }]],
      [
        'revenue/by-product?limit=1001&offset=-1',
        [
          { name: 'limit', reason: 'must be <= 1000' },
          { name: 'offset', reason: 'must be >= 0' },
        ],
      ],
      [
        'customers/segments/whales',
        [
          {
            name: 'segment',
            reason: 'must be one of champions, loyal, cant-lose, at-risk, promising, needs-attention, hibernating',
          },
        ],
      ],
      ['revenue?format=xml', [{ name: 'format', reason: 'must be one of json, csv' }]],
    ];
    for (const [route, params] of cases) {
      const response = await request(route);
      expect(response.status, route).to.equal(400);
      expect(response.headers.get('content-type')).to.equal('application/problem+json');
      const problem = await response.json();
      expect(problem, route).to.include({ status: 400, title: 'Invalid parameters' });
      expect(problem['invalid-params'], route).to.have.deep.members(params);
    }
  });

  it('answers CSV for ?format=csv or Accept: text/csv, neutralising formula cells; 406 for anything else', async () => {
    const csv = await request('revenue/by-region?format=csv', { Accept: 'application/json' });
    expect(csv.headers.get('content-type')).to.equal('text/csv; charset=utf-8');
    expect(await csv.text()).to.equal(
      'region,revenue,quantity,orders\nAsia,2612.08,5,2\nEurope,1299,1,1\nNorth America,621.49,3,2\nSouth America,180,1,1\n',
    );
    const grouped = await (await request('products/top/by-category?n=1', { Accept: 'text/csv' })).text();
    expect(grouped.split('\n').slice(0, 2)).to.deep.equal([
      'category,rank,productId,productName,quantity,revenue',
      "Clothing,1,P789,Levi's 501 Jeans,3,143.98",
    ]);
    expect((await request('revenue', { Accept: 'image/png' })).status).to.equal(406);
  });

  describe('ETags', () => {
    const own = useTestDatabase();
    let ownServer: TestServer;
    before(async () => {
      await load(own().pool, 'test/fixtures/brief-sample.csv');
      ownServer = await startTestServer(own());
    });
    after(() => ownServer.close());
    const request = (route: string, headers: Record<string, string> = {}) =>
      fetch(`${ownServer.url}/api/v1/${route}`, { headers });

    it('sends an ETag per data version, query and representation, and 304 for a matching If-None-Match', async () => {
      const first = await request('revenue/by-category');
      const etag = first.headers.get('etag')!;
      expect(first.headers.get('vary')).to.contain('Accept');
      expect((await request('revenue/by-category', { 'If-None-Match': etag })).status).to.equal(304);
      const csvTag = (await request('revenue/by-category', { Accept: 'text/csv' })).headers.get('etag');
      expect(csvTag).to.not.equal(etag);
      const otherQuery = (await request('revenue/by-category?from=2024-01-01')).headers.get('etag');
      expect(otherQuery).to.not.equal(etag);

      await load(
        own().pool,
        await writeFile(`${HEADER}\n2001,P1,C1,New,Toys,Europe,2024-01-01,1,1.00,0,0,Cash,Ann,ann@example.com,\n`),
      );
      const after = await request('revenue/by-category', { 'If-None-Match': etag });
      expect(after.status).to.equal(200);
      expect(after.headers.get('etag')).to.not.equal(etag);
      expect((await after.json()).items.map((item: { category: string }) => item.category)).to.include('Toys');
    });

    it('answers 304 with the validators of the 200 it stands for, and never for an answer that would be an error', async () => {
      const answer = await request('revenue/trend?interval=month');
      const validators = ['etag', 'data-version', 'cache-control'].map((name) => answer.headers.get(name));
      const notModified = await request('revenue/trend?interval=month', { 'If-None-Match': validators[0]! });
      expect(notModified.status).to.equal(304);
      expect(['etag', 'data-version', 'cache-control'].map((name) => notModified.headers.get(name))).to.deep.equal(validators);
      expect((await request('revenue/trend?interval=month', { 'If-None-Match': '*' })).status).to.equal(304);

      // Over the trend's period limit: a 400 with no validator, and If-None-Match (even *) does not make it a 304.
      const tooLong = 'revenue/trend?interval=day&from=1990-01-01&to=2024-12-31';
      const refused = await request(tooLong);
      expect(refused.status).to.equal(400);
      expect(['etag', 'data-version', 'cache-control'].map((name) => refused.headers.get(name))).to.deep.equal([
        null,
        null,
        null,
      ]);
      for (const condition of ['*', validators[0]!, `"${answer.headers.get('data-version')}-anything"`]) {
        const repeated = await request(tooLong, { 'If-None-Match': condition });
        expect(repeated.status, condition).to.equal(400);
        expect(repeated.headers.get('etag'), condition).to.equal(null);
      }
    });
  });
});
