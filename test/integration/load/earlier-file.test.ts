// A file that begins with the bytes of the file the record was last loaded from is read from where that file
// ended (earlier-load.ts). Each case loads the same files into two databases: in one the loader may recognise
// the start; in the other the record forgets what it was loaded from, so the whole file is read. Both must
// hold the same record, rejects included, and report the same counts; the first says what it did not read.
import fs from 'node:fs/promises';
import { expect } from 'chai';
import { BRIEF_HEADER } from '../../../src/generate/sales-generator.js';
import type { LoadMode } from '../../../src/load/index.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { fingerprint } from '../../support/fingerprint.js';
import { load, writeFile } from '../../support/sales-files.js';

const HEADER = BRIEF_HEADER.join(',');

/** One CSV row in the brief's column order. */
function row(order: string, product: string, opts: { customer?: string; day?: string; qty?: string; region?: string } = {}) {
  const customer = opts.customer ?? 'C1';
  return [
    order,
    product,
    customer,
    `Product ${product}`,
    'Shoes',
    opts.region ?? 'Europe',
    opts.day ?? '2024-01-10',
    opts.qty ?? '1',
    '10.00',
    '0',
    '1.50',
    'Card',
    `Customer ${customer}`,
    `${customer.toLowerCase()}@x.io`,
    '',
  ].join(',');
}

/** Yesterday's export: kept rows, a reject, a duplicate and a conflict. */
const START = [
  HEADER,
  row('1', 'P1'),
  row('1', 'P2', { qty: '0' }), // rejected: quantity
  row('2', 'P1', { customer: 'C2' }),
  row('2', 'P1', { customer: 'C2', qty: '2' }), // the duplicate's winner
  row('2', 'P3', { customer: 'C2', region: 'Asia' }), // a conflict with line 4
];
/** Today's new day: new orders of known and new customers, with their own reject, duplicate and conflict. */
const NEW_DAY = [
  row('3', 'P1', { day: '2024-01-11' }),
  row('3', 'P4', { day: '2024-01-11' }),
  row('3', 'P4', { day: '2024-01-11', qty: '5' }),
  row('4', 'P2', { customer: 'C3', day: '2024-01-11' }),
  row('4', 'P2', { customer: 'C1', day: '2024-01-11' }), // a conflict with the line before
  row('5', 'P1', { day: 'soon' }),
];

const csv = (lines: string[]) => `${lines.join('\n')}\n`;

