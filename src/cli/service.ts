// The long-running service: the database (embedded unless DATABASE_URL), migrations, recovery of runs a killed
// process left behind, the refresh schedule and, for `npm start`, the HTTP API. SIGINT/SIGTERM, from the
// first moment: stop taking requests, stop the schedule, give a running refresh SHUTDOWN_GRACE_MS to finish
// (else it rolls back), close the pool, stop the embedded database. A second signal: stop at once.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import { readConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { createApp } from '../http/app.js';
import { httpServer } from '../http/server.js';
import { createLogger } from '../logger.js';
import { bundledSample, projectRoot } from '../paths.js';
import { recoverInterruptedRuns } from '../refresh/claim.js';
import { runRefresh } from '../refresh/refresh.js';
import { RefreshScheduler } from '../refresh/scheduler.js';
import { SnapshotStore } from '../snapshot/store.js';
import { listenForStop } from './command.js';

/** After a second signal, how long a cancelled refresh gets to record its run as failed before the database stops. */
const IMMEDIATE_STOP_MS = 1000;

export async function runService(options: { http: boolean }): Promise<void> {
  const config = readConfig();
  const { logger, screen, writeLine } = createLogger(config.log.level, { dir: config.log.dir });
  // A signal during start-up waits for the step in progress, then stops what was started.
  const stop = listenForStop();
  const db = await openDatabase(config, logger);
  stop.immediate.addEventListener('abort', () => {
    logger.warn({ reason: stop.immediate.reason }, 'stopping now');
    setTimeout(() => db.stopNow().finally(() => process.exit(1)), IMMEDIATE_STOP_MS);
  });
  await recoverInterruptedRuns(db.pool, logger);

  const { rows } = await db.pool.query('SELECT NOT EXISTS (SELECT FROM order_items) AS empty');
  if (options.http && rows[0].empty && config.seedOnStart && existsSync(bundledSample) && !stop.graceful.aborted) {
    logger.info({ file: bundledSample }, 'the database is empty: loading the bundled sample');
    await runRefresh(db.pool, logger, {
      file: bundledSample,
      source: path.relative(projectRoot, bundledSample),
      mode: 'append',
      trigger: 'startup',
      analytics: config.analytics,
      signal: stop.graceful,
    });
  }

  // The analytics answer from the snapshot of the record's version: a server that finds it missing or behind
  // (a first start, a build that failed or was killed) or damaged builds it once it listens, and is ready when
  // it is published; one that finds it current is ready as it listens.
  // A server reading replicas may be on another machine than the loads: it builds its snapshots from them.
  const follower = config.readReplicaUrls.length > 0 ? { reads: db.reads, logger } : undefined;
  const snapshots = await SnapshotStore.forDatabase(db.pool, config.analytics.directory, config.analytics.limits, {
    follower,
    primary: { pool: db.pool, url: db.url, logger },
  });
  const toBuild = options.http && (snapshots.follows || (await snapshots.needsBuild()));

  const scheduler = new RefreshScheduler({ config, pool: db.pool, databaseUrl: db.url, logger, writeLogLine: writeLine });
  if (!stop.graceful.aborted) await scheduler.start();

  let server: Server | undefined;
  if (options.http && !stop.graceful.aborted) {
    let refreshToken = config.refresh.token;
    if (!refreshToken) {
      refreshToken = randomBytes(24).toString('base64url');
      screen.warn(
        { refreshToken },
        'REFRESH_TOKEN is not set: refreshes and rejected rows take this generated token until restart',
      );
    }
    const { version } = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8'));
    const app = createApp({ pool: db.pool, reads: db.reads, snapshots, logger, config, scheduler, refreshToken, version });
    server = httpServer(app, config.http).listen(config.http.port, config.http.host, () => {
      logger.info({ url: `http://${config.http.host}:${config.http.port}`, docs: '/docs' }, 'listening');
    });
    if (toBuild) void snapshots.catchUp();
  }

  if (!stop.graceful.aborted) await once(stop.graceful, 'abort');
  try {
    logger.info({ reason: stop.graceful.reason }, 'shutting down');
    const closed = server ? once(server, 'close') : undefined;
    server?.close();
    server?.closeIdleConnections();
    await scheduler.stop(config.refresh.shutdownGraceMs, stop.immediate);
    // What is still open (a slow upload, say) is cut: its refresh could not run any more.
    server?.closeAllConnections();
    await closed;
    await snapshots.close();
    await db.close();
    logger.info('stopped');
    process.exit(0);
  } catch (error) {
    logger.error({ err: error }, 'shutdown failed');
    await db.stopNow();
    process.exit(1);
  }
}
