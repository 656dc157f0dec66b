// The snapshot build in a process of its own, started by the loading process once its load has committed:
// DuckDB's memory (its buffers, its sort) is then not added to what the loader's heap keeps, and each process
// keeps its own bound. Reads what to build from SNAPSHOT_BUILD (JSON), prints the published snapshot as JSON.
import { createPool } from '../db/pool.js';
import { buildSnapshot, type SnapshotLimits } from './build.js';

const { databaseUrl, directory, limits } = JSON.parse(process.env.SNAPSHOT_BUILD ?? '{}') as {
  databaseUrl: string;
  directory: string;
  limits: SnapshotLimits;
};
// The loading process holds our standard input open: when it ends, killed or not, so does this build.
process.stdin.on('end', () => process.exit(1));
process.stdin.resume();
const pool = createPool(databaseUrl, 1);
try {
  process.stdout.write(JSON.stringify(await buildSnapshot(pool, directory, limits)));
  process.exitCode = 0;
} catch (error) {
  // The cause, as one line for the run's error: the last line this process writes.
  process.stderr.write(`${(error as Error).message.replaceAll('\n', ' ')}\n`);
  process.exitCode = 1;
} finally {
  await pool.end();
}
process.exit();
