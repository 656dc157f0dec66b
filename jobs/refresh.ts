// The refresh job. Bree runs it in a worker thread, on the schedule or for a run the API queued; it opens its
// own small pool, runs the one refresh function every trigger shares, and reports back to the main thread.
// Its log lines go to the main thread too, which writes them where its own go (stdout and the log file).
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { createPool } from '../src/db/pool.js';
import { createForwardingLogger } from '../src/logger.js';
import { runRefresh } from '../src/refresh/refresh.js';
import type { RefreshJobData, RefreshJobMessage } from '../src/refresh/scheduler.js';

if (!parentPort) throw new Error('jobs/refresh runs in a worker thread (Bree), not on its own');
const port = parentPort;
const data = workerData as RefreshJobData;
const post = (message: RefreshJobMessage) => port.postMessage(message);

const logger = createForwardingLogger(data.logLevel, (line) => post({ log: line })).child({ job: 'refresh' });
const cancel = new AbortController();
// Bree sends 'cancel' when the scheduler stops (SIGTERM past the grace period): roll the load back.
port.on('message', (message) => {
  if (message === 'cancel') cancel.abort('the service is shutting down');
});

// This thread's heap each second, for the metrics: a load is bounded by it, not by the server's.
const HEAP_EVERY_MS = 1000;
const postHeap = () => {
  const { used_heap_size: used, heap_size_limit: limit } = getHeapStatistics();
  post({ heap: { used, limit } });
};
postHeap();
const heapTimer = setInterval(postHeap, HEAP_EVERY_MS);

const pool = createPool(data.databaseUrl, 3);
pool.on('error', (error) => logger.error({ err: error }, 'idle database connection failed'));
try {
  const { run } = await runRefresh(pool, logger, { ...data.request, signal: cancel.signal });
  post({ finished: run });
} catch (error) {
  logger.error({ err: error }, 'refresh job failed');
  post({ failed: (error as Error).message });
} finally {
  clearInterval(heapTimer);
  await pool.end();
  port.postMessage('done');
}
