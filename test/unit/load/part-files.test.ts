import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { SourceRecord } from '../../../src/load/2-records/csv-records.js';
import { PartWriter, partOf, readPart } from '../../../src/load/2-records/part-files.js';

describe('part files', () => {
  it('give every code one part in range, and spread codes over all parts', () => {
    const counts = new Array(7).fill(0);
    for (let i = 0; i < 7000; i++) {
      const part = partOf(`ORD-${i}`, 7);
      expect(part).to.be.within(0, 6);
      expect(partOf(`ORD-${i}`, 7)).to.equal(part);
      counts[part]++;
    }
    for (const count of counts) expect(count).to.be.within(800, 1200);
  });

  it('read back each part as written, in order, text of any script and unpaired surrogates included', () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'part-files-'));
    try {
      const writer = new PartWriter(directory, 3);
      const names = ['Ann', 'Zoë', '山田', '\ud83d\ude00 smile', 'lone \ud800 half', 'x'.repeat(300_000)];
      const written: SourceRecord[][] = [[], [], []];
      for (let i = 0; i < 2000; i++) {
        const part = 1 + (i % 2);
        const name = names[i % names.length];
        const record: SourceRecord = { line: i + 2, fields: [`O${i}`, name, '', ' 12.50 '], raw: `O${i},${name},, 12.50 ` };
        if (i % 3 === 0) record.extra = { campaign: name };
        writer.add(part, record);
        written[part].push(record);
      }
      writer.close();
      for (const part of [1, 2]) expect([...readPart(directory, part)].flat()).to.deep.equal(written[part]);
      expect(fs.existsSync(path.join(directory, 'part-0.rows'))).to.equal(false);
    } finally {
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });
});
