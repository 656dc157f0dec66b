// npm run rejects -- RUN_ID [--format text|csv]: the rows a load refused, with line numbers and every reason.

import { Command, Option } from 'commander';
import { stringify } from 'csv-stringify/sync';
import { csvCell } from '../csv-cell.js';
import { getRun, rejectsOf } from '../refresh/runs.js';
import { runCommand } from './command.js';
import { terminalSafe } from './terminal-text.js';

const program = new Command('rejects')
  .description('List the rejected rows of a load')
  .argument('<run-id>', 'the run id printed by the load')
  .addOption(new Option('--format <format>', 'text for reading, csv to hand back').choices(['text', 'csv']).default('text'))
  .parse();

const runId = Number(program.args[0]);
const { format } = program.opts<{ format: 'text' | 'csv' }>();

await runCommand(async ({ db }) => {
  if (!Number.isSafeInteger(runId) || runId < 1) throw new Error(`'${program.args[0]}' is not a run id`);
  const run = await getRun(db.pool, runId);
  if (!run) throw new Error(`no run ${runId}`);
  if (format === 'csv') process.stdout.write(stringify([['line', 'reasons', 'raw']]));
  let listed = 0;
  for await (const reject of rejectsOf(db.pool, runId)) {
    listed++;
    if (format === 'csv') process.stdout.write(stringify([[reject.line, reject.reasons, reject.raw].map(csvCell)]));
    else console.log(terminalSafe(`line ${reject.line}: ${reject.reasons.join('; ')}\n    ${reject.raw}`));
  }
  if (listed === 0) console.error(`run ${runId} has no rejected rows`);
  return 0;
});
