// A database whose network falls silent (a black-holed route, a firewall that drops): its connections stay
// open and no answer comes, for as long as TCP keeps retrying (minutes). /ready and /metrics must still answer
// at once, saying the database does not answer, or the load balancer and Prometheus learn nothing but their
// own timeouts; the analytics answer from their snapshot; once the network is back, the service is ready again.
import { expect } from 'chai';
import { createPool } from '../../../src/db/pool.js';
import { DATABASE_AWAY } from '../../../src/http/readiness.js';
import { useTestDatabase } from '../../support/database.js';
import { parseExposition, sampleOf } from '../../support/exposition.js';
import { load } from '../../support/sales-files.js';
import { startTestServer, type TestServer } from '../../support/server.js';
import { until } from '../../support/service-process.js';
import { startTcpProxy, type TcpProxy } from '../../support/tcp-proxy.js';

const SAMPLE = 'test/fixtures/brief-sample.csv';
/** Far beyond the check's own deadline and far short of TCP giving up: an answer by then is an answer at all. */
const ANSWERED_WITHIN_MS = 30_000;

const get = (url: string) => fetch(url, { signal: AbortSignal.timeout(ANSWERED_WITHIN_MS) });

describe('a database whose network falls silent', function () {
  this.timeout(180_000);
  const db = useTestDatabase();
  let proxy: TcpProxy;
  let server: TestServer;

  before(async () => {
    await load(db().pool, SAMPLE);
    const direct = new URL(db().url);
    proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port) });
    const url = Object.assign(new URL(direct), { port: String(proxy.port) }).toString();
    server = await startTestServer({ ...db(), url, pool: createPool(url) });
  });
  after(async () => {
    proxy.restore();
    await server.close();
    await proxy.close();
  });

  it('/ready and /metrics answer that it does not answer, the analytics answer from their snapshot, and ready again once it is back', async () => {
    expect((await get(`${server.url}/ready`)).status).to.equal(200);
    const answered = await (await get(`${server.url}/api/v1/revenue`)).json();

    proxy.silence();
    for (let i = 0; i < 3; i++) {
      const ready = await get(`${server.url}/ready`);
      expect(ready.status).to.equal(503);
      expect(await ready.json()).to.deep.equal({ status: 'unavailable', reason: DATABASE_AWAY });
      const metrics = parseExposition(await (await get(`${server.url}/metrics`)).text());
      expect(sampleOf(metrics, 'sales_analytics_ready')).to.equal(0);
      expect(sampleOf(metrics, 'sales_analytics_postgres_up')).to.equal(0);
    }
    const whileSilent = await get(`${server.url}/api/v1/revenue`);
    expect(whileSilent.status).to.equal(200);
    expect(await whileSilent.json()).to.deep.equal(answered);

    proxy.restore();
    await until('/ready to answer 200', async () => ((await get(`${server.url}/ready`)).status === 200 ? true : undefined));
    const metrics = parseExposition(await (await get(`${server.url}/metrics`)).text());
    expect(sampleOf(metrics, 'sales_analytics_postgres_up')).to.equal(1);
  });
});