describe('a file that begins with the file the record was last loaded from', () => {
  let recognising: TestDatabase;
  let reading: TestDatabase;

  beforeEach(async () => {
    [recognising, reading] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  });
  afterEach(() => Promise.all([recognising.drop(), reading.drop()]));

  /**
   * Loads `earlier` into both databases, then `next`: as it is into the first, with the record's memory of
   * its source wiped in the second. Checks both end equal; returns the first's outcome.
   */
  async function loadBoth(
    earlier: string,
    next: string,
    modes: [LoadMode, LoadMode] = ['append', 'append'],
    partBytes?: number,
    between?: (db: TestDatabase) => Promise<unknown>,
  ) {
    const [earlierFile, nextFile] = [await writeFile(earlier), await writeFile(next)];
    const outcomes = [];
    for (const db of [recognising, reading]) {
      const first = await load(db.pool, earlierFile, modes[0]);
      expect(first.run.status, first.run.error ?? '').to.equal('succeeded');
      await between?.(db);
      if (db === reading) await db.pool.query('UPDATE data_version SET source = NULL');
      outcomes.push(await load(db.pool, nextFile, modes[1], partBytes));
    }
    const [recognised, read] = outcomes;
    expect(recognised.run.status, recognised.run.error ?? '').to.equal('succeeded');
    expect(read.result!.recognisedBytes).to.equal(0);
    expect(recognised.result!.counts).to.deep.equal(read.result!.counts);
    expect(await fingerprint(recognising.pool)).to.deep.equal(await fingerprint(reading.pool));
    return { ...recognised.result!, runId: recognised.run.id, earlierBytes: Buffer.byteLength(earlier) };
  }

  it('reads only the new day, and counts and rejects the whole file as a full read does', async () => {
    const result = await loadBoth(csv(START), csv([...START, ...NEW_DAY]));
    expect(result.recognisedBytes).to.equal(result.earlierBytes);
    // Independently: the start's 4 kept rows unchanged (line 5 won over line 4), the new day's 3 line keys new.
    expect(result.counts).to.deep.equal({
      read: 11,
      inserted: 3,
      updated: 0,
      unchanged: 2,
      duplicates: 2,
      rejected: 4,
      deleted: 0,
    });
    const { rows } = await recognising.pool.query('SELECT line FROM refresh_rejects WHERE run_id = $1 ORDER BY line', [
      result.runId,
    ]);
    expect(rows.map((r) => r.line)).to.deep.equal([3, 6, 11, 12]);
  });

  it('reads the rest of a large file in parts', async () => {
    const result = await loadBoth(csv(START), csv([...START, ...NEW_DAY]), ['append', 'append'], 200);
    expect(result.recognisedBytes).to.equal(result.earlierBytes);
  });

  it('recognises the same file loaded again: every kept line unchanged', async () => {
    const result = await loadBoth(csv(START), csv(START));
    expect(result.recognisedBytes).to.equal(result.earlierBytes);
    expect(result.counts).to.include({ read: 5, inserted: 0, unchanged: 2, duplicates: 1, rejected: 2 });
  });

  it('reads the whole file when its rest has rows of orders stored before it', async () => {
    const conflict = row('1', 'P9', { customer: 'C2', day: '2024-01-11' });
    const result = await loadBoth(csv(START), csv([...START, ...NEW_DAY, conflict]));
    expect(result.recognisedBytes).to.equal(0);
    expect(result.counts.rejected).to.equal(5);
  });

  it('reads the whole file when a byte of its start changed, or the earlier file did not end its last line', async () => {
    const changed = csv([...START.slice(0, -1), row('2', 'P3', { customer: 'C2', region: 'Africa' }), ...NEW_DAY]);
    expect((await loadBoth(csv(START), changed)).recognisedBytes).to.equal(0);
    await Promise.all([recognising.drop(), reading.drop()]);
    [recognising, reading] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    const unended = START.join('\n');
    expect((await loadBoth(unended, `${unended}\n${NEW_DAY.join('\n')}`)).recognisedBytes).to.equal(0);
  });

  it('reads the whole file when the earlier rejects could now be judged otherwise', async () => {
    // A quote that never closed swallowed the lines after it; a date after the day of that load.
    const unterminated = csv([...START, `6,"P1,C1`]);
    expect((await loadBoth(unterminated, unterminated + csv(NEW_DAY))).recognisedBytes).to.equal(0);
    await Promise.all([recognising.drop(), reading.drop()]);
    [recognising, reading] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    const future = csv([...START, row('7', 'P1', { day: '2999-01-01' })]);
    const dayBefore = (db: TestDatabase) =>
      db.pool.query(`UPDATE data_version SET source = jsonb_set(source, '{day}', '"2000-01-01"')`);
    expect((await loadBoth(future, future + csv(NEW_DAY), ['append', 'append'], undefined, dayBefore)).recognisedBytes).to.equal(
      0,
    );
  });

  it("reads the whole file when the earlier load's rejects are no longer all there", async () => {
    const removeRejects = (db: TestDatabase) =>
      db.pool.query('DELETE FROM refresh_rejects WHERE run_id = (SELECT run_id FROM data_version)');
    const result = await loadBoth(csv(START), csv([...START, ...NEW_DAY]), ['append', 'append'], undefined, removeRejects);
    expect(result.recognisedBytes).to.equal(0);
    expect(result.counts.rejected).to.equal(4);
  });

  it('replaces from the rest after a replace; reads the whole file to replace what an append left', async () => {
    const grown = csv([...START, ...NEW_DAY]);
    const afterReplace = await loadBoth(csv(START), grown, ['replace', 'replace']);
    expect(afterReplace.recognisedBytes).to.equal(afterReplace.earlierBytes);
    await Promise.all([recognising.drop(), reading.drop()]);
    [recognising, reading] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    const older = await writeFile(csv([HEADER, row('90', 'P90')]));
    const storeOlder = (db: TestDatabase) => load(db.pool, older);
    // Stored first, then the earlier file appended: a replace must delete order 90.
    const afterAppend = await loadBoth(csv(START), grown, ['append', 'replace'], undefined, async (db) => {
      await storeOlder(db);
      await load(db.pool, await writeFile(csv(START)));
    });
    expect(afterAppend.recognisedBytes).to.equal(0);
    expect(afterAppend.counts.deleted).to.equal(1);
    await fs.rm(older, { force: true });
  });
});
