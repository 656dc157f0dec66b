// A supervisor (systemd, docker stop) signals the one process it started: here `npm start`, `npm run
// scheduler` or `npm run load`, started through npm and signalled by that pid alone. Afterwards nothing may be
// left: no descendant, no embedded PostgreSQL (daemonized, so found by postmaster.pid), no port taken.
import { type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { expect } from 'chai';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../../src/db/embedded-postgres.js';
import { createLogger } from '../../../src/logger.js';
import { descendants, portFree, postmasterPid, running } from '../../support/process-tree.js';

const TOKEN = 'stop-signals-test-token';
// Long enough that a first load of it is still running a second or two after it started.
const BIG_FILE_ROWS = 1_000_000;

describe('SIGTERM and SIGINT to the npm process alone stop everything it started', function () {
  this.timeout(240_000);
  let dir: string;
  const pgPort = 56_000 + (process.pid % 1000);
  const httpPort = 43_000 + (process.pid % 1000);
  const pgDir = () => path.join(dir, 'pg');

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sales-stop-'));
    await fs.chmod(dir, 0o755); // as root, the embedded server runs as another user, who must reach its data directory
    await fs.mkdir(path.join(dir, 'data'));
    await promisify(execFile)(process.execPath, [
      'dist/src/cli/generate.js',
      ...['--rows', String(BIG_FILE_ROWS), '--out', path.join(dir, 'data', 'big.csv')],
    ]);
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const { DATABASE_URL: _external, TEST_ADMIN_URL: _admin, ...inherited } = process.env;
    return {
      ...inherited,
      EMBEDDED_PG_DIR: pgDir(),
      EMBEDDED_PG_PORT: String(pgPort),
      PORT: String(httpPort),
      DATA_DIR: path.join(dir, 'data'),
      ANALYTICS_DIR: path.join(dir, 'analytics'),
      LOG_DIR: path.join(dir, 'logs'),
      LOG_LEVEL: 'info',
      SEED_ON_START: 'false',
      REFRESH_TOKEN: TOKEN,
      ...extra,
    };
  }

  interface Started {
    child: ChildProcessWithoutNullStreams;
    output: () => string;
    messages: () => string[];
    exited: Promise<[number | null, NodeJS.Signals | null]>;
  }

  function npm(args: string[], extraEnv: Record<string, string> = {}): Started {
    const child = spawn('npm', args, { env: env(extraEnv) });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    const messages = () =>
      output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line).msg as string);
    return { child, output: () => output, messages, exited: once(child, 'exit') as Started['exited'] };
  }

  async function until(what: string, started: Started, condition: () => Promise<boolean> | boolean): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`${what} did not happen:\n${started.output()}`);
      await sleep(50);
    }
  }

  /** Signals the npm process (and only it) after noting everything it started; checks all of it is gone. */
  async function stopAndCheck(started: Started, signal: NodeJS.Signals, withinMs: number, second?: number) {
    const tree = descendants(started.child.pid!);
    const postmaster = await postmasterPid(pgDir());
    expect(tree, 'npm runs node').to.have.length.above(0);
    expect(postmaster, 'the embedded PostgreSQL runs').to.be.a('number');
    const signalled = Date.now();
    started.child.kill(signal);
    if (second !== undefined) {
      await sleep(second);
      started.child.kill(signal);
    }
    const timeout = sleep(withinMs).then(() => 'timed out');
    const outcome = await Promise.race([started.exited, timeout]);
    expect(outcome, `npm still runs ${withinMs} ms after ${signal}:\n${started.output()}`).to.not.equal('timed out');
    const tookMs = Date.now() - signalled;
    // A process re-parented on its parent's exit may need a moment more; nothing may run after that moment.
    await sleep(200);
    expect([...tree, postmaster!].filter(running), 'processes left running').to.deep.equal([]);
    expect(existsSync(path.join(pgDir(), 'postmaster.pid')), 'the data directory is unlocked').to.equal(false);
    expect(await portFree(pgPort), 'the database port is free').to.equal(true);
    expect(await portFree(httpPort), 'the HTTP port is free').to.equal(true);
    return { code: (outcome as Awaited<Started['exited']>)[0], tookMs };
  }

  /** Runs `query` against the data directory the processes used, with a server of the test's own. */
  async function inDatabase<T>(query: (client: pg.Client) => Promise<T>): Promise<T> {
    const server = await startEmbeddedPostgres({ dataDir: pgDir(), port: pgPort, logger: createLogger('warn').logger });
    const client = new pg.Client(server.url);
    try {
      await client.connect();
      return await query(client);
    } finally {
      await client.end();
      await server.stop();
    }
  }

  async function lastRun(client: pg.Client) {
    const { rows } = await client.query('SELECT id::int, status, error FROM refresh_runs ORDER BY id DESC LIMIT 1');
    return rows[0] as { id: number; status: string; error: string | null };
  }

  const lines = (client: pg.Client) =>
    client.query('SELECT count(*)::int AS n FROM order_items').then(({ rows }) => rows[0].n as number);

  async function startService(extraEnv: Record<string, string> = {}): Promise<Started> {
    const started = npm(['start'], extraEnv);
    await until('/ready', started, () =>
      fetch(`http://127.0.0.1:${httpPort}/ready`).then(
        (response) => response.ok,
        () => false,
      ),
    );
    return started;
  }

  /** Queues a refresh of the big file and waits until it is loading. */
  async function startBigRefresh(started: Started): Promise<number> {
    const response = await fetch(`http://127.0.0.1:${httpPort}/api/v1/refreshes`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ source: 'big.csv', force: true }),
    });
    expect(response.status).to.equal(202);
    const { id } = await response.json();
    await until('the refresh loading', started, async () => {
      const run = await (await fetch(`http://127.0.0.1:${httpPort}/api/v1/refreshes/${id}`)).json();
      return run.status === 'running' && run.progress.rowsRead > 0;
    });
    return id;
  }

  it('npm start on a built checkout compiles nothing and is ready within 3 s of its database; SIGTERM stops it all', async () => {
    // The first start creates the data directory (initdb); the second is the one timed.
    await stopAndCheck(await startService(), 'SIGTERM', 15_000);
    const spawned = Date.now();
    const started = await startService();
    const readyAt = Date.now();
    expect(started.output()).to.contain('> sales-analytics@0.1.0 start').and.not.contain('tsc');
    const databaseStarted = started
      .output()
      .split('\n')
      .find((line) => line.includes('"msg":"embedded PostgreSQL started"'));
    const databaseStartedAt = JSON.parse(databaseStarted!).time as number;
    expect(readyAt - databaseStartedAt, `ready ${readyAt - spawned} ms after npm start`).to.be.at.most(3000);

    const { code } = await stopAndCheck(started, 'SIGTERM', 15_000);
    expect(code).to.equal(0);
    expect(started.messages()).to.include.members(['shutting down', 'embedded PostgreSQL stopped', 'stopped']);
  });

  it('a refresh still running when SHUTDOWN_GRACE_MS ends is cancelled, rolled back and recorded as failed', async () => {
    const started = await startService({ SHUTDOWN_GRACE_MS: '1000' });
    const id = await startBigRefresh(started);
    const { code, tookMs } = await stopAndCheck(started, 'SIGINT', 1000 + 10_000);
    expect(code).to.equal(0);
    expect(started.messages()).to.include.members(['waiting for the running refresh to finish', 'stopped']);
    expect(tookMs).to.be.at.least(1000);
    const { run, count } = await inDatabase(async (client) => ({ run: await lastRun(client), count: await lines(client) }));
    expect(run).to.deep.equal({ id, status: 'failed', error: 'cancelled: the service is shutting down' });
    expect(count).to.equal(0);
  });

  it('a second signal during the grace period stops at once, the refresh rolled back', async () => {
    const started = await startService({ SHUTDOWN_GRACE_MS: '120000' });
    const id = await startBigRefresh(started);
    const { tookMs } = await stopAndCheck(started, 'SIGTERM', 10_000, 1000);
    expect(tookMs).to.be.below(1000 + 5000);
    expect(started.messages()).to.include('stopping now');
    const { run, count } = await inDatabase(async (client) => ({ run: await lastRun(client), count: await lines(client) }));
    expect(run).to.deep.equal({ id, status: 'failed', error: 'cancelled: the service is shutting down' });
    expect(count).to.equal(0);
  });

  it('npm run scheduler stops on SIGTERM', async () => {
    const started = npm(['run', 'scheduler']);
    await until('the schedule', started, () => started.messages().includes('refresh schedule started'));
    const { code } = await stopAndCheck(started, 'SIGTERM', 15_000);
    expect(code).to.equal(0);
  });

  it('npm run load stops on SIGTERM: the load rolls back and its run is marked failed', async () => {
    const started = npm(['run', 'load', '--', path.join(dir, 'data', 'big.csv')]);
    // The load's process owns the embedded server: ask it directly.
    await until('the load', started, async () => {
      // The server asks for the password it generated into its data directory.
      const password = await fs.readFile(path.join(pgDir(), 'sales-analytics.password'), 'utf8').catch(() => '');
      const client = new pg.Client({ host: '127.0.0.1', port: pgPort, user: 'postgres', password, database: 'postgres' });
      try {
        await client.connect();
        const { rows } = await client.query("SELECT 1 FROM refresh_runs WHERE status = 'running' AND rows_read > 0");
        return rows.length > 0;
      } catch {
        return false;
      } finally {
        await client.end().catch(() => {});
      }
    });
    const { code } = await stopAndCheck(started, 'SIGTERM', 15_000);
    expect(code).to.equal(1);
    expect(started.output()).to.match(/load failed \(run \d+\): cancelled: stopped by SIGTERM\nNothing was changed\./);
    const { run, count } = await inDatabase(async (db) => ({ run: await lastRun(db), count: await lines(db) }));
    expect(run).to.include({ status: 'failed', error: 'cancelled: stopped by SIGTERM' });
    expect(count).to.equal(0);
  });
});
