// Refresh sources are named relative to DATA_DIR, and nothing outside it may be read: not an absolute path,
// not a `..` step, not a symlink that leads out.
import fs from 'node:fs/promises';
import path from 'node:path';

export class SourcePathError extends Error {
  override name = 'SourcePathError';
}

export interface ResolvedSource {
  /** The real path to read. */
  file: string;
  /** The name recorded in the run history, relative to DATA_DIR. */
  source: string;
}

export async function resolveSource(dataDir: string, name: string): Promise<ResolvedSource> {
  if (name.trim() === '' || name.includes('\0')) throw new SourcePathError('source must name a file inside DATA_DIR');
  if (path.isAbsolute(name) || path.win32.isAbsolute(name)) {
    throw new SourcePathError(`source must be a file name inside DATA_DIR, not an absolute path: ${name}`);
  }
  if (name.split(/[\\/]/).includes('..')) throw new SourcePathError(`source must not contain '..': ${name}`);
  const root = await fs.realpath(dataDir).catch(() => {
    throw new SourcePathError(`no such file in DATA_DIR: ${name} (DATA_DIR does not exist)`);
  });
  const real = await fs.realpath(path.join(root, name)).catch(() => {
    throw new SourcePathError(`no such file in DATA_DIR: ${name}`);
  });
  if (!real.startsWith(root + path.sep)) throw new SourcePathError(`source leads outside DATA_DIR: ${name}`);
  if (!(await fs.stat(real)).isFile()) throw new SourcePathError(`source is not a file: ${name}`);
  return { file: real, source: path.relative(root, path.join(root, name)) };
}

/** How a file is named in the run history: relative to DATA_DIR, never the server's absolute path. */
export function sourceName(dataDir: string, file: string): string {
  return path.relative(dataDir, path.resolve(file));
}
