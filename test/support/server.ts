// The HTTP app on a real port over a test database, with a real refresh scheduler (its Bree workers run the
// compiled job, so `npm test` builds first). Worker log lines are kept for assertions.
import fs from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { readConfig } from '../../src/config.js';
import { ReadRouter } from '../../src/db/read-pool.js';
import { createApp } from '../../src/http/app.js';
import { httpServer } from '../../src/http/server.js';
import { RefreshScheduler } from '../../src/refresh/scheduler.js';
import { SnapshotStore } from '../../src/snapshot/store.js';
import type { TestDatabase } from './database.js';
import { replicaPassAnswers } from './global-database.js';
import { startPrismJudge } from './prism-judge.js';
import { quietLogger } from './sales-files.js';

export const TEST_TOKEN = 'test-token-0123456789';

export interface TestServer {
  /** Where the tests send their requests: the server, or in the Prism pass the judge in front of it. */
  url: string;
  /** The server itself, for the tests of its connections (timeouts, limits, Host), which a proxy would change. */
  origin: string;
  dataDir: string;
  scheduler: RefreshScheduler;
  reads: ReadRouter;
  /** Lines the refresh workers logged. */
  workerLog: string[];
  close(): Promise<void>;
}

export async function startTestServer(db: TestDatabase, env: Record<string, string> = {}): Promise<TestServer> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sales-data-'));
  // In the replica pass, answers are read from the test database's copy on the replica.
  const replica = db.replicaUrl ? { DATABASE_URL: db.url, DATABASE_READ_URLS: db.replicaUrl } : {};
  const config = readConfig({
    DATA_DIR: dataDir,
    REFRESH_CRON: '',
    LOG_LEVEL: 'info',
    ANALYTICS_DIR: db.analyticsDir,
    ANALYTICS_THREADS: '1',
    ANALYTICS_MEMORY_MB: '256',
    ...replica,
    ...env,
  });
  const workerLog: string[] = [];
  const scheduler = new RefreshScheduler({
    config,
    pool: db.pool,
    databaseUrl: db.url,
    logger: quietLogger,
    writeLogLine: (line) => workerLog.push(line),
  });
  await scheduler.start();
  const reads = new ReadRouter({ pool: db.pool, url: db.url }, config.readReplicaUrls, quietLogger);
  const follower = config.readReplicaUrls.length > 0 ? { reads, logger: quietLogger } : undefined;
  const options = { follower, primary: { pool: db.pool, url: db.url, logger: quietLogger } };
  // A server over a database that does not answer has no folder of its own: its analytics answer 503.
  const snapshots = await SnapshotStore.forDatabase(db.pool, config.analytics.directory, config.analytics.limits, options).catch(
    () => new SnapshotStore(path.join(config.analytics.directory, 'unreachable'), config.analytics.limits, options),
  );
  // As npm start does, but before listening, so that a test starts from a ready server; a server over a
  // database that does not answer starts without one (its analytics: 503).
  await snapshots.catchUp();
  const app = createApp({ pool: db.pool, reads, snapshots, logger: quietLogger, config, scheduler, refreshToken: TEST_TOKEN });
  const server: Server = await new Promise((resolve) => {
    const listening = httpServer(app, config.http).listen(0, '127.0.0.1', () => resolve(listening));
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  // npm run test:prism: every request through a Prism proxy that judges it and its answer by the document.
  // Servers set up for the tests of connections ask themselves: one answering only ALLOWED_HOSTS would refuse
  // the proxy's Host, and the proxy's own connections would count against HTTP_MAX_CONNECTIONS.
  const ofConnections = env.ALLOWED_HOSTS !== undefined || env.HTTP_MAX_CONNECTIONS !== undefined;
  const judge = process.env.TEST_PRISM && !ofConnections ? await startPrismJudge(origin) : undefined;
  return {
    url: judge?.url ?? origin,
    origin,
    dataDir,
    scheduler,
    reads,
    workerLog,
    async close() {
      await judge?.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await scheduler.stop(0);
      await reads.close();
      await snapshots.close();
      replicaPassAnswers.primary += reads.primary.answered;
      for (const replica of reads.replicas) replicaPassAnswers.replica += replica.answered;
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls a run until it has finished. */
export async function finishedRun(baseUrl: string, id: number, timeoutMs = 60_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await (await fetch(`${baseUrl}/api/v1/refreshes/${id}`)).json();
    if (!['queued', 'running'].includes(run.status)) return run;
    if (Date.now() > deadline) throw new Error(`run ${id} still ${run.status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
