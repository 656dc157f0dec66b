// The rejects command as a user runs it (compiled): what a file says cannot run as a spreadsheet formula in
// the CSV, nor as terminal control sequences in the text listing; a run without rejects, or no run, is said.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { useTestDatabase } from '../../support/database.js';
import { writeFile } from '../../support/sales-files.js';

const run = promisify(execFile);

describe('npm run rejects', () => {
  const db = useTestDatabase();
  const command = (script: string, ...args: string[]) =>
    run(process.execPath, [path.resolve(`dist/src/cli/${script}.js`), ...args], {
      env: { ...process.env, DATABASE_URL: db().url },
    });
  let runId: number;

  const formula = '=HYPERLINK("http://x.example/?q=1")';
  const escapes = '\x1b[31mred\x1b[0m\x7f\u009btitle';

  before(async () => {
    const [header, valid] = (await fs.readFile('test/fixtures/brief-sample.csv', 'utf8')).split('\n');
    const file = await writeFile(`${header}\n${valid}\n${formula}\n${escapes}\n`);
    const { stdout } = await command('load', file, '--json');
    runId = JSON.parse(stdout).run.id;
  });

  it('prefixes a formula-like cell with an apostrophe in the CSV, as the API does', async () => {
    const { stdout } = await command('rejects', String(runId), '--format', 'csv');
    expect(stdout).to.equal(
      [
        'line,reasons,raw',
        `3,"expected 15 fields, found 1","'=HYPERLINK(""http://x.example/?q=1"")"`,
        `4,"expected 15 fields, found 1",${escapes}`,
        '',
      ].join('\n'),
    );
  });

  it('shows control characters escaped in the text listing', async () => {
    const { stdout } = await command('rejects', String(runId));
    expect(stdout).to.equal(
      [
        'line 3: expected 15 fields, found 1',
        `    ${formula}`,
        'line 4: expected 15 fields, found 1',
        '    \\x1b[31mred\\x1b[0m\\x7f\\x9btitle',
        '',
      ].join('\n'),
    );
  });

  it('says when a run has no rejected rows, and when there is no such run', async () => {
    const { stdout } = await command('load', 'test/fixtures/brief-sample.csv', '--json', '--mode', 'replace');
    const clean = JSON.parse(stdout).run.id;
    expect(await command('rejects', String(clean))).to.deep.include({
      stdout: '',
      stderr: `run ${clean} has no rejected rows\n`,
    });
    const unknown = await command('rejects', '999999').catch((error) => error);
    expect(unknown).to.deep.include({ code: 1, stdout: '', stderr: 'error: no run 999999\n' });
  });
});
