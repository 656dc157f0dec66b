// `npm start` and `npm run refresh` as an operator runs them (compiled): logs on stdout and in LOG_DIR, a
// generated refresh token logged once, a clean stop on SIGTERM.
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { useTestDatabase } from '../../support/database.js';

const run = promisify(execFile);

describe('the service and the refresh command', () => {
  const db = useTestDatabase();
  let dir: string;

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sales-service-'));
    await fs.mkdir(path.join(dir, 'data'));
    await fs.copyFile('test/fixtures/brief-sample.csv', path.join(dir, 'data', 'sales.csv'));
    // A log file as earlier versions left it: world-readable.
    await fs.mkdir(path.join(dir, 'logs'));
    await fs.writeFile(path.join(dir, 'logs', 'sales-analytics.1.log'), '{"msg":"an earlier line"}\n', { mode: 0o644 });
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  const env = (extra: Record<string, string> = {}) => ({
    ...process.env,
    DATABASE_URL: db().url,
    DATA_DIR: path.join(dir, 'data'),
    ANALYTICS_DIR: path.join(dir, 'analytics'),
    LOG_DIR: path.join(dir, 'logs'),
    LOG_LEVEL: 'info',
    ...extra,
  });

  async function logFile(): Promise<Record<string, unknown>[]> {
    const [file] = await fs.readdir(path.join(dir, 'logs'));
    const text = await fs.readFile(path.join(dir, 'logs', file), 'utf8');
    return text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
  }

  it('npm run refresh loads REFRESH_SOURCE, logs each step with the run id to stdout and to LOG_DIR (files 0600)', async () => {
    const { stdout, stderr } = await run(process.execPath, ['dist/src/cli/refresh.js'], { env: env() });
    const [, id] = /^run (\d+) succeeded\n$/.exec(stderr) ?? [];
    expect(id, stderr).to.be.a('string');
    const logged = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(logged.filter((line) => line.runId === Number(id)).map((line) => line.msg)).to.include.members([
      'refresh started',
      'refresh succeeded',
    ]);
    const filed = await logFile();
    expect(filed.find((line) => line.msg === 'refresh succeeded')).to.include({ runId: Number(id) });
    for (const file of await fs.readdir(path.join(dir, 'logs'))) {
      expect((await fs.stat(path.join(dir, 'logs', file))).mode & 0o777, file).to.equal(0o600);
    }

    const again = await run(process.execPath, ['dist/src/cli/refresh.js'], { env: env() });
    expect(again.stderr).to.match(/^run \d+ skipped: the source is identical to the one run \d+ loaded/);
  });

  it('npm start serves, prints a generated refresh token once on stdout (not in LOG_DIR), and stops cleanly on SIGTERM', async () => {
    const port = String(41_000 + (process.pid % 1000));
    const child = spawn(process.execPath, ['dist/src/cli/start.js'], {
      env: env({ PORT: port, REFRESH_TOKEN: '', SEED_ON_START: 'false' }),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    const exited = once(child, 'exit');
    const deadline = Date.now() + 30_000;
    while (!output.includes('"msg":"listening"')) {
      if (Date.now() > deadline) throw new Error(`the server did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const lines = () =>
      output
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
    const tokenLines = lines().filter((line) => line.refreshToken);
    expect(tokenLines).to.have.length(1);
    const token = tokenLines[0].refreshToken as string;
    expect(token).to.match(/^[\w-]{32}$/);

    const ready = await fetch(`http://127.0.0.1:${port}/ready`);
    expect(ready.status).to.equal(200);
    const refresh = await fetch(`http://127.0.0.1:${port}/api/v1/refreshes`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ force: true }),
    });
    expect(refresh.status).to.equal(202);
    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).to.equal(0);
    expect(lines().map((line) => line.msg)).to.include.members(['shutting down', 'stopped']);
    const access = lines().find((line) => line.req?.method === 'POST');
    expect(access).to.deep.include({
      req: { id: access?.req.id, method: 'POST', url: '/api/v1/refreshes', remoteAddress: '127.0.0.1' },
    });
    expect(JSON.stringify(access)).not.to.contain(token);
    // Shown once on stdout, never kept in the rotated log files.
    const filed = await logFile();
    expect(filed.map((line) => line.msg)).to.include('listening');
    expect(JSON.stringify(filed)).not.to.contain(token);
  });
});
