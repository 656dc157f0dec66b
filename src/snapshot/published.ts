// How a version's snapshot is named once published in its database's folder (ANALYTICS_DIR/<key>/), and
// which versions a folder holds: the builds write these names, the stores read them.
import fs from 'node:fs/promises';
import path from 'node:path';

/** The file a version is published as. */
export const snapshotFile = (directory: string, version: number) => path.join(directory, `v${version}.duckdb`);

/** The names snapshotFile gives. */
const PUBLISHED = /^v(\d{1,15})\.duckdb$/;

/** The versions published in a directory, newest first. */
export async function publishedVersions(directory: string): Promise<number[]> {
  const names = await fs.readdir(directory).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  return names
    .map((name) => PUBLISHED.exec(name)?.[1])
    .filter((digits): digits is string => digits !== undefined)
    .map(Number)
    .sort((a, b) => b - a);
}
