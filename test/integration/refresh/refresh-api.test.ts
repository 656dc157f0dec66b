// The refresh endpoints over HTTP: a real server, real Bree workers, a real database.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { claimRefresh } from '../../../src/refresh/claim.js';
import { finishRun } from '../../../src/refresh/runs.js';
import { useTestDatabase } from '../../support/database.js';
import { quietLogger } from '../../support/sales-files.js';
import { finishedRun, startTestServer, TEST_TOKEN, type TestServer } from '../../support/server.js';

const SAMPLE = 'test/fixtures/brief-sample.csv';
const HEADER =
  'Order ID,Product ID,Customer ID,Product Name,Category,Region,Date of Sale,Quantity Sold,Unit Price,Discount,Shipping Cost,Payment Method,Customer Name,Customer Email,Customer Address';
const AUTH = { Authorization: `Bearer ${TEST_TOKEN}` };

describe('refresh API', () => {
  const db = useTestDatabase();
  let server: TestServer;

  before(async () => {
    server = await startTestServer(db());
    await fs.copyFile(SAMPLE, path.join(server.dataDir, 'sales.csv'));
  });
  after(() => server.close());

  const post = (body: unknown, headers: Record<string, string> = AUTH, query = '') =>
    fetch(`${server.url}/api/v1/refreshes${query}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const upload = (csv: string, query = '') =>
    fetch(`${server.url}/api/v1/refreshes${query}`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/csv', ...AUTH },
      body: csv,
    });
  const get = (route: string, headers: Record<string, string> = {}) => fetch(`${server.url}${route}`, { headers });
  const totals = async () =>
    (await db().pool.query('SELECT (SELECT count(*) FROM order_items) AS lines, (SELECT version FROM data_version) AS version'))
      .rows[0];

  async function started(response: Response): Promise<Record<string, unknown>> {
    expect(response.status).to.equal(202);
    const queued = await response.json();
    expect(response.headers.get('location')).to.equal(`/api/v1/refreshes/${queued.id}`);
    return finishedRun(server.url, queued.id);
  }

  it('answers 202 with the queued run, then loads the file in a worker: exact counts, checksum, progress', async () => {
    const response = await post({ source: 'sales.csv' });
    expect(response.status).to.equal(202);
    const queued = await response.json();
    expect(queued).to.include({ status: 'queued', trigger: 'api', mode: 'append', source: 'sales.csv', error: null });

    const run = await finishedRun(server.url, queued.id);
    const bytes = await fs.readFile(SAMPLE);
    expect(run).to.include({ status: 'succeeded', sourceSha256: createHash('sha256').update(bytes).digest('hex') });
    expect(run.counts).to.deep.equal({ read: 6, inserted: 6, updated: 0, unchanged: 0, duplicates: 0, rejected: 0, deleted: 0 });
    expect(run.progress).to.deep.equal({ bytesRead: bytes.length, bytesTotal: bytes.length, rowsRead: 6 });
    expect((await totals()).lines).to.equal(6);

    const logged = server.workerLog.map((line) => JSON.parse(line)).filter((entry) => entry.runId === queued.id);
    expect(logged.map((entry) => entry.msg)).to.include.members(['refresh started', 'refresh succeeded']);
  });

  it('records an unchanged source as skipped, and loads it when forced', async () => {
    const skipped = await started(await post({}));
    expect(skipped).to.include({ status: 'skipped', source: 'sales.csv' });
    expect(skipped.error).to.match(/identical to the one run \d+ loaded \(same SHA-256\)/);

    const forced = await started(await post({ force: true }));
    expect(forced).to.include({ status: 'succeeded' });
    expect(forced.counts).to.include({ read: 6, unchanged: 6, inserted: 0 });
  });

  it('loads a CSV sent as the body, lists its rejects as JSON and CSV, and deletes the upload', async () => {
    const csv = [
      HEADER,
      '2001,P900,C900,Desk Lamp,Home,Europe,2024-02-01,3,25.00,10%,2.00,Cash,Ann Lee,ann@example.com,1 High St',
      '=HYPERLINK("x"),P900,C900,Desk Lamp,Home,Europe,2024-02-30,0,25.00,0,2.00,Cash,Ann Lee,ann@example.com,1 High St',
      '2002,P901,C900,Chair,Home,Europe,2024-02-02,1,80.00,0,0,Cash,Ann Lee,ann@example.com,1 High St',
    ].join('\n');
    const run = await started(await upload(csv, '?mode=append'));
    expect(run).to.include({ status: 'succeeded', trigger: 'api' });
    expect(run.source).to.match(/^uploads\/.+\.csv$/);
    expect(run.counts).to.include({ read: 3, inserted: 2, rejected: 1 });
    // The upload is deleted once the worker has ended, just after the run is recorded as finished.
    for (let tries = 0; (await fs.readdir(path.join(server.dataDir, 'uploads'))).length > 0 && tries < 100; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await fs.readdir(path.join(server.dataDir, 'uploads'))).to.deep.equal([]);

    const rejects = await (await get(`/api/v1/refreshes/${run.id}/rejects`, AUTH)).json();
    expect(rejects).to.deep.equal({
      runId: run.id,
      items: [
        {
          line: 3,
          reasons: [
            "Date of Sale is not a calendar date (got '2024-02-30')",
            "Quantity Sold must be a whole number from 1 to 2147483647 (got '0')",
          ],
          raw: csv.split('\n')[2],
        },
      ],
      limit: 100,
      offset: 0,
      total: 1,
    });

    const asCsv = await get(`/api/v1/refreshes/${run.id}/rejects`, { Accept: 'text/csv', ...AUTH });
    expect(asCsv.headers.get('content-type')).to.equal('text/csv; charset=utf-8');
    expect(await asCsv.text()).to.equal(
      `line,reasons,raw\n3,Date of Sale is not a calendar date (got '2024-02-30'); Quantity Sold must be a whole number from 1 to 2147483647 (got '0'),"'${csv
        .split('\n')[2]
        .replaceAll('"', '""')}"\n`,
    );
    const viaFormat = await get(`/api/v1/refreshes/${run.id}/rejects?format=csv`, { Accept: 'application/json', ...AUTH });
    expect(viaFormat.headers.get('content-type')).to.equal('text/csv; charset=utf-8');
  });

  it('records a run that fails (a missing column) with its error, and changes nothing', async () => {
    const before = await totals();
    const run = await started(await upload('Order ID,Product ID\n1,P1\n', '?force=true'));
    expect(run).to.include({ status: 'failed' });
    expect(run.error).to.match(/^missing required columns: Customer ID, /);
    expect(await totals()).to.deep.equal(before);
  });

  it('loads a CSV whose damaged row holds a NUL byte, rejecting that row; a COPY the server refuses fails the run and frees the lock', async () => {
    const good = '3001,P930,C930,Vase,Home,Europe,2024-03-01,1,12.00,0,0,Cash,Bo Li,bo@example.com,';
    const damaged = '3002,P931,C930,Va\0se,Home,Europe,2024-03-\x0001,1,12.00,0,0,Cash,Bo Li,bo@example.com,';
    const run = await started(await upload([HEADER, good, damaged].join('\n')));
    expect(run).to.include({ status: 'succeeded', error: null });
    expect(run.counts).to.include({ read: 2, inserted: 1, rejected: 1 });
    expect((await (await get(`/api/v1/refreshes/${run.id}/rejects`, AUTH)).json()).items).to.deep.equal([
      {
        line: 3,
        reasons: [
          "Date of Sale must be YYYY-MM-DD, optionally followed by a time (got '2024-03-\\x0001')",
          'contains a NUL byte (0x00), which PostgreSQL text cannot hold',
        ],
        raw: damaged.replaceAll('\0', '\\x00'),
      },
    ]);

    await db().pool.query(`
      CREATE FUNCTION refuse_rejects() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'refused by a test trigger'; END $$;
      CREATE TRIGGER refuse_rejects BEFORE INSERT ON refresh_rejects FOR EACH ROW EXECUTE FUNCTION refuse_rejects()`);
    try {
      const refused = await started(await upload([HEADER, damaged].join('\n')));
      expect(refused).to.include({ status: 'failed', error: 'refused by a test trigger' });
    } finally {
      await db().pool.query('DROP TRIGGER refuse_rejects ON refresh_rejects');
    }
    const next = await started(await upload([HEADER, good].join('\n')));
    expect(next).to.include({ status: 'succeeded' });
  });

  /** Takes the refresh lock as another process's running refresh would. */
  async function holdLock() {
    const outcome = await claimRefresh(db().pool, quietLogger, {
      trigger: 'cli',
      mode: 'append',
      source: 'other.csv',
      status: 'running',
    });
    if (!('claim' in outcome)) throw new Error('the lock should be free');
    return outcome.claim;
  }

  it('answers 409 pointing at the run that holds the refresh lock', async () => {
    const claim = await holdLock();
    try {
      const response = await post({ force: true });
      expect(response.status).to.equal(409);
      expect(response.headers.get('content-type')).to.equal('application/problem+json');
      expect(response.headers.get('location')).to.equal(`/api/v1/refreshes/${claim.run.id}`);
      const problem = await response.json();
      expect(problem).to.include({ status: 409, title: 'Conflict' });
      expect(problem.activeRun).to.include({ id: claim.run.id, status: 'running' });
      expect((await upload(`${HEADER}\n`)).status).to.equal(409);
    } finally {
      await finishRun(db().pool, claim.run.id, { status: 'failed', error: 'test' });
      await claim.release();
    }
  });

  it('starts a refresh asked for just after the previous run finished, while that run still frees the lock', async () => {
    const claim = await holdLock();
    await finishRun(db().pool, claim.run.id, { status: 'failed', error: 'test' });
    const freed = new Promise((resolve) => setTimeout(resolve, 200)).then(() => claim.release());
    const run = await started(await post({ force: true }));
    await freed;
    expect(run).to.include({ status: 'succeeded', trigger: 'api' });
  });

  it('answers 401 without the bearer token or with a wrong one', async () => {
    for (const headers of [{}, { Authorization: 'Bearer wrong' }, { Authorization: TEST_TOKEN }] as Record<string, string>[]) {
      const response = await post({}, headers);
      expect(response.status).to.equal(401);
      expect(response.headers.get('www-authenticate')).to.equal('Bearer realm="sales-analytics"');
    }
  });

  it('answers 400 for a source outside DATA_DIR, a missing file, a bad mode or a bad body', async () => {
    await fs.symlink('/etc/hostname', path.join(server.dataDir, 'escape.csv'));
    const cases: [unknown, string, RegExp][] = [
      [{ source: '../sales.csv' }, 'source', /must not contain '\.\.'/],
      [{ source: 'a/../../etc/passwd' }, 'source', /must not contain '\.\.'/],
      [{ source: '/etc/passwd' }, 'source', /not an absolute path/],
      [{ source: 'missing.csv' }, 'source', /no such file in DATA_DIR: missing\.csv/],
      [{ source: 'escape.csv' }, 'source', /leads outside DATA_DIR/],
      [{ mode: 'merge' }, 'mode', /must be one of append, replace/],
      [{ force: 'yes please' }, 'force', /must be a boolean/],
      [{ sauce: 'sales.csv' }, 'sauce', /unknown parameter/],
    ];
    for (const [body, name, reason] of cases) {
      const response = await post(body);
      expect(response.status, JSON.stringify(body)).to.equal(400);
      const problem = await response.json();
      expect(problem['invalid-params']).to.have.length(1);
      expect(problem['invalid-params'][0].name).to.equal(name);
      expect(problem['invalid-params'][0].reason).to.match(reason);
    }
    const notJson = await post('{"source":');
    expect(notJson.status).to.equal(400);
    expect((await notJson.json()).detail).to.match(/^the body is not valid JSON/);
    expect((await post('[1]')).status).to.equal(400);
    expect((await post({}, AUTH, '?mode=sideways')).status).to.equal(400);
  });

  it('lists the run history newest first, paginated, and finds one run', async () => {
    const all = await (await get('/api/v1/refreshes')).json();
    const ids = all.items.map((run: { id: number }) => run.id);
    expect(ids).to.deep.equal([...ids].sort((a, b) => b - a));
    expect(all).to.include({ limit: 100, offset: 0, total: ids.length });

    const page = await (await get('/api/v1/refreshes?limit=2&offset=1')).json();
    expect(page.items.map((run: { id: number }) => run.id)).to.deep.equal(ids.slice(1, 3));
    expect(page).to.include({ limit: 2, offset: 1, total: ids.length });

    expect((await (await get(`/api/v1/refreshes/${ids[0]}`)).json()).id).to.equal(ids[0]);
    const missing = await get('/api/v1/refreshes/999999');
    expect(missing.status).to.equal(404);
    expect(missing.headers.get('content-type')).to.equal('application/problem+json');
    expect((await get('/api/v1/refreshes/999999/rejects', AUTH)).status).to.equal(404);
    const bad = await (await get('/api/v1/refreshes/abc?limit=0&limit=5')).json();
    expect(bad['invalid-params']).to.deep.equal([
      { name: 'limit', reason: 'given more than once' },
      { name: 'id', reason: 'must be a whole number written in digits' },
    ]);
  });
});

describe('refresh API upload limit', () => {
  const db = useTestDatabase();
  let server: TestServer;
  before(async () => {
    server = await startTestServer(db(), { MAX_UPLOAD_BYTES: '200' });
  });
  after(() => server.close());

  it('answers 413 for a body over MAX_UPLOAD_BYTES and keeps nothing of it', async () => {
    const response = await fetch(`${server.url}/api/v1/refreshes`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/csv', ...AUTH },
      body: `${HEADER}\n${'x'.repeat(500)}\n`,
    });
    expect(response.status).to.equal(413);
    expect((await response.json()).detail).to.equal('the upload is larger than MAX_UPLOAD_BYTES (200 bytes)');
    expect(await fs.readdir(path.join(server.dataDir, 'uploads')).catch(() => [])).to.deep.equal([]);
    const { rows } = await db().pool.query('SELECT count(*) AS runs FROM refresh_runs');
    expect(rows[0].runs).to.equal(0);
  });
});
