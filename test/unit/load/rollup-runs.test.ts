import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { mergeRuns, RunWriter, runFile } from '../../../src/load/rollup-runs.js';

// Two key numbers then two measures per cell, as the daily customer runs are.
const KEYS = 2;
const WIDTH = 4;

/** A run's cells: distinct keys in key order, measures from the key. */
function runCells(run: number, count: number, random: () => number): number[][] {
  const keys = new Map<string, number[]>();
  while (keys.size < count) {
    const key = [Math.floor(random() * 40) - 20, Math.floor(random() * 30)];
    keys.set(key.join(','), key);
  }
  return [...keys.values()].sort((x, y) => x[0] - y[0] || x[1] - y[1]).map(([a, b]) => [a, b, run + 1, a * 1000 + b + run]);
}

describe('rollup runs', () => {
  it('merge many runs of different lengths into each key once, its measures summed with each run scaled', () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'rollup-runs-'));
    try {
      let seed = 7;
      const random = () => {
        seed = (seed * 16_807) % 2_147_483_647;
        return seed / 2_147_483_647;
      };
      // 27 runs, as a 10M-line file has parts, two of them empty, up to every key of the grid in one.
      const runs = Array.from({ length: 27 }, (_, run) =>
        runCells(run, run % 13 === 0 ? 0 : Math.floor(random() * 400) + 1, random),
      );
      runs.push(runCells(27, 1200, random));
      const multipliers = runs.map((_, run) => Float64Array.of(1, run % 3 === 0 ? 10 : 1));
      const expected = new Map<string, number[]>();
      const files = runs.map((cells, run) => {
        const writer = new RunWriter(runFile(directory, 'test', run), WIDTH);
        for (const cell of cells) {
          writer.add(cell);
          const key = `${cell[0]},${cell[1]}`;
          const sums = expected.get(key) ?? [cell[0], cell[1], 0, 0];
          sums[2] += cell[2] * multipliers[run][0];
          sums[3] += cell[3] * multipliers[run][1];
          expected.set(key, sums);
        }
        writer.close();
        return writer.file;
      });

      // mergeRuns yields the same array each time: each cell is copied as it comes.
      const merged = Array.from(mergeRuns(files, KEYS, WIDTH, multipliers), (cell) => [...cell]);
      expect(merged).to.deep.equal([...expected.values()].sort((x, y) => x[0] - y[0] || x[1] - y[1]));
      for (const file of files) expect(fs.existsSync(file)).to.equal(false);
    } finally {
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });
});
