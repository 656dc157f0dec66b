// Locations inside the project, valid both from src/ (tsx) and from the compiled dist/src/.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findProjectRoot(start: string): string {
  let dir = start;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${start}`);
    dir = parent;
  }
  return dir;
}

export const projectRoot = findProjectRoot(path.dirname(fileURLToPath(import.meta.url)));
export const migrationsDir = path.join(projectRoot, 'migrations');
/** The sample that `npm start` loads into an empty database. */
export const bundledSample = path.join(projectRoot, 'data', 'samples', 'sales-sample.csv');
/** The compiled refresh job that Bree runs in a worker thread (built by `npm run build`, also before tests). */
export const refreshJobFile = path.join(projectRoot, 'dist', 'jobs', 'refresh.js');
/** The compiled snapshot build that a loading process runs as a process of its own. */
export const snapshotBuildFile = path.join(projectRoot, 'dist', 'src', 'snapshot', 'build-process.js');
