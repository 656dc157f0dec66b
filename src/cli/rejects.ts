// npm run rejects -- RUN_ID [--format text|csv]: the rows a load refused, with line numbers and every reason.

import { Command, Option } from 'commander';
import { stringify } from 'csv-stringify/sync';
import { getRun, listRejects } from '../refresh/runs.js';
import { runCommand } from './command.js';

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
  const pageSize = 10_000;
  for (let offset = 0; ; offset += pageSize) {
    const { items } = await listRejects(db.pool, runId, { limit: pageSize, offset });
    for (const reject of items) {
      if (format === 'csv') process.stdout.write(stringify([[reject.line, reject.reasons.join('; '), reject.raw]]));
      else console.log(`line ${reject.line}: ${reject.reasons.join('; ')}\n    ${reject.raw}`);
    }
    if (items.length < pageSize) break;
  }
  return 0;
});
