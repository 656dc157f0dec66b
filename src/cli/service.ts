// The long-running service: the database (embedded unless DATABASE_URL), migrations, recovery of runs a killed
// process left behind, the refresh schedule and, for `npm start`, the HTTP API. SIGINT/SIGTERM: stop taking
// requests, stop the schedule, give a running refresh SHUTDOWN_GRACE_MS to finish (else it rolls back),
// close the pool, stop the embedded database.
import { randomBytes } from 'node:crypto';
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

export async function runService(options: { http: boolean }): Promise<void> {
  const config = readConfig();
  const { logger, screen, writeLine } = createLogger(config.log.level, { dir: config.log.dir });
  const db = await openDatabase(config, logger);
  await recoverInterruptedRuns(db.pool, logger);

  const { rows } = await db.pool.query('SELECT NOT EXISTS (SELECT FROM order_items) AS empty');
  if (options.http && rows[0].empty && config.seedOnStart && existsSync(bundledSample)) {
    logger.info({ file: bundledSample }, 'the database is empty: loading the bundled sample');
    await runRefresh(db.pool, logger, {
      file: bundledSample,
      source: path.relative(projectRoot, bundledSample),
      mode: 'append',
      trigger: 'startup',
    });
  }

  const scheduler = new RefreshScheduler({ config, pool: db.pool, databaseUrl: db.url, logger, writeLogLine: writeLine });
  await scheduler.start();

  let server: Server | undefined;
  if (options.http) {
    let refreshToken = config.refresh.token;
    if (!refreshToken) {
      refreshToken = randomBytes(24).toString('base64url');
      screen.warn({ refreshToken }, 'REFRESH_TOKEN is not set: refreshes and rejected rows take this generated token until restart');
    }
    const { version } = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8'));
    const app = createApp({ pool: db.pool, logger, config, scheduler, refreshToken, version });
    server = httpServer(app, config.http).listen(config.http.port, config.http.host, () => {
      logger.info({ url: `http://${config.http.host}:${config.http.port}`, docs: '/docs' }, 'listening');
    });
  }

  let stopping = false;
  async function shutdown(signal: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    server?.close();
    server?.closeIdleConnections();
    await scheduler.stop(config.refresh.shutdownGraceMs);
    await db.close();
    logger.info('stopped');
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      shutdown(signal).then(
        () => process.exit(0),
        (error) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
}
