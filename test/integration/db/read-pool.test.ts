// A server reading real streaming replicas (Debian's PostgreSQL, pg_basebackup -R), as one on another machine
// than the loads: it builds its analytics snapshots from the replicas in turn, from the primary when no
// replica holds the version a request needs, skips a stopped replica without a 500 and shows it down on
// /ready, and never answers older than a version already seen.

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type pg from 'pg';
import { migrate } from '../../../src/db/migrate.js';
import { createPool } from '../../../src/db/pool.js';
import { runRefresh } from '../../../src/refresh/refresh.js';
import { type Exposition, parseExposition, sampleOf } from '../../support/exposition.js';
import { type PgCluster, replayed, startPrimary, startReplica } from '../../support/pg-cluster.js';
import { quietLogger, writeFile } from '../../support/sales-files.js';
import { startTestServer, type TestServer } from '../../support/server.js';
import { startTcpProxy } from '../../support/tcp-proxy.js';

const HEADER =
  'Order ID,Product ID,Customer ID,Product Name,Category,Region,Date of Sale,Quantity Sold,Unit Price,Discount,Shipping Cost,Payment Method,Customer Name,Customer Email,Customer Address';
/** One order of `quantity` shoes at 10.00: revenue 10 x quantity. */
const sale = (order: number, quantity: number) =>
  `${order},P1,C1,Shoe,Shoes,Europe,2024-01-15,${quantity},10.00,0,0,Cash,Ann,ann@example.com,`;

