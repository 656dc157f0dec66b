// A server reads the newest published snapshot; a question in flight finishes on the snapshot it started on.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { expect } from 'chai';
import { revenueSummary } from '../../../src/analytics/revenue-summary.js';
import { generateSales } from '../../../src/generate/sales-generator.js';
import { runRefresh } from '../../../src/refresh/refresh.js';
import { buildSnapshot } from '../../../src/snapshot/build.js';
import { publishedVersions } from '../../../src/snapshot/published.js';
import { NoSnapshotError, SnapshotStore } from '../../../src/snapshot/store.js';
import { createTestDatabase, useTestDatabase } from '../../support/database.js';
import { csvOf, lineMoney, load, money, quietLogger, sum, TEST_ANALYTICS_LIMITS, writeFile } from '../../support/sales-files.js';
import { until } from '../../support/service-process.js';

const limits = TEST_ANALYTICS_LIMITS;

describe('analytics snapshots', () => {
  const db = useTestDatabase();
  let directory: string;

  before(async () => {
    directory = await fs.mkdtemp(path.join(os.tmpdir(), 'snapshots-'));
  });
  after(() => fs.rm(directory, { recursive: true, force: true }));

  it('answers from the newest published version; a question in flight finishes on its own', async () => {
    const store = await SnapshotStore.forDatabase(db().pool, directory, limits);
    try {
      await store
        .read(async () => 0)
        .then(
          () => expect.fail('read without a snapshot'),
          (error) => expect(error).to.be.instanceOf(NoSnapshotError),
        );
      const lines = [...generateSales({ rows: 500, seed: 1 })];
      await load(db().pool, await writeFile(csvOf(lines)));
      expect((await buildSnapshot(db().pool, directory, limits)).version).to.equal(1);
      const revenueOf = (sold: typeof lines) => Number(money(sum(sold, (line) => lineMoney(line).revenue)));

      let release!: () => void;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      const inFlight = store.read(async (snapshot, version) => {
        await held;
        return { version, revenue: (await revenueSummary(snapshot, {})).revenue };
      });

      const more = [...generateSales({ rows: 300, seed: 2, firstOrder: 800_000 })];
      await load(db().pool, await writeFile(csvOf(more)));
      expect((await buildSnapshot(db().pool, directory, limits)).version).to.equal(2);
      // The older version is unlinked; a reader that has it open goes on reading it.
      expect(await publishedVersions(store.directory)).to.deep.equal([2]);
      const second = await store.read(async (snapshot, version) => ({
        version,
        revenue: (await revenueSummary(snapshot, {})).revenue,
      }));
      expect(second).to.deep.equal({ version: 2, revenue: revenueOf([...lines, ...more]) });

      release();
      expect(await inFlight).to.deep.equal({ version: 1, revenue: revenueOf(lines) });
    } finally {
      await store.close();
    }
  });

  it('stores the sums of a version in 64 bits when they fit, in 128 when a sum may not; exact either way', async () => {
    const database = await createTestDatabase();
    const folder = await fs.mkdtemp(path.join(os.tmpdir(), 'snapshot-types-'));
    try {
      /** The type of the daily product rollup's revenue, and its sum as exact text. */
      const published = async () => {
        const { file } = await buildSnapshot(database.pool, folder, limits);
        const instance = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
        try {
          const connection = await instance.connect();
          const [[type, revenue]] = (
            await connection.runAndReadAll(
              'SELECT any_value(typeof(revenue)), sum(revenue)::VARCHAR FROM sales_by_day_product_region',
            )
          ).getRows();
          connection.closeSync();
          return { type, revenue };
        } finally {
          instance.closeSync();
        }
      };
      const [line] = generateSales({ rows: 1, seed: 3 });
      const sold = (orderId: string, quantity: number, unitPrice: string) => ({
        ...line,
        orderId,
        quantity,
        unitPrice,
        discount: '0',
      });
      await load(database.pool, await writeFile(csvOf([sold('1', 3, '12.50')])));
      expect(await published()).to.deep.equal({ type: 'DECIMAL(18,2)', revenue: '37.50' });
      // A line of 16 whole digits fits 18 with its 2 places; a sum of two lines may need 17 of them.
      await load(database.pool, await writeFile(csvOf([sold('2', 1000, '5000000000000.00')])));
      expect(await published()).to.deep.equal({ type: 'DECIMAL(38,2)', revenue: '5000000000000037.50' });
    } finally {
      await database.drop();
      await fs.rm(folder, { recursive: true, force: true });
    }
  });

  it('asks at most its number of questions of DuckDB at once: the others wait for a slot, and every one is answered', async () => {
    const store = await SnapshotStore.forDatabase(db().pool, directory, { ...limits, queries: 2 });
    try {
      const { revenue } = await store.read((snapshot) => revenueSummary(snapshot, {}));
      const opened: (() => void)[] = [];
      let inside = 0;
      let most = 0;
      const questions = Array.from({ length: 5 }, () =>
        store.read(async (snapshot) => {
          most = Math.max(most, ++inside);
          await new Promise<void>((resolve) => opened.push(resolve));
          const answer = await revenueSummary(snapshot, {});
          inside--;
          return answer.revenue;
        }),
      );
      for (let released = 0; released < questions.length; released++) {
        await until('a question to hold a slot', async () => (opened.length > released ? true : undefined));
        // A question that did not wait would be inside by now.
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(opened.length, 'questions inside').to.equal(Math.min(released + 2, questions.length));
        opened[released]();
      }
      expect(await Promise.all(questions)).to.deep.equal(Array(5).fill(revenue));
      expect(most).to.equal(2);
    } finally {
      await store.close();
    }
  });
});

describe('analytics snapshots of two databases in one ANALYTICS_DIR', () => {
  const db = useTestDatabase({ each: true });

  it('keeps each database in a folder of its own: a fresh database never answers with the other one’s newer data', async () => {
    const base = await fs.mkdtemp(path.join(os.tmpdir(), 'snapshots-shared-'));
    const other = await createTestDatabase();
    try {
      const loadInto = async (pool: typeof other.pool, rows: number, seed: number) => {
        const lines = [...generateSales({ rows, seed })];
        const { run } = await runRefresh(pool, quietLogger, {
          file: await writeFile(csvOf(lines)),
          source: 's.csv',
          mode: 'append',
          trigger: 'cli',
          analytics: { directory: base, limits },
        });
        expect(run.status).to.equal('succeeded');
        return Number(money(sum(lines, (line) => lineMoney(line).revenue)));
      };
      // The other database is two versions ahead.
      await loadInto(other.pool, 300, 5);
      await loadInto(other.pool, 300, 6);
      const revenue = await loadInto(db().pool, 200, 7);
      const store = await SnapshotStore.forDatabase(db().pool, base, limits);
      try {
        expect(
          await store.read(async (snapshot, version) => ({ version, revenue: (await revenueSummary(snapshot, {})).revenue })),
        ).to.deep.equal({
          version: 1,
          revenue,
        });
      } finally {
        await store.close();
      }
    } finally {
      await other.drop();
      await fs.rm(base, { recursive: true, force: true });
    }
  });
});
