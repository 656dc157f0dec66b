// `npm start` as a process of its own (the compiled dist/src/cli/start.js) on a test database: what a supervisor
// runs, so that a test can kill it, cut its database away, or run two of them side by side.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './ports.js';

export const SERVICE_TOKEN = 'service-process-token-0123456789';

export interface ServiceProcess {
  url: string;
  child: ChildProcess;
  /** stdout and stderr so far: the service's JSON log lines. */
  output(): string;
  exited: Promise<[number | null, NodeJS.Signals | null]>;
  /** POST /api/v1/refreshes with the operator's token. */
  refresh(body: Record<string, unknown>): Promise<Response>;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

/** Polls `probe` every 50 ms until it answers something other than undefined. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** The readiness status, or 0 when nothing answers. */
export async function readiness(url: string): Promise<number> {
  return fetch(`${url}/ready`).then(
    (response) => response.status,
    () => 0,
  );
}

/** The liveness status, or 0 when nothing answers. */
async function liveness(url: string): Promise<number> {
  return fetch(`${url}/health`).then(
    (response) => response.status,
    () => 0,
  );
}

/**
 * Starts the service on `databaseUrl` (no schedule, no seeding) with `dataDir` as DATA_DIR; resolves once
 * /ready answers 200 (or, with `until: 'listening'`, once /health does).
 */
export async function startService(
  databaseUrl: string,
  dataDir: string,
  env: Record<string, string> = {},
  options: { until: 'ready' | 'listening' } = { until: 'ready' },
): Promise<ServiceProcess> {
  const port = await freePort();
  const logDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sales-service-logs-'));
  const { TEST_ADMIN_URL: _admin, ...inherited } = process.env;
  const child = spawn(process.execPath, ['dist/src/cli/start.js'], {
    env: {
      ...inherited,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      DATA_DIR: dataDir,
      LOG_DIR: logDir,
      LOG_LEVEL: 'info',
      SEED_ON_START: 'false',
      REFRESH_CRON: '',
      REFRESH_TOKEN: SERVICE_TOKEN,
      // Services on one data directory share its snapshots, as they share its database.
      ANALYTICS_DIR: path.join(dataDir, 'analytics'),
      ANALYTICS_THREADS: '1',
      ANALYTICS_MEMORY_MB: '256',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr!.on('data', (chunk) => {
    output += chunk;
  });
  const exited = once(child, 'exit') as ServiceProcess['exited'];
  // After the exit, the last output may still be in the pipes: 'close' comes once they are drained.
  const closed = once(child, 'close');
  exited.then(() => fs.rm(logDir, { recursive: true, force: true }));
  const url = `http://127.0.0.1:${port}`;
  const probe = options.until === 'ready' ? readiness : liveness;
  await until(`the service to be ${options.until}`, async () => {
    if (child.exitCode !== null || child.signalCode !== null) {
      await closed;
      throw new Error(`the service stopped before it was ${options.until} (${child.exitCode ?? child.signalCode}):\n${output}`);
    }
    return (await probe(url)) === 200 ? true : undefined;
  });
  return {
    url,
    child,
    output: () => output,
    exited,
    refresh: (body) =>
      fetch(`${url}/api/v1/refreshes`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${SERVICE_TOKEN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      }),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
