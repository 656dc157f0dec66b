// npm start: the database (embedded unless DATABASE_URL), migrations, the bundled sample into an empty
// database, then the HTTP server. SIGINT/SIGTERM stop it cleanly, embedded database included.
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import { readConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { createApp } from '../http/app.js';
import { createLogger } from '../logger.js';
import { bundledSample, projectRoot } from '../paths.js';
import { runRefresh } from '../refresh/refresh.js';

const config = readConfig();
const logger = createLogger(config.log.level);
const db = await openDatabase(config, logger);

const { rows } = await db.pool.query('SELECT NOT EXISTS (SELECT FROM order_items) AS empty');
if (rows[0].empty && config.seedOnStart && existsSync(bundledSample)) {
  logger.info({ file: bundledSample }, 'the database is empty: loading the bundled sample');
  await runRefresh(db.pool, logger, {
    file: bundledSample,
    source: path.relative(projectRoot, bundledSample),
    mode: 'append',
    trigger: 'startup',
  });
}

const server: Server = createApp({ pool: db.pool, logger }).listen(config.http.port, config.http.host, () => {
  logger.info({ url: `http://${config.http.host}:${config.http.port}` }, 'listening');
});

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  server.close();
  server.closeIdleConnections();
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
