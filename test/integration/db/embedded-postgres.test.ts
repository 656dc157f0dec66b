// The embedded server as the application starts it: a generated password (no trust), found by the commands
// through its data directory's postmaster.pid, and data directories of earlier versions (trust) upgraded.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import pg from 'pg';
import { type EmbeddedServer, startEmbeddedPostgres } from '../../../src/db/embedded-postgres.js';
import { freePort } from '../../support/ports.js';
import { quietLogger } from '../../support/sales-files.js';

const run = promisify(execFile);

async function query(url: string, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

/** The same server, asked without the password. */
function withoutPassword(url: string): string {
  const parsed = new URL(url);
  parsed.password = '';
  return parsed.toString();
}

describe('the embedded PostgreSQL server', () => {
  let dir: string;
  let server: EmbeddedServer | undefined;

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sales-embedded-'));
    await fs.chmod(dir, 0o755); // as root, the server's user must reach the data directory
  });
  afterEach(async () => {
    await server?.stop();
    server = undefined;
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('requires a generated password kept in its data directory (0600), and refuses a connection without it', async () => {
    const dataDir = path.join(dir, 'postgres');
    server = await startEmbeddedPostgres({ dataDir, port: await freePort(), logger: quietLogger });
    const passwordFile = path.join(dataDir, 'sales-analytics.password');
    const stat = await fs.stat(passwordFile);
    expect(stat.mode & 0o777).to.equal(0o600);
    expect(stat.uid).to.equal(process.getuid?.());
    const password = (await fs.readFile(passwordFile, 'utf8')).trim();
    expect(decodeURIComponent(new URL(server.url).password)).to.equal(password);
    expect((await query(server.url, 'SELECT 1 AS one')).rows).to.deep.equal([{ one: 1 }]);
    const refused = await query(withoutPassword(server.url), 'SELECT 1').catch((error: Error) => error);
    expect(refused).to.be.an('error');
    expect(String(refused)).to.match(/password/);
  });

  it('is found by a command through its data directory, whatever port EMBEDDED_PG_PORT names', async () => {
    const dataDir = path.join(dir, 'postgres');
    server = await startEmbeddedPostgres({ dataDir, port: await freePort(), logger: quietLogger });
    const env: NodeJS.ProcessEnv = { ...process.env, EMBEDDED_PG_DIR: dataDir, EMBEDDED_PG_PORT: String(await freePort()) };
    delete env.DATABASE_URL;
    const { stdout } = await run(process.execPath, ['dist/src/cli/load.js', 'test/fixtures/brief-sample.csv'], { env });
    expect(stdout).to.match(/^run 1 succeeded in /);
    expect((await query(server.url, 'SELECT count(*)::int AS lines FROM order_items')).rows).to.deep.equal([{ lines: 6 }]);
  });

  it('upgrades a data directory initialised with trust authentication: password required, data kept', async () => {
    const dataDir = path.join(dir, 'postgres');
    const { initdb, pg_ctl: pgCtl } = await import(`@embedded-postgres/${os.platform()}-${os.arch()}`);
    const user =
      process.getuid?.() === 0
        ? { uid: Number((await run('id', ['-u', 'postgres'])).stdout), gid: Number((await run('id', ['-g', 'postgres'])).stdout) }
        : {};
    // As an earlier version left it: initialised with trust, a table written, stopped.
    await fs.mkdir(dataDir, { mode: 0o700 });
    await fs.chown(dataDir, user.uid ?? process.getuid!(), user.gid ?? process.getgid!());
    await run(initdb, ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C'], user);
    const port = await freePort();
    const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''`;
    await run(pgCtl, ['start', '-D', dataDir, '-w', '-l', path.join(dataDir, 'server.log'), '-o', options], user);
    await query(`postgres://postgres@127.0.0.1:${port}/postgres`, "CREATE TABLE kept AS SELECT 'before the upgrade' AS note");
    await run(pgCtl, ['stop', '-D', dataDir, '-m', 'fast', '-w'], user);

    server = await startEmbeddedPostgres({ dataDir, port, logger: quietLogger });
    expect((await query(server.url, 'SELECT note FROM kept')).rows).to.deep.equal([{ note: 'before the upgrade' }]);
    const refused = await query(withoutPassword(server.url), 'SELECT 1').catch((error: Error) => error);
    expect(String(refused)).to.match(/password/);
    expect((await fs.stat(path.join(dataDir, 'sales-analytics.password'))).mode & 0o777).to.equal(0o600);
    expect(await fs.readFile(path.join(dataDir, 'pg_hba.conf'), 'utf8')).not.to.match(/\btrust\b/);
  });
});
