// A process's own working directory: a load's (the parts of a large file, about twice the file's size) and a
// snapshot build's (the record's copy and the file being built). Its process removes it whatever the outcome;
// a process killed midway (SIGKILL, a crash, a power cut) cannot, so each directory names its owner, and the
// next one of its kind removes those whose owner is gone: repeated kills would otherwise fill the disk.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** The owner of a directory: the host's name, then the process id, a line each. */
const OWNER_FILE = 'owner';

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether a directory was left by a process of this host that no longer runs. A directory without an
 * owner file is kept: its load may have created it an instant ago, or it belongs to an older version. One of
 * another host (a temporary directory shared between machines or containers) is kept: its process ids are not ours.
 */
async function isAbandoned(directory: string): Promise<boolean> {
  const owner = await readFile(path.join(directory, OWNER_FILE), 'utf8').catch(() => undefined);
  if (owner === undefined) return false;
  const [host, pid] = owner.split('\n');
  return host === os.hostname() && /^\d+$/.test(pid) && Number(pid) !== process.pid && !isRunning(Number(pid));
}

/** Removes the abandoned `prefix*` directories under `parent`; one that cannot be read or removed is left as it is. */
export async function removeAbandonedDirectories(parent: string, prefix: string): Promise<string[]> {
  const entries = await readdir(parent, { withFileTypes: true }).catch(() => []);
  const removed: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || !entry.name.startsWith(prefix)) continue;
    const directory = path.join(parent, entry.name);
    if (!(await isAbandoned(directory))) continue;
    await rm(directory, { recursive: true, force: true }).then(
      () => removed.push(directory),
      () => {},
    );
  }
  return removed;
}

/** Creates a `prefix*` directory under `parent`, owned by this process, after removing abandoned ones. */
export async function createOwnedDirectory(parent: string, prefix: string): Promise<string> {
  await removeAbandonedDirectories(parent, prefix);
  const directory = await mkdtemp(path.join(parent, prefix));
  await writeFile(path.join(directory, OWNER_FILE), `${os.hostname()}\n${process.pid}\n`);
  return directory;
}
