// npm run refresh -- [--source FILE] [--mode append|replace] [--force]: the refresh the schedule runs, now,
// from the command line (trigger `cli`). Logs like the service (stdout and LOG_DIR); exit code 1 if it failed.
import { Command, Option } from 'commander';
import type { LoadMode } from '../load/index.js';
import { runRefresh } from '../refresh/refresh.js';
import { resolveSource } from '../refresh/source-path.js';
import { runCommand } from './command.js';

const program = new Command('refresh')
  .description('Refresh the database from a file in DATA_DIR, as the schedule does (skipped when the file is unchanged).')
  .option('--source <file>', 'a file inside DATA_DIR (default: REFRESH_SOURCE)')
  .addOption(new Option('--mode <mode>', 'append or replace (default: REFRESH_MODE)').choices(['append', 'replace']))
  .option('--force', 'load even when the file is identical to the last loaded one', false)
  .parse();

const options = program.opts<{ source?: string; mode?: LoadMode; force: boolean }>();

await runCommand(
  async ({ config, db, logger, stopSignal }) => {
    const { file, source } = await resolveSource(config.dataDir, options.source ?? config.refresh.source);
    const { run } = await runRefresh(db.pool, logger, {
      file,
      source,
      mode: options.mode ?? config.refresh.mode,
      trigger: 'cli',
      analytics: config.analytics,
      skipUnchanged: !options.force,
      signal: stopSignal,
    });
    console.error(`run ${run.id} ${run.status}${run.error ? `: ${run.error}` : ''}`);
    return run.status === 'failed' ? 1 : 0;
  },
  { logToFile: true },
);
