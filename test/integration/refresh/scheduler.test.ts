// The refresh job under the scheduler and under faults: the cron schedule fires, an unchanged source is
// skipped, a held lock makes a scheduled run `skipped`, shutdown cancels a run past its grace period, and a
// process killed mid-refresh leaves the data intact and its run marked failed at the next start.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { Pool } from 'pg';
import { readConfig } from '../../../src/config.js';
import { generateSales, writeSalesCsv } from '../../../src/generate/sales-generator.js';
import { claimRefresh, recoverInterruptedRuns } from '../../../src/refresh/claim.js';
import { finishRun, getRun, type RefreshRun } from '../../../src/refresh/runs.js';
import { RefreshScheduler } from '../../../src/refresh/scheduler.js';
import { useTestDatabase } from '../../support/database.js';
import { load, quietLogger } from '../../support/sales-files.js';
import { snapshotQuery } from '../../support/snapshot.js';

const SAMPLE = 'test/fixtures/brief-sample.csv';

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function runs(pool: Pool, trigger: string): Promise<RefreshRun[]> {
  const { rows } = await pool.query('SELECT id::integer AS id FROM refresh_runs WHERE trigger = $1 ORDER BY id', [trigger]);
  return Promise.all(rows.map(async (row) => (await getRun(pool, row.id))!));
}

/** The record's lines and version, and the revenue of the snapshot that answers. */
async function totals(pool: Pool) {
  const { rows } = await pool.query(
    'SELECT (SELECT count(*) FROM order_items) AS lines, (SELECT version FROM data_version) AS version',
  );
  const { rows: snapshot } = await snapshotQuery(pool, 'SELECT coalesce(sum(revenue), 0) AS revenue FROM sales_by_day_region');
  return { ...rows[0], ...snapshot[0] };
}

