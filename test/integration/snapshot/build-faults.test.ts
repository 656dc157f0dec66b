// A build that does not finish: its process killed (out of memory, say), the loading process killed while it
// builds, a disk that fills up, a server that starts without the snapshot of its record. Each time the record
// keeps what was committed, the previous snapshot answers until a whole new one is published, the run says
// what happened, and the next start or refresh builds the version. A build is held where it reads the record
// (a lock on a table it copies, taken as the load commits), so the kill lands there however fast the machine.
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { revenueSummary } from '../../../src/analytics/revenue-summary.js';
import { generateSales } from '../../../src/generate/sales-generator.js';
import { recoverInterruptedRuns } from '../../../src/refresh/claim.js';
import { runRefresh } from '../../../src/refresh/refresh.js';
import { getRun } from '../../../src/refresh/runs.js';
import { databaseKey } from '../../../src/snapshot/identity.js';
import { publishedVersions } from '../../../src/snapshot/published.js';
import { SnapshotStore } from '../../../src/snapshot/store.js';
import { writeAppendScenario } from '../../support/append-scenario.js';
import { snapshotDirOf, useTestDatabase } from '../../support/database.js';
import { heldAt, lockTable, sessionsGone, type TableLock, waitingForLocks } from '../../support/held-load.js';
import { descendants, running } from '../../support/process-tree.js';
import { csvOf, load, quietLogger, TEST_ANALYTICS_LIMITS, writeFile } from '../../support/sales-files.js';
import { startTestServer } from '../../support/server.js';
import { startService, until } from '../../support/service-process.js';

const run = promisify(execFile);
const SAMPLE = 'test/fixtures/brief-sample.csv';

/** The processes under `pid` that build a snapshot (build-process.ts). */
function builders(pid: number): number[] {
  return descendants(pid).filter((child) => {
    try {
      return readFileSync(`/proc/${child}/cmdline`, 'utf8').includes('build-process');
    } catch {
      return false;
    }
  });
}

