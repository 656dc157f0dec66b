// npm run generate -- --rows N --out FILE [--seed S] [--style standard|sample] [--extra-columns]

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { generateSales, salesCsvLine, salesHeader } from '../generate/sales-generator.js';

function positiveInteger(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('must be a positive integer');
  return Number(value);
}

const program = new Command('generate')
  .description('Write deterministic, realistic sales data as CSV')
  .requiredOption('--rows <n>', 'number of order lines', positiveInteger)
  .requiredOption('--out <file>', 'output file')
  .option('--seed <n>', 'random seed: the same seed writes the same file', positiveInteger, 1)
  .addOption(
    new Option('--style <style>', 'sample: bare-comma addresses like the brief')
      .choices(['standard', 'sample'])
      .default('standard'),
  )
  .option('--extra-columns', 'add Unit Cost and two columns kept as attributes', false)
  .option('--prepend <file>', 'a CSV whose data rows go first (same header), e.g. the brief sample')
  .parse();

const options = program.opts<{
  rows: number;
  out: string;
  seed: number;
  style: 'standard' | 'sample';
  extraColumns: boolean;
  prepend?: string;
}>();
const out = createWriteStream(options.out);
out.write(`${salesHeader(options.extraColumns).join(',')}\n`);
if (options.prepend) {
  const { readFile } = await import('node:fs/promises');
  const [, ...lines] = (await readFile(options.prepend, 'utf8')).split(/\r?\n/).filter((line) => line !== '');
  if (options.extraColumns) throw new InvalidArgumentError('--prepend works with the brief columns only');
  out.write(`${lines.join('\n')}\n`);
}
let text = '';
for (const line of generateSales(options)) {
  text += salesCsvLine(line, options);
  if (text.length > 1 << 20) {
    if (!out.write(text)) await once(out, 'drain');
    text = '';
  }
}
out.end(text);
await once(out, 'finish');
console.error(`wrote ${options.rows} rows to ${options.out}`);
