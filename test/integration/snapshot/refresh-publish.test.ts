// A refresh succeeds once its analytics snapshot is published. A build that fails after the load committed
// fails the run with both facts; a process killed between the two is recovered as such; a damaged snapshot is
// set aside and built again: before a server that finds it as it starts is ready, with a 503 meanwhile when
// one appears while the server runs.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { claimRefresh, recoverInterruptedRuns } from '../../../src/refresh/claim.js';
import { runRefresh } from '../../../src/refresh/refresh.js';
import { getRun } from '../../../src/refresh/runs.js';
import { snapshotFile } from '../../../src/snapshot/published.js';
import { snapshotDirOf, useTestDatabase } from '../../support/database.js';
import { load, quietLogger, TEST_ANALYTICS_LIMITS } from '../../support/sales-files.js';
import { startTestServer } from '../../support/server.js';
import { until } from '../../support/service-process.js';

const SAMPLE = 'test/fixtures/brief-sample.csv';

describe('publishing the analytics snapshot of a refresh', () => {
  const db = useTestDatabase({ each: true });

  it('fails the run when the snapshot cannot be built, saying the load committed; the next refresh publishes', async () => {
    const notADirectory = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'snapshots-')), 'a-file');
    await fs.writeFile(notADirectory, '');
    const { run } = await runRefresh(db().pool, quietLogger, {
      file: SAMPLE,
      source: 'brief-sample.csv',
      mode: 'append',
      trigger: 'cli',
      analytics: { directory: notADirectory, limits: TEST_ANALYTICS_LIMITS },
    });
    expect(run.status).to.equal('failed');
    expect(run.error).to.match(/^loaded as data version 1, but the analytics snapshot could not be built: /);
    const { rows } = await db().pool.query('SELECT count(*)::int AS lines FROM order_items');
    expect(rows[0].lines).to.equal(6);
    expect((await load(db().pool, SAMPLE)).run.status).to.equal('succeeded');
  });

  it('recovers a run killed after its load committed as failed, saying its data is in and the next start builds the snapshot', async () => {
    expect((await load(db().pool, SAMPLE)).run.status).to.equal('succeeded');
    const outcome = await claimRefresh(db().pool, quietLogger, {
      trigger: 'api',
      mode: 'append',
      source: 's.csv',
      status: 'running',
    });
    if (!('claim' in outcome)) throw new Error('the lock should be free');
    // As its load does in its transaction: the next version is this run's.
    await db().pool.query('UPDATE data_version SET version = version + 1, run_id = $1', [outcome.claim.run.id]);
    await outcome.claim.release();
    await recoverInterruptedRuns(db().pool, quietLogger);
    expect(await getRun(db().pool, outcome.claim.run.id)).to.include({
      status: 'failed',
      error:
        'interrupted after its data was committed (data version 2): its analytics snapshot was not published; the next start builds it',
    });
  });
});

describe('a damaged snapshot', () => {
  const db = useTestDatabase({ each: true });

  /** Writes what is not a DuckDB file where version `version` is published. */
  async function damage(version: number): Promise<string> {
    const file = snapshotFile(await snapshotDirOf(db().pool), version);
    await fs.writeFile(`${file}.tmp`, 'not a DuckDB file '.repeat(1000));
    await fs.rename(`${file}.tmp`, file);
    return file;
  }

  it('found by a server as it starts: set aside and built again before the server is ready', async () => {
    expect((await load(db().pool, SAMPLE)).run.status).to.equal('succeeded');
    const file = await damage(1);
    const server = await startTestServer(db());
    try {
      expect(await (await fetch(`${server.url}/ready`)).json()).to.include({ status: 'ready', dataVersion: 1 });
      const first = await fetch(`${server.url}/api/v1/revenue`);
      expect(first.status).to.equal(200);
      expect(await first.json()).to.include({ revenue: 4712.57, orders: 6 });
      expect(await fs.readFile(`${file}.damaged`, 'utf8')).to.match(/^not a DuckDB file/);
    } finally {
      await server.close();
    }
  });

  it('published while a server runs: 503 with Retry-After, set aside and built again; then answers as before', async () => {
    expect((await load(db().pool, SAMPLE)).run.status).to.equal('succeeded');
    const server = await startTestServer(db());
    try {
      const file = await damage(2);
      const damaged = await fetch(`${server.url}/api/v1/revenue`);
      expect(damaged.status).to.equal(503);
      expect(damaged.headers.get('retry-after')).to.equal('5');
      const answer = await until('the snapshot to be built again', async () => {
        const response = await fetch(`${server.url}/api/v1/revenue`);
        return response.status === 200 ? response.json() : undefined;
      });
      expect(answer).to.include({ revenue: 4712.57, orders: 6 });
      expect(await fs.readFile(`${file}.damaged`, 'utf8')).to.match(/^not a DuckDB file/);
    } finally {
      await server.close();
    }
  });
});
