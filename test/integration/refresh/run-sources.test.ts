// The run history is public (GET /api/v1/refreshes): it names sources relative to DATA_DIR and its error texts
// never show where DATA_DIR is on the server.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { runRefresh } from '../../../src/refresh/refresh.js';
import { getRun } from '../../../src/refresh/runs.js';
import { useTestDatabase } from '../../support/database.js';
import { quietLogger } from '../../support/sales-files.js';

const run = promisify(execFile);

describe('sources and errors in the run history', () => {
  const db = useTestDatabase();
  let dir: string;

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sales-sources-'));
    await fs.mkdir(path.join(dir, 'data', 'exports'), { recursive: true });
    await fs.copyFile('test/fixtures/brief-sample.csv', path.join(dir, 'data', 'exports', 'sales.csv'));
    await fs.copyFile('test/fixtures/brief-sample.csv', path.join(dir, 'outside.csv'));
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  async function loadCommand(file: string): Promise<string> {
    const env = { ...process.env, DATABASE_URL: db().url, DATA_DIR: path.join(dir, 'data'), ANALYTICS_DIR: db().analyticsDir };
    const { stdout } = await run(process.execPath, [path.resolve('dist/src/cli/load.js'), file, '--json'], { env, cwd: dir });
    return JSON.parse(stdout).run.source;
  }

  it('npm run load records the file relative to DATA_DIR', async () => {
    expect(await loadCommand('data/exports/sales.csv')).to.equal('exports/sales.csv');
    expect(await loadCommand(path.join(dir, 'outside.csv'))).to.equal('../outside.csv');
  });

  it("a failed run's error names the file by its source, not by its path on the server", async () => {
    const { run: failed } = await runRefresh(db().pool, quietLogger, {
      file: path.join(dir, 'data', 'exports'),
      source: 'exports',
      mode: 'append',
      trigger: 'api',
    });
    expect(failed).to.include({ status: 'failed', error: 'exports is not a file' });
    expect((await getRun(db().pool, failed.id))?.error).to.equal('exports is not a file');
  });
});
