// npm run generate -- --rows N --out FILE [--seed S] [--style standard|sample] [--extra-columns]
import { readFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { generateSales, writeSalesCsv } from '../generate/sales-generator.js';

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
let leadingRows: string[] = [];
if (options.prepend) {
  if (options.extraColumns) throw new InvalidArgumentError('--prepend works with the brief columns only');
  [, ...leadingRows] = (await readFile(options.prepend, 'utf8')).split(/\r?\n/).filter((line) => line !== '');
}
await writeSalesCsv(options.out, generateSales(options), options, leadingRows);
console.error(`wrote ${options.rows} rows to ${options.out}`);
