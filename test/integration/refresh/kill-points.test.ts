// A loader killed with SIGKILL at each stage of an append: while the file streams in, and during the upserts of
// the facts (killed while it builds its snapshot: snapshot/build-faults.test.ts). Each load is held at its stage
// by a lock another session holds, so the kill lands there however fast or slow the machine. After each kill
// every table is as it was, the run is marked failed by the next start, and the next run loads the file with
// the right counts, leaving exactly what a load that was never interrupted leaves. (scheduler.test.ts kills
// `npm run refresh` mid-stream too.)
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { getRun } from '../../../src/refresh/runs.js';
import { CHANGE_COUNTS, fingerprintAfterChange, writeAppendScenario } from '../../support/append-scenario.js';
import { useTestDatabase } from '../../support/database.js';
import { type Fingerprint, fingerprint } from '../../support/fingerprint.js';
import { type HeldLoad, heldAt, lockTable, sessionsGone } from '../../support/held-load.js';
import { load } from '../../support/sales-files.js';

const run = promisify(execFile);
const INTERRUPTED = 'interrupted: the process running this refresh stopped before it finished; no data was changed';

describe('a load killed with SIGKILL', function () {
  this.timeout(120_000);
  const db = useTestDatabase({ each: true });
  let dir: string;
  let files: { base: string; change: string };
  let control: Fingerprint;

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sales-kill-'));
    files = await writeAppendScenario(dir);
    expect((await fs.stat(files.change)).size, 'the change spans several batches').to.be.above(3 * 65_536);
    control = await fingerprintAfterChange(files);
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  beforeEach(async () => {
    expect((await load(db().pool, files.base)).run.status).to.equal('succeeded');
  });

  const env = () => ({ ...process.env, DATABASE_URL: db().url, DATA_DIR: dir, ANALYTICS_DIR: db().analyticsDir });

  /** Starts `npm run load` of the change, kills it once it waits at `step`, and checks nothing changed. */
  async function killLoadAt(table: string, step: string) {
    const before = await fingerprint(db().pool);
    const lock = await lockTable(db().url, table);
    try {
      const child = spawn(process.execPath, ['dist/src/cli/load.js', files.change, '--json'], { env: env(), stdio: 'ignore' });
      const exited = once(child, 'exit');
      const held = await heldAt(db().pool, step);
      child.kill('SIGKILL');
      await exited;
      return { before, held };
    } finally {
      await lock.release();
    }
  }

  /** Where the run was when its process died, as the run history keeps it. */
  async function stoppedAt(runId: number) {
    const { rows } = await db().pool.query('SELECT error_detail FROM refresh_runs WHERE id = $1', [runId]);
    return rows[0].error_detail;
  }

  /** The checks after each kill: nothing changed; the next load marks the killed run failed and loads the file. */
  async function expectRecovery(before: Fingerprint, killed: HeldLoad, step: string) {
    await sessionsGone(db().pool);
    expect(await fingerprint(db().pool)).to.deep.equal(before);
    expect((await getRun(db().pool, killed.runId))?.status, 'nothing has marked it yet').to.equal('running');

    const { stdout } = await run(process.execPath, ['dist/src/cli/load.js', files.change, '--json'], { env: env() });
    const next = JSON.parse(stdout).run;
    expect(next).to.include({ status: 'succeeded', error: null });
    expect(next.counts).to.deep.equal(CHANGE_COUNTS);
    expect(await getRun(db().pool, killed.runId)).to.include({ status: 'failed', error: INTERRUPTED, phase: null, step: null });
    expect(await stoppedAt(killed.runId)).to.deep.equal({ name: 'Interrupted', phase: killed.phase, step });
    expect(await fingerprint(db().pool)).to.deep.equal(control);
  }

  it('while streaming the file (its rejects wait to be written, after earlier batches went into staging)', async () => {
    const step = 'stream file into staging';
    const { before, held } = await killLoadAt('refresh_rejects', step);
    expect(held.phase).to.equal('reading');
    expect(held.xid, 'the load has written in its transaction').to.be.a('string');
    await expectRecovery(before, held, step);
  });

  it('during the upserts (the order lines wait, the orders, products and customers are already written)', async () => {
    const step = 'upsert order items';
    const { before, held } = await killLoadAt('order_items', step);
    expect(held.phase).to.equal('applying');
    expect(held.xid, 'the load has written in its transaction').to.be.a('string');
    await expectRecovery(before, held, step);
  });
});
