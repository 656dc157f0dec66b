// Hostile input, one table: every way a file can be wrong ends in per-row rejects with their reasons, or in
// one error naming the problem (and the line) with the database exactly as it was. The big cases load in a
// child process, the compiled `npm run load -- --json` (`npm test` builds first), whose peak RSS must stay
// bounded; their files are generated into a temporary directory and deleted after the case.
//
// Asserted in full elsewhere, so not repeated here:
// - a missing required column, ';' delimiters, CR-only line endings (header line), a line over 1 MiB at 12 MB
//   in CSV and NDJSON, JSON and NDJSON read with the CSV rules: load-semantics.test.ts;
// - NUL bytes and bytes that are not UTF-8 in CSV rows (both ways of loading), NUL in NDJSON:
//   unstorable-text.test.ts; a header name holding them: test/unit/load/columns.test.ts;
// - every rule of a value (dates, quantities, discounts, prices, emails): test/unit/load/validate-line.test.ts;
//   here the ones the brief names are followed through a whole load, with their exact reasons.
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { BRIEF_HEADER } from '../../../src/generate/sales-generator.js';
import type { LoadCounts } from '../../../src/load/index.js';
import type { RefreshRun } from '../../../src/refresh/runs.js';
import { type TestDatabase, useTestDatabase } from '../../support/database.js';
import { load } from '../../support/sales-files.js';
import { finishedRun, startTestServer, TEST_TOKEN, type TestServer } from '../../support/server.js';

const run = promisify(execFile);
const LOAD = path.resolve('dist/src/cli/load.js');
const FIXTURES = path.resolve('test/fixtures/hostile');

const COLUMNS = BRIEF_HEADER;
const HEADER = COLUMNS.join(',');

/** A row in the header's order, as the fixtures write it: order `o` is product P`o`. */
function row(order: string, values: { name?: string; day?: string; quantity?: string; price?: string; email?: string } = {}) {
  const { name = `Lamp ${order}`, day = '2024-01-10', quantity = '1', price = '10.00', email = 'ann@x.io' } = values;
  return `${order},P${order},C1,${name},Home,Europe,${day},${quantity},${price},0,1.50,Card,Ann,${email},1 Road`;
}
const objectOf = (csvRow: string) => Object.fromEntries(COLUMNS.map((column, i) => [column, csvRow.split(',')[i]]));

/** Bad in one way each, in turn: what 1M all-bad rows are made of. */
const BAD_KINDS: { values: Parameters<typeof row>[1]; reasons: string[] }[] = [
  { values: { quantity: '0' }, reasons: ["Quantity Sold must be a whole number from 1 to 2147483647 (got '0')"] },
  { values: { day: '2024-02-30' }, reasons: ["Date of Sale is not a calendar date (got '2024-02-30')"] },
  {
    values: { email: 'ann' },
    reasons: ["Customer Email must have one @, a name before it and a domain with a dot (got 'ann')"],
  },
  { values: { price: '-1' }, reasons: ["Unit Price must be a plain decimal >= 0, like 12.50 (got '-1')"] },
];

const LINE_TOO_LONG = (line: number) =>
  `line ${line} is longer than 1 MiB (1,048,576 characters): do the file's lines end in LF or CRLF?`;
const NOT_UTF8 =
  'contains bytes that are not UTF-8: 0xE9 (is the file in another encoding, such as Windows-1252? Save it as UTF-8)';
const NO_COUNTS: LoadCounts = { read: 0, inserted: 0, updated: 0, unchanged: 0, duplicates: 0, rejected: 0, deleted: 0 };

type Reject = { line: number; reasons: string[] };
/** Rejects counted per list of reasons, with their first and last line: how a million of them is checked. */
type RejectGroup = { reasons: string[]; rows: number; first: number; last: number };
type Expected = { error: string } | { counts: Partial<LoadCounts>; rejects?: Reject[]; rejectGroups?: RejectGroup[] };

