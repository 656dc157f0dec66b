// One folder for the files a test process writes (sales-files.ts), removed by the run's global teardown.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

let folder: Promise<string> | undefined;

/** The process's folder of test files, made on first use. */
export function testFilesFolder(): Promise<string> {
  folder ??= fs.mkdtemp(path.join(os.tmpdir(), 'sales-test-'));
  return folder;
}

/** Removes the folder and every file in it. */
export async function removeTestFiles(): Promise<void> {
  if (folder) await fs.rm(await folder, { recursive: true, force: true });
}
