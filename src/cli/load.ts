// npm run load -- FILE [--mode append|replace] [--format csv|json|ndjson]: an ad-hoc load with a progress bar.
import path from 'node:path';
import { SingleBar } from 'cli-progress';
import { Command, Option } from 'commander';
import { type SourceFormat, statFile } from '../load/1-bytes/file.js';
import type { LoadMode } from '../load/index.js';
import { runRefresh } from '../refresh/refresh.js';
import { sourceName } from '../refresh/source-path.js';
import { runCommand } from './command.js';

const program = new Command('load')
  .description('Load a sales file (CSV, JSON array or NDJSON) into the database, atomically.')
  .argument('<file>', 'the file to load')
  .addOption(
    new Option('--mode <mode>', 'append: add and update; replace: hold exactly this file')
      .choices(['append', 'replace'])
      .default('append'),
  )
  .addOption(
    new Option('--format <format>', 'input format (default: by extension, then by content)').choices(['csv', 'json', 'ndjson']),
  )
  .option('--json', 'print the outcome as one JSON object (for scripts)', false)
  .parse();

const [file] = program.args;
const options = program.opts<{ mode: LoadMode; format?: SourceFormat; json: boolean }>();

function megabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

await runCommand(async ({ config, db, logger, stopSignal }) => {
  // A mistyped name is the user's slip, not a failed load: say so before any run is recorded.
  await statFile(file);
  const bar =
    process.stderr.isTTY && !options.json
      ? new SingleBar({
          format: '{phase} [{bar}] {percentage}% | {read}/{size} MB | {rows} rows | {rate} rows/s | ETA {eta_formatted}',
          hideCursor: true,
          stream: process.stderr,
        })
      : undefined;
  const started = Date.now();
  bar?.start(1, 0, { phase: 'preparing', read: '0.0', size: '?', rows: 0, rate: 0 });
  const outcome = await runRefresh(db.pool, logger, {
    file: path.resolve(file),
    source: sourceName(config.dataDir, file),
    mode: options.mode,
    format: options.format,
    trigger: 'cli',
    analytics: config.analytics,
    signal: stopSignal,
    onProgress: (p) => {
      const seconds = (Date.now() - started) / 1000;
      bar?.setTotal(p.bytesTotal || 1);
      bar?.update(p.bytesRead, {
        // Reading ends at 100%; what follows can take as long again: say what it is doing.
        phase: p.phase === 'applying' && p.step ? `applying: ${p.step}` : p.phase,
        read: megabytes(p.bytesRead),
        size: megabytes(p.bytesTotal),
        rows: p.rowsRead,
        rate: Math.round(p.rowsRead / Math.max(seconds, 0.001)),
      });
    },
  });
  bar?.stop();
  const { run, result, committed } = outcome;
  const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  if (options.json) {
    console.log(JSON.stringify({ run, durationMs: result?.durationMs, peakRssMb }));
    return result ? 0 : 1;
  }
  if (!result) {
    console.error(`load failed (run ${run.id}): ${run.error}${committed === undefined ? '\nNothing was changed.' : ''}`);
    return 1;
  }
  const { counts } = result;
  const seconds = result.durationMs / 1000;
  console.log(
    [
      `run ${run.id} succeeded in ${seconds.toFixed(1)} s (${Math.round(counts.read / Math.max(seconds, 0.001))} rows/s, peak memory ${peakRssMb} MB), mode ${options.mode}`,
      `  read        ${counts.read}`,
      `  inserted    ${counts.inserted}`,
      `  updated     ${counts.updated}`,
      `  unchanged   ${counts.unchanged}`,
      `  duplicates  ${counts.duplicates}`,
      `  rejected    ${counts.rejected}${counts.rejected > 0 ? `   (list them: npm run rejects -- ${run.id})` : ''}`,
      ...(options.mode === 'replace' ? [`  deleted     ${counts.deleted}`] : []),
    ].join('\n'),
  );
  return 0;
});
