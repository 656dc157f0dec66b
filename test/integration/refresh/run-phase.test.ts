// A running refresh says what it is doing: preparing, reading the file, applying it, and the step it is on,
// recorded as it changes (the apply after the last byte is read can take most of a load).
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import { BRIEF_HEADER } from '../../../src/generate/sales-generator.js';
import type { LoadProgress } from '../../../src/load/index.js';
import { runRefresh } from '../../../src/refresh/refresh.js';
import { getRun, type RefreshRun } from '../../../src/refresh/runs.js';
import { useTestDatabase } from '../../support/database.js';
import { load, quietLogger, writeFile } from '../../support/sales-files.js';

const row = (order: string, quantity: number) =>
  `${order},P1,C1,Lamp,Home,Europe,2024-01-10,${quantity},10.00,0,1.50,Card,Ann,ann@x.io,1 Road`;

describe('refresh run phase', () => {
  const db = useTestDatabase();

  it("records the phase and step as they change: the run shows 'applying: upsert orders' at 100% while that step waits", async () => {
    await load(db().pool, await writeFile([BRIEF_HEADER.join(','), row('1', 1)].join('\n')));
    const file = await writeFile([BRIEF_HEADER.join(','), row('1', 2), row('2', 1)].join('\n'));
    const size = (await fs.stat(file)).size;

    // Another session holds a lock that lets the load read orders but not write them: its upsert waits.
    const blocker = new pg.Client(db().url);
    await blocker.connect();
    await blocker.query('BEGIN; LOCK TABLE orders IN SHARE MODE');
    const seen: LoadProgress[] = [];
    const outcome = runRefresh(db().pool, quietLogger, {
      file,
      source: path.basename(file),
      mode: 'append',
      trigger: 'cli',
      onProgress: (progress) => seen.push(progress),
    });
    let running: RefreshRun | undefined;
    try {
      for (let tries = 0; tries < 200; tries++) {
        running = await getRun(db().pool, 2);
        if (running?.step === 'upsert orders') break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await blocker.query('COMMIT');
      await blocker.end();
    }
    expect(running).to.deep.include({ status: 'running', phase: 'applying', step: 'upsert orders' });
    expect(running!.progress).to.deep.equal({ bytesRead: size, bytesTotal: size, rowsRead: 2 });

    const { run } = await outcome;
    expect(run).to.include({ status: 'succeeded', phase: null, step: null });
    // The callback saw the phases in order, each step under its phase.
    const phases = seen.map((p) => p.phase).filter((phase, i, all) => phase !== all[i - 1]);
    expect(phases).to.deep.equal(['preparing', 'reading', 'applying']);
    const stepOf = (name: string) => seen.filter((p) => p.step === name).at(-1)?.phase;
    expect([stepOf('check for data'), stepOf('stream file into staging'), stepOf('upsert orders')]).to.deep.equal([
      'preparing',
      'reading',
      'applying',
    ]);
  });
});