interface HostileCase {
  name: string;
  /** The file to load: a fixture's name, or written into `dir`. */
  file: (dir: string) => Promise<string>;
  expected: Expected;
  /** Loads in a child process whose peak RSS must stay under this many MB. */
  peakRssMb?: number;
}

const fixture = (name: string) => async () => path.join(FIXTURES, name);
const written = (name: string, content: string | Buffer) => async (dir: string) => {
  await fs.writeFile(path.join(dir, name), content);
  return path.join(dir, name);
};

/** Writes pieces one after the other, never holding the whole file: for the files of tens of MB. */
async function streamed(file: string, pieces: Iterable<string>): Promise<string> {
  const out = createWriteStream(file);
  for (const piece of pieces) if (!out.write(piece)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
  return file;
}

function* repeated(piece: string, times: number) {
  for (let i = 0; i < times; i++) yield piece;
}

/** `count` bad rows, cycling through BAD_KINDS, and the groups their rejects must form (an independent fold). */
function allBad(prefix: string, count: number, lineOf: (i: number) => number) {
  const groups = BAD_KINDS.map(({ reasons }) => ({ reasons, rows: 0, first: 0, last: 0 }));
  const rows: string[] = [];
  for (let i = 0; i < count; i++) {
    const kind = i % BAD_KINDS.length;
    rows.push(row(`${prefix}${i}`, BAD_KINDS[kind].values));
    const group = groups[kind];
    group.rows++;
    group.first ||= lineOf(i);
    group.last = lineOf(i);
  }
  return { rows, groups };
}

const JSON_BAD = allBad('JX', 20_000, (i) => i + 1);
const NDJSON_BAD = allBad('NX', 20_000, (i) => i + 1);
const MIB = 1 << 20;

const CASES: HostileCase[] = [
  // CSV
  { name: 'an empty file', file: fixture('empty.csv'), expected: { error: 'the file is empty: no header' } },
  { name: 'a header only', file: fixture('header-only.csv'), expected: { counts: {}, rejects: [] } },
  {
    // Its first row holds '0' twice: read as a header, that was "names the column '0' twice".
    name: 'no header',
    file: fixture('no-header.csv'),
    expected: { error: 'line 1 names none of the required columns, such as Order ID or Date of Sale: is the header missing?' },
  },
  {
    name: 'duplicate header names',
    file: fixture('duplicate-header.csv'),
    expected: { error: "header names the column 'order_id' twice (also as 'Order ID')" },
  },
  {
    name: 'tab delimiters',
    file: fixture('tab-delimited.csv'),
    expected: { error: 'the header has one column; is the file delimited by tabs? Columns must be separated by commas' },
  },
  {
    name: 'binary garbage',
    file: fixture('binary-garbage.bin'),
    expected: { error: 'header column 1 contains a NUL byte (0x00), which PostgreSQL text cannot hold' },
  },
  {
    name: 'a quote never closed',
    file: fixture('unclosed-quote.csv'),
    expected: { counts: { read: 3, inserted: 2, rejected: 1 }, rejects: [{ line: 3, reasons: ['unterminated quoted field'] }] },
  },
  {
    name: 'mixed line endings: LF, CRLF, and a CR alone between two rows',
    file: fixture('mixed-line-endings.csv'),
    expected: {
      // Line 4 holds two rows joined by a bare CR: read as one, it was loaded with the second row in its
      // address, and the second row was lost without a word. A CR inside quotes (line 6) is data.
      counts: { read: 5, inserted: 4, rejected: 1 },
      rejects: [
        { line: 4, reasons: ['holds a CR (carriage return) that does not end the line: lines end in LF or CRLF, not CR alone'] },
      ],
    },
  },
  {
    name: "'1,299.00', '$12', '1e3' as prices and '03/04/2024' as a date",
    file: fixture('prices-and-dates.csv'),
    expected: {
      counts: { read: 6, inserted: 1, rejected: 5 },
      rejects: [
        { line: 2, reasons: ["Unit Price must be a plain decimal >= 0, like 12.50 (got '1,299.00')"] },
        // Unquoted, the thousands separator splits the price: the fields after it shift by one.
        {
          line: 3,
          reasons: [
            "Customer Email must have one @, a name before it and a domain with a dot (got 'Ann')",
            "Discount must be a fraction from 0 to 1 or a percentage from 0% to 100% (got '299.00')",
          ],
        },
        { line: 4, reasons: ["Unit Price must be a plain decimal >= 0, like 12.50 (got '$12')"] },
        { line: 5, reasons: ["Unit Price must be a plain decimal >= 0, like 12.50 (got '1e3')"] },
        { line: 6, reasons: ["Date of Sale must be YYYY-MM-DD, optionally followed by a time (got '03/04/2024')"] },
      ],
    },
  },
  {
    name: 'a 10 MB field',
    file: written('field-10mb.csv', `${HEADER}\n${row('F1', { name: 'x'.repeat(10 * MIB) })}\n`),
    expected: { error: LINE_TOO_LONG(2) },
    peakRssMb: 400,
  },
  {
    // Customer Address is the last column: the fields past it are joined back into it (bare-comma addresses).
    name: 'a line of 100k fields',
    file: written('fields-100k.csv', `${HEADER}\n${Array(100_000).fill('x').join(',')}\n`),
    expected: {
      counts: { read: 1, rejected: 1 },
      rejects: [
        {
          line: 2,
          reasons: [
            "Customer Email must have one @, a name before it and a domain with a dot (got 'x')",
            "Date of Sale must be YYYY-MM-DD, optionally followed by a time (got 'x')",
            "Quantity Sold must be a whole number from 1 to 2147483647 (got 'x')",
            "Unit Price must be a plain decimal >= 0, like 12.50 (got 'x')",
            "Shipping Cost must be a plain decimal >= 0, like 12.50 (got 'x')",
            "Discount must be a fraction from 0 to 1 or a percentage from 0% to 100% (got 'x')",
          ],
        },
      ],
    },
    peakRssMb: 400,
  },
  {
    name: 'one 50 MB line',
    file: (dir) => streamed(path.join(dir, 'line-50mb.csv'), [`${HEADER}\n`, ...repeated('x,'.repeat(MIB / 2), 50), '\n']),
    expected: { error: LINE_TOO_LONG(2) },
    peakRssMb: 400,
  },

  // JSON arrays
  { name: 'an empty JSON file', file: fixture('empty.json'), expected: { error: 'the file is empty: no header' } },
  {
    name: 'broken JSON syntax',
    file: fixture('broken-syntax.json'),
    expected: { error: 'not a valid JSON array of objects: Parser cannot parse input: expected a value' },
  },
  {
    name: 'a JSON array whose first element is not an object',
    file: written('not-objects.json', '[1, 2]'),
    expected: { error: 'record 1 is not a JSON object' },
  },
  {
    name: 'wrong JSON types',
    file: fixture('wrong-types.json'),
    expected: {
      counts: { read: 7, inserted: 2, rejected: 5 },
      rejects: [
        {
          line: 2,
          reasons: [
            "Quantity Sold must be a whole number from 1 to 2147483647 (got '[1,2]')",
            `Unit Price must be a plain decimal >= 0, like 12.50 (got '{"amount":1}')`,
            "Discount must be a fraction from 0 to 1 or a percentage from 0% to 100% (got 'true')",
          ],
        },
        ...[4, 5, 6, 7].map((line) => ({ line, reasons: ['not a JSON object'] })),
      ],
    },
  },
  {
    name: 'a NUL in a JSON value',
    file: fixture('nul.json'),
    expected: {
      counts: { read: 2, inserted: 1, rejected: 1 },
      rejects: [{ line: 2, reasons: ['contains a NUL byte (0x00), which PostgreSQL text cannot hold'] }],
    },
  },
  {
    // It was loaded as a replacement character (U+FFFD), which the CSV and NDJSON readers never write.
    name: 'invalid UTF-8 in a JSON value',
    file: fixture('invalid-utf8.json'),
    expected: { counts: { read: 2, inserted: 1, rejected: 1 }, rejects: [{ line: 2, reasons: [NOT_UTF8] }] },
  },
  {
    name: 'a 10 MB JSON element',
    file: written(
      'element-10mb.json',
      JSON.stringify([objectOf(row('JH1')), objectOf(row('JH2', { name: 'x'.repeat(10 * MIB) }))]),
    ),
    expected: { error: 'element 2 of the array is longer than 1 MiB (1,048,576 characters)' },
    peakRssMb: 400,
  },
  {
    // Each element was assembled whole: this one took the load to ~600 MB.
    name: 'a 50 MB JSON element',
    file: (dir) => {
      const [before, after] = JSON.stringify([objectOf(row('JG1')), objectOf(row('JG2', { name: '~' }))]).split('~');
      return streamed(path.join(dir, 'element-50mb.json'), [before, ...repeated('x'.repeat(MIB), 50), after]);
    },
    expected: { error: 'element 2 of the array is longer than 1 MiB (1,048,576 characters)' },
    peakRssMb: 400,
  },
  {
    name: '20k JSON elements, all bad',
    file: written('all-bad.json', JSON.stringify(JSON_BAD.rows.map(objectOf))),
    expected: { counts: { read: 20_000, rejected: 20_000 }, rejectGroups: JSON_BAD.groups },
    peakRssMb: 400,
  },

  // NDJSON
  { name: 'an empty NDJSON file', file: fixture('empty.ndjson'), expected: { error: 'the file is empty: no header' } },
  {
    name: 'broken NDJSON syntax',
    file: fixture('broken-syntax.ndjson'),
    expected: { counts: { read: 3, inserted: 2, rejected: 1 }, rejects: [{ line: 2, reasons: ['not valid JSON'] }] },
  },
  {
    name: 'wrong NDJSON types',
    file: fixture('wrong-types.ndjson'),
    expected: {
      counts: { read: 6, inserted: 1, rejected: 5 },
      rejects: [
        {
          line: 2,
          reasons: [
            "Quantity Sold must be a whole number from 1 to 2147483647 (got '[1,2]')",
            `Unit Price must be a plain decimal >= 0, like 12.50 (got '{"amount":1}')`,
            "Discount must be a fraction from 0 to 1 or a percentage from 0% to 100% (got 'true')",
          ],
        },
        ...[3, 4, 5, 6].map((line) => ({ line, reasons: ['not a JSON object'] })),
      ],
    },
  },
  {
    name: 'invalid UTF-8 in an NDJSON value',
    file: fixture('invalid-utf8.ndjson'),
    expected: { counts: { read: 2, inserted: 1, rejected: 1 }, rejects: [{ line: 2, reasons: [NOT_UTF8] }] },
  },
  {
    name: 'a 10 MB NDJSON element',
    file: written(
      'element-10mb.ndjson',
      [row('NH1'), row('NH2', { name: 'x'.repeat(10 * MIB) })].map((r) => JSON.stringify(objectOf(r))).join('\n'),
    ),
    expected: { error: LINE_TOO_LONG(2) },
    peakRssMb: 400,
  },
  {
    name: '20k NDJSON records, all bad',
    file: written('all-bad.ndjson', NDJSON_BAD.rows.map((r) => JSON.stringify(objectOf(r))).join('\n')),
    expected: { counts: { read: 20_000, rejected: 20_000 }, rejectGroups: NDJSON_BAD.groups },
    peakRssMb: 400,
  },
];

/**
 * What a load may change, row by row: every table but the run history, whose failed run is the one trace a
 * fatal error leaves. The rejects are counted (a million of them is no text to digest).
 */
async function fingerprint(db: TestDatabase): Promise<Record<string, string>> {
  const { rows: tables } = await db.pool.query(`
    SELECT table_name AS name FROM information_schema.tables
    WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
      AND table_name NOT IN ('refresh_runs', 'refresh_rejects', 'schema_migrations')
    ORDER BY 1`);
  const print: Record<string, string> = {};
  for (const { name } of tables) {
    const { rows } = await db.pool.query(
      `SELECT count(*) || ' ' || md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) AS print FROM ${name} t`,
    );
    print[name] = rows[0].print;
  }
  print.refresh_rejects = (await db.pool.query('SELECT count(*)::text AS n FROM refresh_rejects')).rows[0].n;
  return print;
}

/** The stored sales alone: a load whose every row is rejected still records them, and bumps the data version. */
async function storedData(db: TestDatabase): Promise<Record<string, string>> {
  const { refresh_rejects, data_version, ...data } = await fingerprint(db);
  return data;
}

interface Outcome {
  run: RefreshRun;
  peakRssMb?: number;
}

/** `npm run load -- FILE --json` in a child process: the run, and the process's peak RSS. */
async function loadInChild(db: TestDatabase, file: string): Promise<Outcome> {
  const { stdout } = await run(process.execPath, [LOAD, file, '--json'], { env: { ...process.env, DATABASE_URL: db.url } }).catch(
    (failed: { stdout: string }) => failed,
  );
  return JSON.parse(stdout);
}

async function storedRejects(db: TestDatabase, runId: number): Promise<Reject[]> {
  const { rows } = await db.pool.query('SELECT line, reasons FROM refresh_rejects WHERE run_id = $1 ORDER BY line', [runId]);
  return rows;
}

async function rejectGroups(db: TestDatabase, runId: number): Promise<RejectGroup[]> {
  const { rows } = await db.pool.query(
    `SELECT reasons, count(*)::int AS rows, min(line)::int AS first, max(line)::int AS last
     FROM refresh_rejects WHERE run_id = $1 GROUP BY reasons ORDER BY first`,
    [runId],
  );
  return rows;
}

/** The outcome of a load of one case's file, checked against what the case expects. */
async function expectOutcome(db: TestDatabase, { run: finished }: Outcome, expected: Expected, before: Record<string, string>) {
  if ('error' in expected) {
    expect({ status: finished.status, error: finished.error }).to.deep.equal({ status: 'failed', error: expected.error });
    expect(await fingerprint(db)).to.deep.equal(before);
    return;
  }
  expect({ status: finished.status, error: finished.error }).to.deep.equal({ status: 'succeeded', error: null });
  expect(finished.counts).to.deep.equal({ ...NO_COUNTS, ...expected.counts });
  if (expected.rejects) expect(await storedRejects(db, finished.id)).to.deep.equal(expected.rejects);
  if (expected.rejectGroups) expect(await rejectGroups(db, finished.id)).to.deep.equal(expected.rejectGroups);
}

const GOOD = `${HEADER}\n${row('G1')}\n${row('G2')}\n`;

describe('hostile input', () => {
  const db = useTestDatabase();
  let dir: string;

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sales-hostile-'));
    // A fatal error must leave a database that holds data as it was, not only an empty one.
    const { run: good } = await load(db().pool, await written('good.csv', GOOD)(dir));
    expect(good.counts).to.include({ inserted: 2 });
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  for (const hostile of CASES) {
    const how = hostile.peakRssMb ? `, within ${hostile.peakRssMb} MB` : '';
    const what =
      'error' in hostile.expected ? 'fails naming the problem, changing nothing' : 'rejects the bad rows with their reasons';
    it(`${hostile.name}: ${what}${how}`, async () => {
      const file = await hostile.file(dir);
      try {
        const before = await fingerprint(db());
        const outcome: Outcome = hostile.peakRssMb ? await loadInChild(db(), file) : await load(db().pool, file);
        await expectOutcome(db(), outcome, hostile.expected, before);
        if (hostile.peakRssMb) expect(outcome.peakRssMb).to.be.within(1, hostile.peakRssMb);
      } finally {
        if (file.startsWith(dir)) await fs.rm(file);
      }
    });
  }

  it('dates after the day of the load: rejected, naming that day', async () => {
    const dayOf = (date: Date) =>
      `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}-${String(date.getDate()).padStart(2, '0')}`;
    // The day is the loader's local day: a load that crossed midnight is run again.
    for (;;) {
      const now = new Date();
      const today = dayOf(now);
      const tomorrow = dayOf(new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1));
      const file = await written(
        'future.csv',
        `${HEADER}\n${row('D1', { day: tomorrow })}\n${row('D2', { day: '2999-01-01' })}\n`,
      )(dir);
      const outcome = await load(db().pool, file);
      if (dayOf(new Date()) !== today) continue;
      const pastTheDay = (day: string) => `Date of Sale is after the day of the load, ${today} (got '${day}')`;
      await expectOutcome(
        db(),
        outcome,
        {
          counts: { read: 2, rejected: 2 },
          rejects: [
            { line: 2, reasons: [pastTheDay(tomorrow)] },
            { line: 3, reasons: [pastTheDay('2999-01-01')] },
          ],
        },
        {},
      );
      return;
    }
  });

  it('1M rows, all bad: every one rejected with its reasons, within 400 MB', async function () {
    this.timeout(600_000);
    const count = 1_000_000;
    const groups = BAD_KINDS.map(({ reasons }) => ({ reasons, rows: 0, first: 0, last: 0 }));
    function* lines() {
      yield `${HEADER}\n`;
      let batch = '';
      for (let i = 0; i < count; i++) {
        const kind = i % BAD_KINDS.length;
        batch += `${row(`M${i}`, BAD_KINDS[kind].values)}\n`;
        const group = groups[kind];
        group.rows++;
        group.first ||= i + 2;
        group.last = i + 2;
        if (batch.length > 1 << 16) {
          yield batch;
          batch = '';
        }
      }
      yield batch;
    }
    const file = await streamed(path.join(dir, 'all-bad-1m.csv'), lines());
    try {
      const before = await storedData(db());
      const outcome = await loadInChild(db(), file);
      await expectOutcome(db(), outcome, { counts: { read: count, rejected: count }, rejectGroups: groups }, {});
      expect(outcome.peakRssMb).to.be.within(1, 400);
      expect(await storedData(db())).to.deep.equal(before);
    } finally {
      await fs.rm(file);
    }
  });
});

