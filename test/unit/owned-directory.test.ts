// A working directory (a load's, here) names its owner; the next one removes only those of this host whose
// process is gone.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createOwnedDirectory, removeAbandonedDirectories } from '../../src/owned-directory.js';

/** The id of a process that has run and exited (and been reaped): no process has it now, until it is reused. */
async function exitedPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  return child.pid!;
}

describe('load directories', () => {
  let parent: string;

  beforeEach(async () => {
    parent = await fs.mkdtemp(path.join(os.tmpdir(), 'sales-load-dirs-'));
  });

  afterEach(async () => {
    await fs.rm(parent, { recursive: true, force: true });
  });

  /** A load directory as another process would have left it, with a part file in it. */
  async function leftBehind(name: string, owner?: string): Promise<string> {
    const directory = path.join(parent, `sales-analytics-load-${name}`);
    await fs.mkdir(directory);
    await fs.writeFile(path.join(directory, 'part-1.records'), 'records');
    if (owner !== undefined) await fs.writeFile(path.join(directory, 'owner'), owner);
    return directory;
  }

  it('names this host and process as the owner of a new directory', async () => {
    const directory = await createOwnedDirectory(parent, 'sales-analytics-load-');
    expect(path.basename(directory)).to.match(/^sales-analytics-load-/);
    expect(await fs.readFile(path.join(directory, 'owner'), 'utf8')).to.equal(`${os.hostname()}\n${process.pid}\n`);
  });

  it('removes the directories of exited processes of this host and keeps every other', async () => {
    const host = os.hostname();
    const dead = await leftBehind('dead', `${host}\n${await exitedPid()}\n`);
    const running = await leftBehind('running', `${host}\n${process.ppid}\n`);
    const mine = await leftBehind('mine', `${host}\n${process.pid}\n`);
    const elsewhere = await leftBehind('elsewhere', `another-${host}\n${await exitedPid()}\n`);
    const ownerless = await leftBehind('ownerless');
    const garbled = await leftBehind('garbled', `${host}\nnot a pid\n`);
    const unrelated = path.join(parent, 'something-else');
    await fs.mkdir(unrelated);
    await fs.writeFile(path.join(unrelated, 'owner'), `${host}\n${await exitedPid()}\n`);

    const created = await createOwnedDirectory(parent, 'sales-analytics-load-');

    const left = (await fs.readdir(parent)).map((name) => path.join(parent, name)).sort();
    expect(left).to.deep.equal([running, mine, elsewhere, ownerless, garbled, unrelated, created].sort());
    expect(left).to.not.include(dead);
  });

  it('does nothing when the parent cannot be read', async () => {
    expect(await removeAbandonedDirectories(path.join(parent, 'missing'), 'sales-analytics-load-')).to.deep.equal([]);
  });
});