describe('a snapshot build that does not finish', function () {
  this.timeout(180_000);
  const db = useTestDatabase({ each: true });
  let dir: string;
  let files: { base: string; change: string };

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sales-build-faults-'));
    files = await writeAppendScenario(dir);
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  /** Which version answers from the published snapshots, and its revenue. */
  async function answering() {
    const store = await SnapshotStore.forDatabase(db().pool, db().analyticsDir, TEST_ANALYTICS_LIMITS);
    try {
      return await store.read(async (snapshot, version) => ({ version, revenue: (await revenueSummary(snapshot, {})).revenue }));
    } finally {
      await store.close();
    }
  }

  /**
   * `npm run load` of the change, held once its load has committed and its build reads the record: the load is
   * first held at its upsert of lines (after it wrote the regions); a lock on regions, queued behind the load's,
   * is granted as the load commits, before the build copies regions.
   */
  async function loadHeldInItsBuild(): Promise<{
    loader: number;
    builder: number;
    runId: number;
    lock: TableLock;
    exited: Promise<unknown>;
    stdout: () => string;
  }> {
    const lines = await lockTable(db().url, 'order_items');
    const child = spawn(process.execPath, ['dist/src/cli/load.js', files.change, '--json'], {
      env: { ...process.env, DATABASE_URL: db().url, DATA_DIR: dir, ANALYTICS_DIR: db().analyticsDir },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let stdout = '';
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
    });
    const exited = once(child, 'close');
    await heldAt(db().pool, 'upsert order items');
    const regions = lockTable(db().url, 'regions', 'ACCESS EXCLUSIVE');
    await waitingForLocks(db().pool, 2);
    await lines.release();
    const lock = await regions;
    const { runId } = await heldAt(db().pool, 'build the analytics snapshot');
    const [builder] = builders(child.pid!);
    expect(builder, 'the build runs in a process of its own').to.be.a('number');
    return { loader: child.pid!, builder, runId, lock, exited, stdout: () => stdout };
  }

  beforeEach(async () => {
    expect((await load(db().pool, files.base)).run.status).to.equal('succeeded');
  });

  it('its process killed: the run fails saying its data is in and the build was killed; version 1 answers; the next start builds', async () => {
    const before = await answering();
    expect(before.version).to.equal(1);
    const held = await loadHeldInItsBuild();
    try {
      expect(await answering(), 'the previous snapshot answers while the next one builds').to.deep.equal(before);
      process.kill(held.builder, 'SIGKILL');
      await held.exited;
    } finally {
      await held.lock.release();
    }
    // The outcome is the last line; the log's lines come before it.
    expect(JSON.parse(held.stdout().trim().split('\n').at(-1)!).run).to.include({
      status: 'failed',
      error: 'loaded as data version 2, but the analytics snapshot could not be built: its process was killed (SIGKILL)',
    });
    expect(await answering(), 'nothing half-built is published').to.deep.equal(before);
    const folder = await snapshotDirOf(db().pool);
    const left = await fs.readdir(folder);
    expect(left).to.have.length(2).and.include('v1.duckdb');
    const work = path.join(folder, left.find((name) => name !== 'v1.duckdb')!);
    expect(await fs.readFile(path.join(work, 'owner'), 'utf8'), 'the killed build’s folder').to.equal(
      `${os.hostname()}\n${held.builder}\n`,
    );

    const server = await startTestServer(db());
    try {
      const ready = await (await fetch(`${server.url}/ready`)).json();
      expect(ready).to.include({ status: 'ready', dataVersion: 2, recordVersion: 2 });
      expect((await answering()).version).to.equal(2);
      expect(await fs.readdir(folder), 'what the killed build left is gone').to.deep.equal(['v2.duckdb']);
    } finally {
      await server.close();
    }
  });

  it('the loading process killed while it builds: its build ends too, the next start says the data is in and builds', async () => {
    const held = await loadHeldInItsBuild();
    try {
      process.kill(held.loader, 'SIGKILL');
      await held.exited;
      await until('the build to end with its loader', async () => (running(held.builder) ? undefined : true));
    } finally {
      await held.lock.release();
    }
    await sessionsGone(db().pool);
    expect(await getRun(db().pool, held.runId)).to.include({ status: 'running' });
    expect((await answering()).version).to.equal(1);

    await recoverInterruptedRuns(db().pool, quietLogger);
    expect(await getRun(db().pool, held.runId)).to.include({
      status: 'failed',
      error:
        'interrupted after its data was committed (data version 2): its analytics snapshot was not published; the next start builds it',
    });
    const server = await startTestServer(db());
    try {
      expect(await (await fetch(`${server.url}/ready`)).json()).to.include({ dataVersion: 2, recordVersion: 2 });
    } finally {
      await server.close();
    }
  });

  it('a disk that fills up: the run fails naming it, nothing is left behind, version 1 answers; the next refresh publishes', async () => {
    const disk = await fs.mkdtemp(path.join(os.tmpdir(), 'sales-small-disk-'));
    await run('mount', ['-t', 'tmpfs', '-o', 'size=12m', 'tmpfs', disk]);
    try {
      const refresh = (file: string) =>
        runRefresh(db().pool, quietLogger, {
          file,
          source: path.basename(file),
          mode: 'append',
          trigger: 'cli',
          analytics: { directory: disk, limits: TEST_ANALYTICS_LIMITS },
        });
      const folder = path.join(disk, await databaseKey(db().pool));
      expect((await refresh(SAMPLE)).run.status).to.equal('succeeded');
      expect(await fs.readdir(folder)).to.deep.equal(['v2.duckdb']);

      const large = await writeFile(csvOf([...generateSales({ rows: 60_000, seed: 5, firstOrder: 2_000_000 })]));
      const full = await refresh(large);
      expect(full.run.status).to.equal('failed');
      expect(full.run.error).to.match(
        /^loaded as data version 3, but the analytics snapshot could not be built: .*no space left on device$/i,
      );
      expect(full.run.error, 'the run history is public: no path of this machine').not.to.include(disk);
      expect(await fs.readdir(folder), 'the build removed its work').to.deep.equal(['v2.duckdb']);

      await run('mount', ['-o', 'remount,size=256m', disk]);
      expect((await refresh(large)).run).to.include({ status: 'succeeded' });
      const { rows } = await db().pool.query('SELECT version FROM data_version');
      expect(await publishedVersions(folder)).to.deep.equal([Number(rows[0].version)]);
    } finally {
      await run('umount', [disk]);
      await fs.rm(disk, { recursive: true, force: true });
    }
  });

  it('a server that starts without its snapshot listens at once, is not ready while it builds, then answers', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sales-start-'));
    // What a build killed earlier left, in the folder the service's snapshots go to.
    const abandoned = spawn('true');
    await once(abandoned, 'exit');
    const folder = path.join(dataDir, 'analytics', await databaseKey(db().pool));
    await fs.mkdir(path.join(folder, 'building-x'), { recursive: true });
    await fs.writeFile(path.join(folder, 'building-x', 'owner'), `${os.hostname()}\n${abandoned.pid}\n`);
    await fs.writeFile(path.join(folder, 'building-x', 'snapshot.duckdb'), 'half');

    const lock = await lockTable(db().url, 'regions', 'ACCESS EXCLUSIVE');
    let service: Awaited<ReturnType<typeof startService>> | undefined;
    try {
      service = await startService(db().url, dataDir, {}, { until: 'listening' });
      await waitingForLocks(db().pool, 1);
      const ready = await fetch(`${service.url}/ready`);
      expect(ready.status).to.equal(503);
      expect(await ready.json()).to.deep.equal({
        status: 'unavailable',
        reason: 'building the analytics snapshot',
        recordVersion: 1,
      });
      const analytics = await fetch(`${service.url}/api/v1/revenue`);
      expect(analytics.status).to.equal(503);
      expect(analytics.headers.get('retry-after')).to.equal('5');
      expect((await fetch(`${service.url}/health`)).status).to.equal(200);
      await lock.release();

      const url = service.url;
      const body = await until('the service to be ready', async () => {
        const response = await fetch(`${url}/ready`);
        return response.status === 200 ? response.json() : undefined;
      });
      expect(body).to.deep.equal({ status: 'ready', dataVersion: 1, recordVersion: 1 });
      const answer = await fetch(`${service.url}/api/v1/revenue`);
      expect(answer.headers.get('data-version')).to.equal('1');
      expect((await answer.json()).revenue).to.equal((await answering()).revenue);
      expect(await fs.readdir(folder)).to.deep.equal(['v1.duckdb']);
    } finally {
      await lock.release();
      await service?.stop();
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });
});
