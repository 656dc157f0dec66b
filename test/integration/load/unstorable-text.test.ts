// Text PostgreSQL cannot store (a NUL byte, bytes that are not UTF-8) and COPY failures, both ways of loading:
// the row is rejected with its raw text kept (each such byte shown as \xHH), the rest loads; a COPY the
// server refuses fails the load at once instead of leaving it waiting.
import { expect } from 'chai';
import { BRIEF_HEADER } from '../../../src/generate/sales-generator.js';
import { type TestDatabase, useTestDatabase } from '../../support/database.js';
import { load, writeFile } from '../../support/sales-files.js';

const HEADER = BRIEF_HEADER.join(',');

/** A valid row in the brief's column order; `name` and `day` are written as given. */
function row(order: string, name = `Lamp ${order}`, day = '2024-01-10'): string {
  return `${order},P${order},C1,${name},Home,Europe,${day},1,10.00,0,1.50,Card,Ann,ann@x.io,1 Road`;
}

async function storedRejects(db: TestDatabase, runId: number) {
  const { rows } = await db.pool.query('SELECT line, reasons, raw FROM refresh_rejects WHERE run_id = $1 ORDER BY line', [runId]);
  return rows as { line: number; reasons: string[]; raw: string }[];
}

const lineCount = async (db: TestDatabase) => (await db.pool.query('SELECT count(*)::int AS n FROM order_items')).rows[0].n;

describe('text PostgreSQL cannot store, and COPY failures', () => {
  const db = useTestDatabase({ each: true });

  // A first load streams lines straight into order_items; any other load stages them: both must agree.
  const ways = {
    'a first load': async () => {},
    'a load into data': async () => {
      await load(db().pool, await writeFile([HEADER, row('900')].join('\n')));
    },
  };

  for (const [way, storeFirst] of Object.entries(ways)) {
    it(`rejects a row holding a NUL byte, naming it, keeps its raw text with the byte as \\x00 and loads the rest (${way})`, async () => {
      await storeFirst();
      const before = await lineCount(db());
      const file = await writeFile([HEADER, row('1'), row('2', 'Lamp\0two'), row('3', 'Lamp', '2024-01-\x0010')].join('\n'));
      const { run, result } = await load(db().pool, file);
      expect(run).to.include({ status: 'succeeded', error: null });
      expect(result!.counts).to.include({ read: 3, inserted: 1, rejected: 2 });
      expect(await lineCount(db())).to.equal(before + 1);
      expect(await storedRejects(db(), run.id)).to.deep.equal([
        { line: 3, reasons: ['contains a NUL byte (0x00), which PostgreSQL text cannot hold'], raw: row('2', 'Lamp\\x00two') },
        {
          line: 4,
          reasons: [
            "Date of Sale must be YYYY-MM-DD, optionally followed by a time (got '2024-01-\\x0010')",
            'contains a NUL byte (0x00), which PostgreSQL text cannot hold',
          ],
          raw: row('3', 'Lamp', '2024-01-\\x0010'),
        },
      ]);
    });

    it(`rejects a row holding bytes that are not UTF-8, naming them, instead of loading replacement characters (${way})`, async () => {
      await storeFirst();
      const latin1 = Buffer.from(`${row('2', 'Caf\xe9 cr\xe8me')}\n`, 'latin1'); // é and è as single bytes
      const truncated = Buffer.concat([Buffer.from(`${row('3', 'Tea ')}`.split(',Home')[0]), Buffer.from([0xe2, 0x82])]);
      const file = await writeFile(
        Buffer.concat([
          Buffer.from(`${HEADER}\n${row('1', 'Caf\u00e9 \u20ac')}\n`),
          latin1,
          truncated,
          Buffer.from(`,Home,Europe,2024-01-10,1,10.00,0,1.50,Card,Ann,ann@x.io,1 Road\n`),
        ]),
      );
      const { run, result } = await load(db().pool, file);
      expect(run).to.include({ status: 'succeeded', error: null });
      expect(result!.counts).to.include({ read: 3, rejected: 2 });
      const { rows } = await db().pool.query(`SELECT name FROM products WHERE code = 'P1'`);
      expect(rows).to.deep.equal([{ name: 'Caf\u00e9 \u20ac' }]);
      const notUtf8 = (bytes: string) =>
        `contains bytes that are not UTF-8: ${bytes} (is the file in another encoding, such as Windows-1252? Save it as UTF-8)`;
      expect(await storedRejects(db(), run.id)).to.deep.equal([
        { line: 3, reasons: [notUtf8('0xE9, 0xE8')], raw: row('2', 'Caf\\xE9 cr\\xE8me') },
        { line: 4, reasons: [notUtf8('0xE2, 0x82')], raw: row('3', 'Tea \\xE2\\x82') },
      ]);
    });

    it(`fails the run at once when the server refuses a COPY, and the next load runs (${way})`, async () => {
      await storeFirst();
      await db().pool.query(`
        CREATE FUNCTION refuse_rejects() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'refused by a test trigger'; END $$;
        CREATE TRIGGER refuse_rejects BEFORE INSERT ON refresh_rejects FOR EACH ROW EXECUTE FUNCTION refuse_rejects()`);
      const before = await lineCount(db());
      const file = await writeFile([HEADER, row('1'), row('2', '')].join('\n'));
      const failed = await load(db().pool, file);
      expect(failed.run).to.include({ status: 'failed', error: 'refused by a test trigger' });
      expect(await lineCount(db())).to.equal(before);

      await db().pool.query('DROP TRIGGER refuse_rejects ON refresh_rejects');
      const next = await load(db().pool, file);
      expect(next.run).to.include({ status: 'succeeded' });
      expect(next.result!.counts).to.include({ inserted: 1, rejected: 1 });
    });
  }

  it('rejects an NDJSON record whose value holds a NUL, which its raw JSON text only escapes', async () => {
    const object = (order: string, name: string) =>
      JSON.stringify(Object.fromEntries(BRIEF_HEADER.map((key, i) => [key, row(order, name).split(',')[i]])));
    const file = await writeFile([object('1', 'Lamp'), object('2', 'La\0mp')].join('\n'), 'ndjson');
    const { run, result } = await load(db().pool, file);
    expect(result!.counts).to.include({ read: 2, inserted: 1, rejected: 1 });
    expect(await storedRejects(db(), run.id)).to.deep.equal([
      { line: 2, reasons: ['contains a NUL byte (0x00), which PostgreSQL text cannot hold'], raw: object('2', 'La\0mp') },
    ]);
  });

  it('fails a first load at once when the server refuses its lines COPY', async () => {
    await db().pool.query(`
      CREATE FUNCTION refuse_lines() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'lines refused by a test trigger'; END $$;
      CREATE TRIGGER refuse_lines BEFORE INSERT ON order_items FOR EACH ROW EXECUTE FUNCTION refuse_lines()`);
    const { run } = await load(db().pool, await writeFile([HEADER, row('1'), row('2')].join('\n')));
    expect(run).to.include({ status: 'failed', error: 'lines refused by a test trigger' });
    expect(await lineCount(db())).to.equal(0);
  });
});
