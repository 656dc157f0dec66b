// One append for the fault tests: a base file, then a change that updates, repeats and adds lines and holds a
// rejected row, with its counts known by construction. Small (a load takes a moment), but several batches long.
import fs from 'node:fs/promises';
import path from 'node:path';
import { type GeneratedLine, generateSales } from '../../src/generate/sales-generator.js';
import type { LoadCounts } from '../../src/load/index.js';
import { createTestDatabase } from './database.js';
import { type Fingerprint, fingerprint } from './fingerprint.js';
import { csvOf, load } from './sales-files.js';

const base = [...generateSales({ rows: 2000, seed: 21 })];
const updated = base.slice(0, 300).map((line) => ({ ...line, quantity: line.quantity + 1 }));
const unchanged = base.slice(300, 600);
const inserted = [...generateSales({ rows: 600, seed: 22, firstOrder: 900_000 })];
// Last, in a later batch than the first kept lines (a batch is a 64 KB chunk of the file).
const rejected: GeneratedLine = { ...inserted[0], orderId: '999999', quantity: 0 };

export const CHANGE_COUNTS: LoadCounts = {
  read: updated.length + unchanged.length + inserted.length + 1,
  inserted: inserted.length,
  updated: updated.length,
  unchanged: unchanged.length,
  duplicates: 0,
  rejected: 1,
  deleted: 0,
};

/** Writes base.csv and change.csv into `dir`; answers their paths. */
export async function writeAppendScenario(dir: string): Promise<{ base: string; change: string }> {
  const files = { base: path.join(dir, 'base.csv'), change: path.join(dir, 'change.csv') };
  await fs.writeFile(files.base, csvOf(base));
  await fs.writeFile(files.change, csvOf([...updated, ...unchanged, ...inserted, rejected]));
  return files;
}

/** What the tables hold after both loads, neither interrupted: loaded into a database of its own. */
export async function fingerprintAfterChange(files: { base: string; change: string }): Promise<Fingerprint> {
  const reference = await createTestDatabase();
  try {
    await load(reference.pool, files.base);
    const { run } = await load(reference.pool, files.change);
    if (run.status !== 'succeeded') throw new Error(`the reference load failed: ${run.error}`);
    return await fingerprint(reference.pool);
  } finally {
    await reference.drop();
  }
}
