// Two service processes on one database: a refresh asked of both at once runs once (the other answers 409 with
// the running run), and clients reading the analyses from both while a large refresh applies and commits see
// the totals before it or after it, each answer whole, never a mix and never an error.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { type GeneratedLine, generateSales, writeSalesCsv } from '../../../src/generate/sales-generator.js';
import * as oracle from '../../support/analytics-oracle.js';
import { useTestDatabase } from '../../support/database.js';
import { heldAt, lockTable } from '../../support/held-load.js';
import { csvOf, load } from '../../support/sales-files.js';
import { finishedRun } from '../../support/server.js';
import { type ServiceProcess, startService } from '../../support/service-process.js';

const RANGE = { from: '2022-01-01', to: '2024-12-31' };
const QUERY = `from=${RANGE.from}&to=${RANGE.to}`;
/** The analyses read during the refresh, each with its answer from the oracle. */
const ANALYSES: [string, (lines: GeneratedLine[]) => unknown][] = [
  [`revenue?${QUERY}`, (lines) => oracle.revenue(lines, RANGE)],
  [`revenue/by-category?${QUERY}`, (lines) => oracle.byDimension(lines, RANGE, 'category')],
  [`products/top?${QUERY}&n=5`, (lines) => oracle.top(lines, RANGE, 5)],
  [`customers/summary?${QUERY}`, (lines) => oracle.customerSummary(lines, RANGE)],
];
const LARGE_ROWS = 40_000;

/** JSON with keys sorted: two answers are equal exactly when these are. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, item) =>
    item && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : 1)))
      : item,
  );
}

describe('two services on one database', function () {
  this.timeout(180_000);
  const db = useTestDatabase();
  let dir: string;
  let services: ServiceProcess[];
  const base = [...generateSales({ rows: 10_000, seed: 31 })];
  const small = [...generateSales({ rows: 500, seed: 32, firstOrder: 700_000 })];
  // Updates the base's orders (moving many to another day, customer or region) and adds new ones.
  const large = [...generateSales({ rows: LARGE_ROWS, seed: 33 })];
  const answers = (lines: GeneratedLine[]) => ANALYSES.map(([, answer]) => canonical(answer(lines)));
  let oldAnswers: string[];
  let newAnswers: string[];

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sales-concurrency-'));
    await fs.writeFile(path.join(dir, 'base.csv'), csvOf(base));
    await fs.writeFile(path.join(dir, 'small.csv'), csvOf(small));
    await writeSalesCsv(path.join(dir, 'large.csv'), large, { style: 'standard', extraColumns: false });
    oldAnswers = answers(oracle.afterAppends(base, small));
    newAnswers = answers(oracle.afterAppends(base, small, large));
    for (const [i, [route]] of ANALYSES.entries()) expect(oldAnswers[i], `${route} changes`).to.not.equal(newAnswers[i]);
    expect((await load(db().pool, path.join(dir, 'base.csv'))).run.status).to.equal('succeeded');
    services = await Promise.all([0, 1].map(() => startService(db().url, dir, { ANALYTICS_CACHE: 'false' })));
  });
  after(async () => {
    await Promise.all(services.map((service) => service.stop()));
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('a refresh asked of both at once runs once: one answers 202, the other 409 with the running run', async () => {
    // The winner's run waits at its upserts until both have answered, however the two requests interleave.
    const lock = await lockTable(db().url, 'orders');
    let responses: Response[];
    try {
      responses = await Promise.all(services.map((service) => service.refresh({ source: 'small.csv' })));
      await heldAt(db().pool, 'upsert orders');
    } finally {
      await lock.release();
    }
    const [accepted, refused] = [...responses].sort((a, b) => a.status - b.status);
    expect([accepted.status, refused.status]).to.deep.equal([202, 409]);
    const { id } = await accepted.json();
    const problem = await refused.json();
    expect(problem).to.include({ status: 409, title: 'Conflict' });
    expect(problem.activeRun).to.include({ id });
    expect(refused.headers.get('location')).to.equal(`/api/v1/refreshes/${id}`);

    const winner = services[responses.indexOf(accepted)];
    const run = await finishedRun(winner.url, id);
    expect(run).to.include({ status: 'succeeded' });
    expect(run.counts).to.include({ read: 500, inserted: 500 });
    const { rows } = await db().pool.query(`SELECT count(*)::integer AS runs FROM refresh_runs WHERE source = 'small.csv'`);
    expect(rows[0].runs, 'the refused request recorded no run').to.equal(1);
  });

  it('readers of both services see the totals before a large refresh or after it, whole, while it applies and commits', async () => {
    // The run waits just before its commit, every fact and rollup written, until each reader has read every
    // analysis in that state; then it commits while they read on.
    const lock = await lockTable(db().url, 'data_version');
    const problems: string[] = [];
    let finished = false;
    /** Reads the analyses in turn from the run's apply phase until it has finished, then each once more. */
    const reader = (service: ServiceProcess) => {
      const seen: ('before' | 'after')[] = [];
      const read = async (i: number) => {
        const response = await fetch(`${service.url}/api/v1/${ANALYSES[i][0]}`);
        const body = await response.text();
        const answer = response.status === 200 ? canonical(JSON.parse(body)) : undefined;
        if (answer !== oldAnswers[i] && answer !== newAnswers[i])
          problems.push(`${ANALYSES[i][0]} answered ${response.status}: ${body}`);
        else if (answer === oldAnswers[i] && seen.includes('after'))
          problems.push(`${ANALYSES[i][0]} went back to the totals before`);
        else seen.push(answer === oldAnswers[i] ? 'before' : 'after');
      };
      const done = (async () => {
        for (let i = 0; !finished && problems.length === 0; i = (i + 1) % ANALYSES.length) await read(i);
        for (let i = 0; i < ANALYSES.length; i++) await read(i);
        return seen;
      })();
      return { seen, done };
    };

    let readers: ReturnType<typeof reader>[] = [];
    let run: Record<string, unknown>;
    try {
      const response = await services[0].refresh({ source: 'large.csv' });
      expect(response.status).to.equal(202);
      const { id } = await response.json();
      await untilPhase(id, 'applying');
      readers = services.map(reader);
      await heldAt(db().pool, 'bump data version');
      const heldReads = readers.map((r) => r.seen.length);
      while (readers.some((r, i) => r.seen.length < heldReads[i] + ANALYSES.length) && problems.length === 0) await sleep(20);
      await lock.release();
      run = await finishedRun(services[0].url, id, 150_000);
    } finally {
      finished = true;
      await lock.release();
    }
    const seen = await Promise.all(readers.map((r) => r.done));
    expect(problems).to.deep.equal([]);
    expect(run).to.include({ status: 'succeeded' });
    expect(run.counts).to.include({ read: LARGE_ROWS });
    for (const answered of seen) {
      expect(answered.slice(0, ANALYSES.length), 'while the run applies').to.deep.equal(ANALYSES.map(() => 'before'));
      expect(answered.slice(-ANALYSES.length), 'after the run').to.deep.equal(ANALYSES.map(() => 'after'));
    }
  });

  /** Polls the run until it is in `phase`. */
  async function untilPhase(id: number, phase: string): Promise<void> {
    for (;;) {
      const run = await (await fetch(`${services[1].url}/api/v1/refreshes/${id}`)).json();
      if (run.phase === phase) return;
      expect(run.status, `the run reaches ${phase}`).to.be.oneOf(['queued', 'running']);
      await sleep(50);
    }
  }
});
