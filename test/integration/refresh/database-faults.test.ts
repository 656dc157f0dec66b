// A refresh whose database fails under it: its session terminated, the server restarted, a statement past
// statement_timeout. Each refresh is held at a step by a lock another session holds, so the fault lands
// mid-load. The run fails with the server's reason and changes nothing; the service stays up, says so on
// /ready, reconnects, and the next refresh loads the file with the right counts.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import type pg from 'pg';
import { type EmbeddedServer, startEmbeddedPostgres } from '../../../src/db/embedded-postgres.js';
import { migrate } from '../../../src/db/migrate.js';
import { createPool } from '../../../src/db/pool.js';
import { createLogger } from '../../../src/logger.js';
import { getRun } from '../../../src/refresh/runs.js';
import { CHANGE_COUNTS, fingerprintAfterChange, writeAppendScenario } from '../../support/append-scenario.js';
import { useTestDatabase } from '../../support/database.js';
import { type Fingerprint, fingerprint } from '../../support/fingerprint.js';
import { heldAt, lockTable, waitingForLocks } from '../../support/held-load.js';
import { freePort } from '../../support/ports.js';
import { load } from '../../support/sales-files.js';
import { finishedRun } from '../../support/server.js';
import { readiness, type ServiceProcess, startService, until } from '../../support/service-process.js';

const run = promisify(execFile);
const STEP = 'upsert order items';

describe('a refresh whose database fails under it', function () {
  this.timeout(120_000);
  let dir: string;
  let files: { base: string; change: string };
  let control: Fingerprint;

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sales-db-faults-'));
    files = await writeAppendScenario(dir);
    await fs.copyFile(files.change, path.join(dir, 'sales.csv'));
    control = await fingerprintAfterChange(files);
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  /** Starts a refresh of the change in `service` and waits until it is held at STEP by a lock on order_items. */
  async function heldRefresh(service: ServiceProcess, url: string, pool: pg.Pool) {
    const lock = await lockTable(url, 'order_items');
    const response = await service.refresh({ source: 'sales.csv' });
    expect(response.status).to.equal(202);
    const { id } = await response.json();
    const held = await heldAt(pool, STEP);
    expect(held.runId).to.equal(id);
    return { id, held, lock };
  }

  /** The service still runs, answers ready, and loads the change with the right counts. */
  async function expectNextRefreshSucceeds(service: ServiceProcess) {
    expect(service.child.exitCode, 'the service still runs').to.equal(null);
    expect(await readiness(service.url)).to.equal(200);
    const response = await service.refresh({ source: 'sales.csv' });
    expect(response.status).to.equal(202);
    const next = await finishedRun(service.url, (await response.json()).id);
    expect(next).to.include({ status: 'succeeded', error: null });
    expect(next.counts).to.deep.equal(CHANGE_COUNTS);
  }

  describe('on the test server', () => {
    const db = useTestDatabase({ each: true });
    beforeEach(async () => {
      expect((await load(db().pool, files.base)).run.status).to.equal('succeeded');
    });

    it("the load's session terminated (pg_terminate_backend): the run fails with the server's reason, the service carries on", async () => {
      const service = await startService(db().url, dir);
      try {
        const before = await fingerprint(db().pool);
        const { id, held, lock } = await heldRefresh(service, db().url, db().pool);
        try {
          await db().pool.query('SELECT pg_terminate_backend($1)', [held.pid]);
        } finally {
          await lock.release();
        }
        const failed = await finishedRun(service.url, id);
        expect(failed).to.include({ status: 'failed', error: 'terminating connection due to administrator command' });
        expect(await fingerprint(db().pool)).to.deep.equal(before);
        await expectNextRefreshSucceeds(service);
        expect(await fingerprint(db().pool)).to.deep.equal(control);
      } finally {
        await service.stop();
      }
    });

    it('a statement past statement_timeout (set on the database): the load fails saying so, nothing written; without it the next load succeeds', async () => {
      const name = new URL(db().url).pathname.slice(1);
      const before = await fingerprint(db().pool);
      await db().pool.query(`ALTER DATABASE ${name} SET statement_timeout = '3s'`);
      const env = { ...process.env, DATABASE_URL: db().url, DATA_DIR: dir, ANALYTICS_DIR: db().analyticsDir };
      const lock = await lockTable(db().url, 'order_items');
      const failed = await run(process.execPath, ['dist/src/cli/load.js', files.change], { env }).then(
        () => expect.fail('the load should fail'),
        (error) => error as { code: number; stderr: string },
      );
      await lock.release();
      expect(failed.code).to.equal(1);
      expect(failed.stderr).to.match(
        /^load failed \(run \d+\): canceling statement due to statement timeout\nNothing was changed\.\n$/,
      );
      expect(await fingerprint(db().pool)).to.deep.equal(before);

      await db().pool.query(`ALTER DATABASE ${name} RESET statement_timeout`);
      const { stdout } = await run(process.execPath, ['dist/src/cli/load.js', files.change, '--json'], { env });
      const next = JSON.parse(stdout).run;
      expect(next).to.include({ status: 'succeeded' });
      expect(next.counts).to.deep.equal(CHANGE_COUNTS);
      expect(await fingerprint(db().pool)).to.deep.equal(control);
    });
  });

  describe('on a PostgreSQL server of its own', () => {
    const pgDir = () => path.join(dir, 'pg');
    let port: number;
    let server: EmbeddedServer | undefined;
    let pool: pg.Pool;
    const logger = createLogger('warn').logger;
    const startServer = async () => {
      server = await startEmbeddedPostgres({ dataDir: pgDir(), port, logger });
      return server;
    };

    before(async () => {
      await fs.chmod(dir, 0o755); // as root, the server runs as another user, who must reach its data directory
      port = await freePort();
      const { url } = await startServer();
      await migrate(url, logger);
      pool = createPool(url, 2);
      // The restart below ends this pool's sessions; that is expected.
      pool.on('error', () => {});
      expect((await load(pool, files.base)).run.status).to.equal('succeeded');
    });
    after(async () => {
      await pool?.end();
      await server?.stop();
    });

    it('restarted mid-refresh: the run fails, the analytics answer from their snapshot while it is away, /ready answers 503 then 200, the service reconnects', async () => {
      const url = server!.url;
      const service = await startService(url, dir);
      try {
        const before = await fingerprint(pool);
        const answered = await (await fetch(`${service.url}/api/v1/revenue`)).json();
        const { id, lock } = await heldRefresh(service, url, pool);
        await waitingForLocks(pool, 1);
        await server!.stop();
        await lock.release();
        // The analytics need no database: the published snapshot answers, the same as before.
        const whileAway = await fetch(`${service.url}/api/v1/revenue`);
        expect(whileAway.status).to.equal(200);
        expect(await whileAway.json()).to.deep.equal(answered);
        const away = await until('/ready to answer 503', async () => {
          const response = await fetch(`${service.url}/ready`);
          return response.status === 503 ? response.json() : undefined;
        });
        expect(away).to.deep.equal({ status: 'unavailable', reason: 'the database does not answer' });

        await startServer();
        await until('/ready to answer 200', async () => ((await readiness(service.url)) === 200 ? true : undefined));
        const failed = await until('the run to be recorded as failed', async () => {
          const run = await getRun(pool, id);
          return run?.status === 'failed' ? run : undefined;
        });
        expect(failed.error).to.equal('terminating connection due to administrator command');
        expect(await fingerprint(pool)).to.deep.equal(before);
        await expectNextRefreshSucceeds(service);
        expect(await fingerprint(pool)).to.deep.equal(control);
      } finally {
        await service.stop();
      }
    });
  });
});
