// The load command as a user runs it (compiled, as `npm run load` does; `npm test` builds first).
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { useTestDatabase } from '../../support/database.js';

const run = promisify(execFile);
const LOAD = path.resolve('dist/src/cli/load.js');

describe('npm run load', () => {
  const db = useTestDatabase();

  const load = (...args: string[]) => run(process.execPath, [LOAD, ...args], { env: { ...process.env, DATABASE_URL: db().url } });

  it('prints a summary of the counts and exits 0', async () => {
    const { stdout } = await load('test/fixtures/brief-sample.csv');
    expect(stdout).to.match(/^run \d+ succeeded in /);
    expect(stdout)
      .to.match(/ read +6\n/)
      .and.match(/ inserted +6\n/)
      .and.match(/ rejected +0\n?/);
  });

  it('prints one JSON object with --json', async () => {
    const { stdout } = await load('test/fixtures/brief-sample.csv', '--json');
    const outcome = JSON.parse(stdout);
    expect(outcome.run).to.include({ status: 'succeeded', trigger: 'cli', mode: 'append' });
    expect(outcome.run.counts).to.include({ read: 6, unchanged: 6 });
  });

  it('exits 1 with a plain message when the load fails, and changes nothing', async () => {
    const failure = await load('test/fixtures/brief-sample.csv', '--format', 'json').catch((error) => error);
    expect(failure.code).to.equal(1);
    expect(failure.stderr).to.match(/^load failed \(run \d+\): not a valid JSON array of objects: .*\nNothing was changed\.\n$/);
  });

  it('says a file it cannot read is missing, without recording a run', async () => {
    const runs = async () => (await db().pool.query('SELECT count(*)::int AS n FROM refresh_runs')).rows[0].n;
    const before = await runs();
    const failure = await load('nope.csv').catch((error) => error);
    expect(failure.code).to.equal(1);
    expect(failure.stderr).to.equal('error: cannot read nope.csv: no such file\n');
    expect(await runs()).to.equal(before);
  });

  it('refuses an unknown mode before touching the database', async () => {
    const failure = await load('test/fixtures/brief-sample.csv', '--mode', 'upsert').catch((error) => error);
    expect(failure.code).to.equal(1);
    expect(failure.stderr).to.contain("argument 'upsert' is invalid. Allowed choices are append, replace.");
  });
});
