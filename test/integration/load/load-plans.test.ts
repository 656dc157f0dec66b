// A load's time must not depend on the store's history: after a replace shrank the store to six lines (its
// statistics and pages still those of the large store), the next large load's set-based steps are planned
// for what they read. Proven on the plans each step ran (auto_explain, with the rows each node returned),
// with autovacuum off on every table: no nested loop runs over the file's lines.
import { expect } from 'chai';
import type pg from 'pg';
import { createPool } from '../../../src/db/database.js';
import { generateSales } from '../../../src/generate/sales-generator.js';
import type { LoadMode } from '../../../src/load/index.js';
import { runRefresh } from '../../../src/refresh/refresh.js';
import { useTestDatabase } from '../../support/database.js';
import { csvOf, quietLogger, writeFile } from '../../support/sales-files.js';

const SAMPLE = 'test/fixtures/brief-sample.csv';
const BIG_LINES = 3000;

interface PlanNode {
  'Node Type': string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  Plans?: PlanNode[];
}

/** Every nested loop of a plan, with the rows its outer side returned (over all of its loops). */
function nestedLoops(node: PlanNode, found: { outerRows: number; plan: PlanNode }[] = []) {
  if (node['Node Type'] === 'Nested Loop') {
    const outer = node.Plans![0];
    found.push({ outerRows: (outer['Actual Rows'] ?? 0) * (outer['Actual Loops'] ?? 1), plan: node });
  }
  for (const child of node.Plans ?? []) nestedLoops(child, found);
  return found;
}

interface ExecutedPlan {
  step: string;
  query: string;
  plan: PlanNode;
}

/**
 * A pool whose sessions send each statement's executed plan back as a notice (auto_explain, as a superuser
 * may load it), recorded under the load step that ran it while `recording` is on.
 */
function explainingPool(url: string) {
  const executed: ExecutedPlan[] = [];
  const state = { step: '', recording: false };
  const pool = createPool(url);
  pool.on('connect', (client: pg.PoolClient) => {
    void client.query(`LOAD 'auto_explain';
      SET auto_explain.log_min_duration = 0; SET auto_explain.log_analyze = on; SET auto_explain.log_timing = off;
      SET auto_explain.log_format = json; SET auto_explain.log_level = notice`);
    client.on('notice', (notice) => {
      if (!state.recording || !notice.message?.startsWith('duration:')) return;
      const explained = JSON.parse(notice.message.slice(notice.message.indexOf('{')));
      executed.push({ step: state.step, query: explained['Query Text'], plan: explained.Plan });
    });
  });
  return { pool, executed, state };
}

describe('load plans whatever the store held before (autovacuum off)', () => {
  const db = useTestDatabase({ each: true });
  let big: string;

  before(async () => {
    big = await writeFile(csvOf([...generateSales({ rows: BIG_LINES, seed: 31 })]));
  });

  beforeEach(async () => {
    const { rows } = await db().pool.query<{ name: string }>(
      `SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'`,
    );
    for (const { name } of rows) await db().pool.query(`ALTER TABLE ${name} SET (autovacuum_enabled = false)`);
  });

  async function third(sequence: [string, LoadMode][]): Promise<ExecutedPlan[]> {
    const { pool, executed, state } = explainingPool(db().url);
    try {
      for (const [index, [file, mode]] of sequence.entries()) {
        state.recording = index === sequence.length - 1;
        const { run } = await runRefresh(pool, quietLogger, {
          file,
          source: file,
          mode,
          trigger: 'cli',
          onProgress: (progress) => {
            state.step = progress.step ?? progress.phase;
          },
        });
        expect(run.status, run.error ?? '').to.equal('succeeded');
      }
    } finally {
      await pool.end();
    }
    return executed;
  }

  /** Each nested loop over more than a tenth of the file's lines: the step, the rows, what each loop ran. */
  function nestedLoopsOverLines(executed: ExecutedPlan[]): string[] {
    const applied = executed.filter((e) => e.query.includes('stage_') || e.query.includes('changed_'));
    // The load's set-based steps all ran, each with its plan.
    expect(applied.length).to.be.greaterThan(10);
    return applied.flatMap(({ step, plan }) =>
      nestedLoops(plan)
        .filter((loop) => loop.outerRows >= BIG_LINES / 10)
        .map((loop) => `${step}: ${loop.outerRows} rows, each through ${loop.plan.Plans![1]['Node Type']}`),
    );
  }

  it('replace big, replace small, replace big', async () => {
    const executed = await third([
      [big, 'replace'],
      [SAMPLE, 'replace'],
      [big, 'replace'],
    ]);
    expect(executed.some((e) => e.step === 'delete absent lines')).to.equal(true);
    expect(nestedLoopsOverLines(executed)).to.deep.equal([]);
  });

  it('append big, replace small, append big', async () => {
    const executed = await third([
      [big, 'append'],
      [SAMPLE, 'replace'],
      [big, 'append'],
    ]);
    expect(executed.some((e) => e.step === 'upsert order items')).to.equal(true);
    expect(nestedLoopsOverLines(executed)).to.deep.equal([]);
  });
});