describe('hostile uploads through the API: the same outcome as the CLI', () => {
  const db = useTestDatabase();
  let server: TestServer;
  let dir: string;
  const AUTH = { Authorization: `Bearer ${TEST_TOKEN}` };

  before(async () => {
    server = await startTestServer(db());
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sales-hostile-upload-'));
    // The same history as the CLI's cases: the good load first, so the counts are the same.
    await load(db().pool, await written('good.csv', GOOD)(dir));
  });
  after(async () => {
    await server.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const upload = (body: Blob) =>
    fetch(`${server.url}/api/v1/refreshes?force=true`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/csv', ...AUTH },
      body,
    });

  for (const name of [
    'duplicate header names',
    'binary garbage',
    'a quote never closed',
    'mixed line endings: LF, CRLF, and a CR alone between two rows',
    "'1,299.00', '$12', '1e3' as prices and '03/04/2024' as a date",
    'a 10 MB field',
  ]) {
    const hostile = CASES.find((c) => c.name === name)!;
    it(`${name}, uploaded`, async () => {
      const file = await hostile.file(dir);
      try {
        const before = await fingerprint(db());
        const response = await upload(new Blob([await fs.readFile(file)]));
        expect(response.status).to.equal(202);
        const finished = (await finishedRun(server.url, (await response.json()).id)) as unknown as RefreshRun;
        await expectOutcome(db(), { run: finished }, hostile.expected, before);
      } finally {
        if (file.startsWith(dir)) await fs.rm(file);
      }
    });
  }

  it('an empty body: 400 before any run, where the CLI records a failed run (the file is empty)', async () => {
    const runs = async () => (await db().pool.query('SELECT count(*)::int AS n FROM refresh_runs')).rows[0].n;
    const before = await runs();
    const response = await upload(new Blob([]));
    expect(response.status).to.equal(400);
    expect((await response.json()).detail).to.equal('the request body is empty: send the CSV file as the body');
    expect(await runs()).to.equal(before);
  });
});