describe('refresh scheduler', () => {
  const db = useTestDatabase({ each: true });
  let dataDir: string;
  let scheduler: RefreshScheduler | undefined;

  beforeEach(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sales-schedule-'));
    await fs.copyFile(SAMPLE, path.join(dataDir, 'sales.csv'));
  });
  afterEach(async () => {
    await scheduler?.stop(0);
    scheduler = undefined;
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  function startScheduler(env: Record<string, string>, workerLog: string[] = []): Promise<void> {
    const config = readConfig({ DATA_DIR: dataDir, REFRESH_SOURCE: 'sales.csv', ANALYTICS_DIR: db().analyticsDir, ...env });
    scheduler = new RefreshScheduler({
      config,
      pool: db().pool,
      databaseUrl: db().url,
      logger: quietLogger,
      writeLogLine: (line) => workerLog.push(line),
    });
    return scheduler.start();
  }

  it('runs the refresh on its cron schedule in a worker thread, then skips the unchanged source', async () => {
    const workerLog: string[] = [];
    await startScheduler({ REFRESH_CRON: '* * * * * *' }, workerLog);
    const [first, second] = await until(async () => {
      const scheduled = await runs(db().pool, 'schedule');
      return scheduled.length >= 2 && scheduled[1].finishedAt ? scheduled : undefined;
    }, 'two scheduled runs');
    expect(first).to.include({ status: 'succeeded', trigger: 'schedule', mode: 'append', source: 'sales.csv' });
    expect(first.counts).to.include({ read: 6, inserted: 6 });
    expect(second).to.include({ status: 'skipped' });
    expect(second.error).to.equal(
      `the source is identical to the one run ${first.id} loaded (same SHA-256); force the refresh to load it again`,
    );
    const lines = workerLog.map((line) => JSON.parse(line));
    expect(lines.find((line) => line.msg === 'refresh succeeded')).to.include({ runId: first.id, job: 'refresh' });
  });

  it('records a scheduled run whose file does not exist yet as skipped, with the reason', async () => {
    await startScheduler({ REFRESH_CRON: '* * * * * *', REFRESH_SOURCE: 'later.csv' });
    const [skipped] = await until(async () => {
      const scheduled = await runs(db().pool, 'schedule');
      return scheduled[0]?.finishedAt ? scheduled : undefined;
    }, 'a scheduled run');
    expect(skipped).to.include({ status: 'skipped', source: 'later.csv', error: 'no file later.csv yet' });
  });

  it('records a scheduled run as skipped while another refresh holds the lock', async () => {
    const outcome = await claimRefresh(db().pool, quietLogger, {
      trigger: 'api',
      mode: 'append',
      source: 'x.csv',
      status: 'running',
    });
    if (!('claim' in outcome)) throw new Error('the lock should be free');
    try {
      await startScheduler({ REFRESH_CRON: '* * * * * *' });
      const [skipped] = await until(async () => {
        const scheduled = await runs(db().pool, 'schedule');
        return scheduled.length >= 1 ? scheduled : undefined;
      }, 'a scheduled run');
      expect(skipped).to.include({ status: 'skipped', error: `another refresh is running (run ${outcome.claim.run.id})` });
    } finally {
      await scheduler?.stop(0);
      await finishRun(db().pool, outcome.claim.run.id, { status: 'failed', error: 'test' });
      await outcome.claim.release();
    }
  });

  it('on stop, cancels a refresh still running after the grace period: the load rolls back and the run fails', async () => {
    await load(db().pool, SAMPLE);
    const before = await totals(db().pool);
    await writeSalesCsv(path.join(dataDir, 'big.csv'), generateSales({ rows: 150_000, seed: 3 }), {
      style: 'standard',
      extraColumns: false,
    });
    await startScheduler({ REFRESH_CRON: '' });
    const outcome = await claimRefresh(db().pool, quietLogger, {
      trigger: 'api',
      mode: 'append',
      source: 'big.csv',
      status: 'queued',
    });
    if (!('claim' in outcome)) throw new Error('the lock should be free');
    const finished = scheduler!.runClaimed(outcome.claim, {
      file: path.join(dataDir, 'big.csv'),
      source: 'big.csv',
      mode: 'append',
      trigger: 'api',
    });
    await until(async () => ((await getRun(db().pool, outcome.claim.run.id))?.progress.rowsRead ? true : undefined), 'progress');
    await scheduler!.stop(0);
    const run = await finished;
    expect(run).to.include({ status: 'failed', error: 'cancelled: the service is shutting down' });
    expect(await totals(db().pool)).to.deep.equal(before);
  });

  it('leaves the data intact when the process is killed mid-refresh, and marks its run failed at the next start', async () => {
    await load(db().pool, SAMPLE);
    const before = await totals(db().pool);
    await writeSalesCsv(path.join(dataDir, 'big.csv'), generateSales({ rows: 150_000, seed: 4 }), {
      style: 'standard',
      extraColumns: false,
    });
    const child = spawn(process.execPath, ['dist/src/cli/refresh.js', '--source', 'big.csv'], {
      env: {
        ...process.env,
        DATABASE_URL: db().url,
        DATA_DIR: dataDir,
        ANALYTICS_DIR: db().analyticsDir,
        LOG_DIR: path.join(dataDir, 'logs'),
        LOG_LEVEL: 'warn',
      },
      stdio: 'ignore',
    });
    const exited = once(child, 'exit');
    const running = await until(async () => {
      const run = (await runs(db().pool, 'cli')).find((candidate) => candidate.source === 'big.csv');
      return run?.status === 'running' && run.progress.rowsRead > 0 ? run : undefined;
    }, 'the refresh to be running');
    child.kill('SIGKILL');
    await exited;

    // The killed session's lock goes when PostgreSQL notices the closed connection; then recovery can run.
    const recovered = await until(async () => {
      await recoverInterruptedRuns(db().pool, quietLogger);
      const run = await getRun(db().pool, running.id);
      return run?.status === 'failed' ? run : undefined;
    }, 'the interrupted run to be marked failed');
    expect(recovered.error).to.equal(
      'interrupted: the process running this refresh stopped before it finished; no data was changed',
    );
    expect(recovered.finishedAt).to.be.a('string');
    expect(await totals(db().pool)).to.deep.equal(before);
    const { rows } = await db().pool.query('SELECT count(*) AS rejects FROM refresh_rejects WHERE run_id = $1', [running.id]);
    expect(rows[0].rejects).to.equal(0);
  });
});
