// PostgreSQL clusters of our own from Debian's binaries, for tests that need a real streaming replica: a
// primary (wal_level=replica) and replicas made from it with `pg_basebackup -R`, each on a free port in a
// temporary directory. As root they run as the postgres user, who owns that directory (PostgreSQL refuses root).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './ports.js';

const run = promisify(execFile);

/** Debian's PostgreSQL 15 server binaries (the postgresql-15 package); CI installs them. */
export const DEBIAN_BIN = '/usr/lib/postgresql/15/bin';

export interface PgCluster {
  port: number;
  dataDir: string;
  /** A URL of this cluster: the postgres database, or the one named. */
  url(database?: string): string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Stops the cluster and removes its directory. */
  remove(): Promise<void>;
}

const asRoot = process.getuid?.() === 0;

/** Runs a PostgreSQL binary, as the postgres user when we are root. */
async function pgBinary(name: string, args: string[]): Promise<string> {
  const binary = path.join(DEBIAN_BIN, name);
  if (!existsSync(binary)) {
    throw new Error(`${binary} is missing: install Debian's postgresql-15 package to run the replica tests`);
  }
  const [file, fileArgs] = asRoot ? ['runuser', ['-u', 'postgres', '--', binary, ...args]] : [binary, args];
  try {
    return (await run(file, fileArgs, { cwd: '/' })).stdout;
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(`${name} ${args.join(' ')} failed: ${stderr?.trim() || (error as Error).message}`);
  }
}

/** A directory the server's user owns, under the temporary directory. */
async function serverDirectory(prefix: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  if (asRoot) {
    const id = async (flag: string) => Number((await run('id', [flag, 'postgres'])).stdout);
    await fs.chown(dir, await id('-u'), await id('-g'));
  }
  await fs.chmod(dir, 0o700);
  return dir;
}

/**
 * What a test cluster trades for speed: no fsync (its data is thrown away). Commits stay synchronous: a
 * commit's WAL is then written when it returns, so replayed() below, which waits for the primary's WAL
 * position, waits for that commit.
 */
const SERVER_OPTIONS = [
  '-c listen_addresses=127.0.0.1',
  "-c unix_socket_directories=''",
  '-c wal_level=replica',
  '-c max_wal_senders=10',
  '-c fsync=off',
  '-c full_page_writes=off',
  // A replica's query is not cancelled because the primary vacuumed rows it still reads.
  '-c hot_standby_feedback=on',
  // WAL kept whatever the slots say: two backups at once each ask for a checkpoint, and one of them could
  // recycle a segment the other has yet to stream before its slot holds it.
  '-c wal_keep_size=256MB',
];

function cluster(dataDir: string, port: number): PgCluster {
  let running = false;
  const self: PgCluster = {
    port,
    dataDir,
    url: (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`,
    async start() {
      if (running) return;
      const options = [`-p ${port}`, ...SERVER_OPTIONS].join(' ');
      await pgBinary('pg_ctl', ['start', '-D', dataDir, '-w', '-t', '60', '-l', path.join(dataDir, 'server.log'), '-o', options]);
      running = true;
    },
    async stop() {
      if (!running) return;
      await pgBinary('pg_ctl', ['stop', '-D', dataDir, '-m', 'immediate', '-w']);
      running = false;
    },
    async remove() {
      await self.stop();
      await fs.rm(path.dirname(dataDir), { recursive: true, force: true });
    },
  };
  return self;
}

/** A new primary, started, trusting connections from 127.0.0.1 (replication included: initdb's default). */
export async function startPrimary(): Promise<PgCluster> {
  const dataDir = path.join(await serverDirectory('sales-primary-'), 'data');
  await pgBinary('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C']);
  const primary = cluster(dataDir, await freePort());
  await primary.start();
  return primary;
}

/**
 * A streaming replica of `primary`: `pg_basebackup -R` writes standby.signal and primary_conninfo, and its
 * own replication slot (-C -S) keeps the WAL it still needs on the primary (two backups at once, or a
 * replica stopped for a while, would otherwise find a segment already recycled).
 */
export async function startReplica(primary: PgCluster): Promise<PgCluster> {
  const dataDir = path.join(await serverDirectory('sales-replica-'), 'data');
  const slot = `replica_${randomBytes(6).toString('hex')}`;
  const backup = pgBinary('pg_basebackup', [
    '-C',
    '-S',
    slot,
    '-h',
    '127.0.0.1',
    '-p',
    String(primary.port),
    '-U',
    'postgres',
    '-D',
    dataDir,
    '-R',
    '-X',
    'stream',
    '-c',
    'fast',
  ]);
  await backup.catch(async (error) => {
    await fs.rm(path.dirname(dataDir), { recursive: true, force: true });
    throw error;
  });
  const replica = cluster(dataDir, await freePort());
  await replica.start();
  return replica;
}

/**
 * Waits until `replica` has replayed all the WAL `primary` had written when asked: everything committed
 * before the call is then visible there. Polls the replay position, never a fixed sleep.
 */
export async function replayed(primaryUrl: string, replicaUrl: string, timeoutMs = 30_000): Promise<void> {
  const query = async (url: string, sql: string, params: unknown[] = []) => {
    const client = new pg.Client(url);
    await client.connect();
    try {
      return (await client.query(sql, params)).rows[0];
    } finally {
      await client.end();
    }
  };
  const { lsn } = await query(primaryUrl, 'SELECT pg_current_wal_lsn()::text AS lsn');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { done } = await query(replicaUrl, 'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS done', [lsn]);
    if (done) return;
    if (Date.now() > deadline) throw new Error(`the replica has not replayed ${lsn} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
