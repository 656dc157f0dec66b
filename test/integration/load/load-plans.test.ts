// A load's time must not depend on the store's history: after a replace shrank the store to six lines (its
// statistics and pages still those of the large store), the next large load's set-based steps are planned
// for what they read. Proven on the plans each step ran (auto_explain, with the rows each node returned),
// with autovacuum off on every table: no nested loop runs over the file's lines.
import { expect } from 'chai';
import pg from 'pg';
import { generateSales } from '../../../src/generate/sales-generator.js';
import type { LoadMode } from '../../../src/load/index.js';
import { runRefresh } from '../../../src/refresh/refresh.js';
import { useTestDatabase } from '../../support/database.js';
import { csvOf, quietLogger, writeFile } from '../../support/sales-files.js';

const SAMPLE = 'test/fixtures/brief-sample.csv';
/** Enough lines for products x regions x years in the hundreds, as the rollups' self-joins need to show. */
const BIG_LINES = 20_000;

interface PlanNode {
  'Node Type': string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  Plans?: PlanNode[];
}

interface NestedLoop {
  /** The rows its outer side returned: the times it ran its inner side. */
  outerRows: number;
  /** The rows its inner side returned over all those times. */
  innerRows: number;
  plan: PlanNode;
}

const returned = (node: PlanNode) => (node['Actual Rows'] ?? 0) * (node['Actual Loops'] ?? 1);

/** Every nested loop of a plan. */
function nestedLoops(node: PlanNode, found: NestedLoop[] = []): NestedLoop[] {
  if (node['Node Type'] === 'Nested Loop') {
    const [outer, inner] = node.Plans!;
    found.push({ outerRows: returned(outer), innerRows: returned(inner), plan: node });
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
  // Set at connection start, as a superuser may: loaded and set before the session's first statement.
  const explain = { log_min_duration: 0, log_analyze: 'on', log_timing: 'off', log_format: 'json', log_level: 'notice' };
  const settings = Object.entries(explain).map(([name, value]) => `-c auto_explain.${name}=${value}`);
  const pool = new pg.Pool({
    connectionString: url,
    options: ['-c session_preload_libraries=auto_explain', ...settings].join(' '),
  });
  pool.on('connect', (client: pg.PoolClient) => {
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

  /**
   * Each nested loop that runs over the file's lines (its outer side a tenth of them or more), or whose inner
   * side returns more than ten rows per line of the file over all its runs (a join that reads a table again
   * for each row): the step, the rows, what each run read.
   */
  function quadraticLoops(executed: ExecutedPlan[]): string[] {
    const applied = executed.filter((e) => e.step !== 'reading' && e.step !== 'preparing');
    // The load's set-based steps all ran, each with its plan.
    expect(applied.length).to.be.greaterThan(10);
    return applied.flatMap(({ step, plan }) =>
      nestedLoops(plan)
        .filter((loop) => loop.outerRows >= BIG_LINES / 10 || loop.innerRows > 10 * BIG_LINES)
        .map((loop) => `${step}: ${loop.outerRows} rows, ${loop.innerRows} through ${loop.plan.Plans![1]['Node Type']}`),
    );
  }

  it('replace big, replace small, replace big', async () => {
    const executed = await third([
      [big, 'replace'],
      [SAMPLE, 'replace'],
      [big, 'replace'],
    ]);
    expect(executed.some((e) => e.step === 'delete absent lines')).to.equal(true);
    expect(quadraticLoops(executed)).to.deep.equal([]);
  });

  it('append big, replace small, append big', async () => {
    const executed = await third([
      [big, 'append'],
      [SAMPLE, 'replace'],
      [big, 'append'],
    ]);
    expect(executed.some((e) => e.step === 'upsert order items')).to.equal(true);
    expect(quadraticLoops(executed)).to.deep.equal([]);
  });
});