describe('read replicas', function () {
  // Three clusters of our own: a few seconds each to make.
  this.timeout(180_000);
  let primary: PgCluster;
  let replicas: PgCluster[];
  let pool: pg.Pool;
  let server: TestServer;
  let orders = 0;

  const replicaUrls = () => replicas.map((replica) => replica.url('sales'));
  const allReplayed = () => Promise.all(replicas.map((replica) => replayed(primary.url(), replica.url())));
  /** Appends one order on the primary (as a refresh does): the data version goes up by one. */
  async function appendOrder(): Promise<number> {
    orders += 1;
    const file = await writeFile(`${HEADER}\n${sale(orders, orders)}\n`);
    return (await runRefresh(pool, quietLogger, { file, source: `order-${orders}.csv`, mode: 'append', trigger: 'cli' })).result!
      .dataVersion;
  }
  const onReplica = (i: number, sql: string) => {
    const client = createPool(replicas[i].url('sales'), 1);
    return client.query(sql).finally(() => client.end());
  };
  async function get(path: string, headers: Record<string, string> = {}) {
    const response = await fetch(`${server.url}${path}`, { headers });
    return {
      status: response.status,
      version: response.headers.get('data-version'),
      etag: response.headers.get('etag'),
      body: await response.json(),
    };
  }
  const ready = async () => (await fetch(`${server.url}/ready`)).json();
  const answered = () => ({ primary: server.reads.primary.answered, replicas: server.reads.replicas.map((r) => r.answered) });

  before(async () => {
    primary = await startPrimary();
    const admin = createPool(primary.url(), 1);
    await admin.query('CREATE DATABASE sales');
    await admin.end();
    await migrate(primary.url('sales'), quietLogger);
    replicas = await Promise.all([startReplica(primary), startReplica(primary)]);
    pool = createPool(primary.url('sales'));
  });
  after(async () => {
    await pool?.end();
    for (const cluster of [...(replicas ?? []), primary]) await cluster?.remove();
  });
  /**
   * A server on the primary of the sales database with every replica for reads and a snapshot directory of
   * its own (it builds its snapshots itself); `cache: false` turns the answer cache off.
   */
  const startReplicaServer = async ({ cache = true, readUrls = replicaUrls() } = {}) =>
    startTestServer(
      {
        url: primary.url('sales'),
        pool,
        analyticsDir: await fs.mkdtemp(path.join(os.tmpdir(), 'sales-analytics-replicas-')),
        drop: async () => {},
      },
      {
        DATABASE_URL: primary.url('sales'),
        DATABASE_READ_URLS: readUrls.join(','),
        ...(cache ? {} : { ANALYTICS_CACHE: 'false' }),
      },
    );

  afterEach(() => server?.close());

  it('builds its snapshot from a replica once they have replayed a refresh made on the primary, then answers from it', async () => {
    const version = await appendOrder();
    await allReplayed();
    server = await startReplicaServer({ cache: false });
    for (let i = 0; i < 4; i += 1) {
      const answer = await get('/api/v1/revenue');
      expect(answer).to.deep.include({ status: 200, version: String(version) });
      expect(answer.body).to.include({ revenue: 10, orders: 1 });
    }
    // One build, from the first replica in turn, at start-up; the answers come from it.
    expect(answered()).to.deep.equal({ primary: 0, replicas: [1, 0] });
  });

  it('skips a replica behind minVersion (or an ETag seen) for the primary, and never answers older than a version seen', async () => {
    server = await startReplicaServer();
    const before = await get('/api/v1/revenue');
    // The replicas stop replaying: the next refresh reaches only the primary.
    for (const i of [0, 1]) await onReplica(i, 'SELECT pg_wal_replay_pause()');
    try {
      const version = await appendOrder();
      expect(Number(before.version)).to.equal(version - 1);

      // Without minVersion, a replica's older (cached) answer is still fine: nothing newer has been seen here.
      expect(await get('/api/v1/revenue')).to.deep.include({ status: 200, version: String(version - 1) });
      const asked = await get(`/api/v1/revenue?minVersion=${version}`);
      expect(asked).to.deep.include({ status: 200, version: String(version) });
      expect(asked.body).to.include({ orders: 2, revenue: 30 });
      expect(answered().primary).to.equal(1);
      // A client holding the newer answer's ETag gets a 304 for it, not the replicas' older answer, from
      // another process too (which has seen nothing newer itself).
      const other = await startReplicaServer();
      try {
        const conditional = await fetch(`${other.url}/api/v1/revenue`, { headers: { 'If-None-Match': asked.etag! } });
        expect(conditional.status).to.equal(304);
        expect(other.reads.newest).to.equal(version);
      } finally {
        await other.close();
      }
      // Once this process has seen the newer version, no answer of the older one: the cache's included.
      expect(await get('/api/v1/revenue')).to.deep.include({ status: 200, version: String(version) });
      expect(await get('/api/v1/revenue?from=2024-01-01')).to.deep.include({ status: 200, version: String(version) });

      // /ready: the snapshot answering and the primary's record of the same version (this server built it from
      // the primary), the replicas one behind with WAL not replayed.
      const paused = await ready();
      expect(paused).to.include({ status: 'ready', dataVersion: version, recordVersion: version });
      for (const replica of paused.replicas) {
        expect(replica).to.include({ state: 'up', dataVersion: version - 1 });
        expect(replica.lagBytes).to.be.above(0);
        expect(replica.lagSeconds).to.be.a('number');
      }
      // A version that the primary does not hold either is the client's mistake, said so.
      const future = await get(`/api/v1/revenue?minVersion=${version + 5}`);
      expect(future.status).to.equal(400);
      expect(future.body['invalid-params']).to.deep.equal([
        { name: 'minVersion', reason: `no data version ${version + 5} yet: the newest is ${version}` },
      ]);
    } finally {
      for (const i of [0, 1]) await onReplica(i, 'SELECT pg_wal_replay_resume()');
    }
    await allReplayed();
    const caughtUp = answered();
    const fresh = await get('/api/v1/revenue?from=2024-01-02');
    expect(fresh.status).to.equal(200);
    // The replicas caught up with a version this server has a snapshot of already: nothing to build.
    expect(answered()).to.deep.equal(caughtUp);
    for (const replica of (await ready()).replicas)
      expect(replica).to.include({ state: 'up', dataVersion: Number(fresh.version) });
  });

  it('refuses a minVersion that is not a whole number from 0 with a 400 problem, and leaves replicas up after a bad request', async () => {
    server = await startReplicaServer();
    for (const bad of ['-1', 'x', '1.5', '1e3']) {
      const answer = await get(`/api/v1/products/top?minVersion=${bad}`);
      expect(answer.status, bad).to.equal(400);
      expect(answer.body['invalid-params'].map((param: { name: string }) => param.name)).to.deep.equal(['minVersion']);
    }
    // A request the analysis refuses fails alike everywhere: no reason to mark the replica down and ask the primary.
    expect((await get('/api/v1/revenue/trend?interval=day&from=0001-01-01&to=1000-12-31')).status).to.equal(400);
    for (const from of ['2024-01-01', '2024-01-02']) expect((await get(`/api/v1/revenue?from=${from}`)).status).to.equal(200);
    // The snapshot built at start-up from the first replica answers them all.
    expect(answered()).to.deep.equal({ primary: 0, replicas: [1, 0] });
  });

  it('skips a stopped replica without a 500, shows it down on /ready, builds from the primary when both are away, and from a replica once it is back', async () => {
    let version = await appendOrder();
    await allReplayed();
    await replicas[0].stop();
    try {
      server = await startReplicaServer({ cache: false });
      for (let i = 0; i < 4; i += 1)
        expect(await get('/api/v1/revenue')).to.deep.include({ status: 200, version: String(version) });
      expect(answered()).to.deep.equal({ primary: 0, replicas: [0, 1] });
      const [down, up] = (await ready()).replicas;
      expect(down).to.include({ name: 'replica-1', state: 'down', dataVersion: null, lagBytes: null });
      expect(down.error).to.be.a('string').and.not.be.empty;
      expect(up).to.include({ name: 'replica-2', state: 'up', dataVersion: version });

      // Both away: the snapshot still answers, and a new version is built from the primary.
      await replicas[1].stop();
      expect(await get('/api/v1/revenue')).to.deep.include({ status: 200, version: String(version) });
      version = await appendOrder();
      expect(await get('/api/v1/revenue')).to.deep.include({ status: 200, version: String(version) });
      expect(answered()).to.deep.equal({ primary: 1, replicas: [0, 1] });
    } finally {
      await replicas[0].start();
      await replicas[1].start();
    }
    await allReplayed();
    // /ready probes every replica: one that answers is up again, and takes its turn for the next version.
    expect((await ready()).replicas.map((replica: { state: string }) => replica.state)).to.deep.equal(['up', 'up']);
    const before = answered();
    version = await appendOrder();
    await allReplayed();
    expect(await get('/api/v1/revenue')).to.deep.include({ status: 200, version: String(version) });
    expect(answered().replicas.reduce((a, b) => a + b)).to.equal(before.replicas.reduce((a, b) => a + b) + 1);
    expect(answered().primary).to.equal(before.primary);
  });

  it('a replica whose network falls silent: shown down at once on /ready and in the metrics, skipped by answers, up again once it is back', async () => {
    // A silent network keeps the connections open and answers nothing for as long as TCP retries (minutes):
    // an answer at all within this bound is one the probes' own timeouts gave.
    const get = (url: string) => fetch(url, { signal: AbortSignal.timeout(30_000) });
    const direct = new URL(replicaUrls()[0]);
    const proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port) });
    try {
      const throughProxy = Object.assign(new URL(direct), { port: String(proxy.port) }).toString();
      server = await startReplicaServer({ cache: false, readUrls: [throughProxy, replicaUrls()[1]] });
      const states = async () => {
        const response = await get(`${server.url}/ready`);
        expect(response.status).to.equal(200);
        return (await response.json()).replicas.map((replica: { state: string }) => replica.state);
      };
      expect(await states()).to.deep.equal(['up', 'up']);

      proxy.silence();
      expect(await states()).to.deep.equal(['down', 'up']);
      const metrics = parseExposition(await (await get(`${server.url}/metrics`)).text());
      expect(sampleOf(metrics, 'sales_analytics_ready')).to.equal(1);
      expect(
        ['replica-1', 'replica-2'].map((replica) => sampleOf(metrics, 'sales_analytics_replica_up', { replica })),
      ).to.deep.equal([0, 1]);
      // A new version is built from the replica that answers.
      const before = answered();
      const version = await appendOrder();
      await allReplayed();
      const answer = await get(`${server.url}/api/v1/revenue`);
      expect(answer.status).to.equal(200);
      expect(answer.headers.get('data-version')).to.equal(String(version));
      expect(answered()).to.deep.equal({ primary: before.primary, replicas: [before.replicas[0], before.replicas[1] + 1] });

      proxy.restore();
      expect(await states()).to.deep.equal(['up', 'up']);
    } finally {
      // The server's connections through the proxy end with it (the server's pools take that in their stride).
      await proxy.close();
    }
  });

  it("its metrics show each replica's state and lag, a stopped one down, and a pool per replica", async () => {
    await appendOrder();
    await allReplayed();
    server = await startReplicaServer();
    const metrics = async () => parseExposition(await (await fetch(`${server.url}/metrics`)).text());
    const replicaSeries = (scraped: Exposition, name: string) =>
      ['replica-1', 'replica-2'].map((replica) => sampleOf(scraped, `sales_analytics_replica_${name}`, { replica }));

    const both = await metrics();
    expect(replicaSeries(both, 'up')).to.deep.equal([1, 1]);
    // Caught up (the primary's own background records may be on their way: a moment, a few bytes).
    for (const lag of replicaSeries(both, 'lag_seconds')) expect(lag).to.be.within(0, 5);
    for (const lag of replicaSeries(both, 'lag_bytes')) expect(lag).to.be.within(0, 1024 ** 2);
    for (const pool of ['primary', 'replica-1', 'replica-2']) {
      expect(sampleOf(both, 'sales_analytics_db_pool_waiting', { pool }), pool).to.equal(0);
    }
    await replicas[0].stop();
    try {
      const one = await metrics();
      expect(replicaSeries(one, 'up')).to.deep.equal([0, 1]);
      // A replica that does not answer has no lag to show.
      const [stopped, running] = replicaSeries(one, 'lag_seconds');
      expect(stopped).to.equal(undefined);
      expect(running).to.be.within(0, 5);
      expect(sampleOf(one, 'sales_analytics_ready')).to.equal(1);
    } finally {
      await replicas[0].start();
    }
  });
});
