// The snapshot build in a process of its own, for a loading process: DuckDB's memory (its buffers, its sort)
// is then not added to what the load's heap keeps, and DuckDB's library is not even loaded into the loader.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { snapshotBuildFile } from '../paths.js';
import type { BuiltSnapshot, SnapshotLimits } from './build.js';

const run = promisify(execFile);

/**
 * Builds and publishes the snapshot in build-process.ts; fails with the build's own error message. Aborting
 * ends the build (nothing is published); so does this process ending, however it ends (the child watches
 * its standard input, which closes with this process).
 */
export async function buildSnapshotApart(
  databaseUrl: string,
  directory: string,
  limits: SnapshotLimits,
  signal?: AbortSignal,
): Promise<BuiltSnapshot> {
  const { stdout } = await run(process.execPath, [snapshotBuildFile], {
    env: { ...process.env, SNAPSHOT_BUILD: JSON.stringify({ databaseUrl, directory, limits }) },
    maxBuffer: 1 << 20,
    signal,
  }).catch((error: { stderr?: string; signal?: string | null; message: string }) => {
    signal?.throwIfAborted();
    const reason = error.signal
      ? `its process was killed (${error.signal})`
      : error.stderr?.trim().split('\n').at(-1) || error.message;
    // The run's error is public: the folder is named by its setting, not by its path on this machine.
    throw new Error(`the analytics snapshot could not be built: ${reason.replaceAll(directory, 'ANALYTICS_DIR')}`);
  });
  return JSON.parse(stdout) as BuiltSnapshot;
}
