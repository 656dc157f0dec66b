import { expect } from 'chai';
import { InputFormatError } from '../../../src/load/1-bytes/file.js';
import { BARE_CR_REASON, CsvRecordReader, MAX_RECORD_CHARS, type SourceRecord } from '../../../src/load/2-records/csv-records.js';

/** Feeds `text` in chunks of `size` characters, as a stream would. */
function read(text: string, size = text.length): SourceRecord[] {
  const reader = new CsvRecordReader();
  const records: SourceRecord[] = [];
  for (let i = 0; i < text.length; i += size) records.push(...reader.push(text.slice(i, i + size)));
  records.push(...reader.end());
  return records;
}

describe('CsvRecordReader', () => {
  it('numbers records by physical line, the header being line 1', () => {
    const records = read('a,b\n1,2\n3,4\n');
    expect(records.map((r) => [r.line, r.fields])).to.deep.equal([
      [1, ['a', 'b']],
      [2, ['1', '2']],
      [3, ['3', '4']],
    ]);
  });

  it('skips blank lines without counting them as records but keeps line numbers physical', () => {
    const records = read('a,b\n\n1,2\n   \r\n3,4');
    expect(records.map((r) => r.line)).to.deep.equal([1, 3, 5]);
  });

  it('strips a UTF-8 BOM and CRLF line endings', () => {
    const records = read('\uFEFFa,b\r\n1,2\r\n');
    expect(records.map((r) => r.fields)).to.deep.equal([
      ['a', 'b'],
      ['1', '2'],
    ]);
    expect(records[1].raw).to.equal('1,2');
  });

  it('reads quoted fields with commas, escaped quotes and newlines, numbering the next record after them', () => {
    const text = 'a,b,c\n"x, y","say ""hi""","line one\nline two"\n4,5,6\n';
    const records = read(text);
    expect(records[1]).to.deep.equal({
      line: 2,
      fields: ['x, y', 'say "hi"', 'line one\nline two'],
      raw: text.split('\n4')[0].slice(6),
    });
    expect(records[2]).to.include({ line: 4 });
    expect(records[2].fields).to.deep.equal(['4', '5', '6']);
  });

  it('gives the same records whatever the chunk size', () => {
    const text = 'h1,h2\r\n"a\r\nb",c\r\n\r\n"""q""",""\r\nlast,"x"';
    const whole = read(text);
    for (const size of [1, 2, 3, 5, 7]) expect(read(text, size)).to.deep.equal(whole);
    expect(whole.map((r) => r.fields)).to.deep.equal([
      ['h1', 'h2'],
      ['a\r\nb', 'c'],
      ['"q"', ''],
      ['last', 'x'],
    ]);
  });

  it('keeps bare commas as separate fields (the loader joins an overflowing address)', () => {
    const [, row] = read('a,b\n1,123 Main St, Anytown, CA 12345\n');
    expect(row.fields).to.deep.equal(['1', '123 Main St', ' Anytown', ' CA 12345']);
  });

  it('rejects the line an unterminated quote opens on and reads on from the next line', () => {
    const records = read('a,b\n1,"oops\n2,3\n');
    expect(records[1]).to.deep.include({ line: 2, error: 'unterminated quoted field', raw: '1,"oops' });
    expect(records[2]).to.deep.include({ line: 3, fields: ['2', '3'] });
  });

  it('rejects a data line holding a CR outside quotes, quoted fields or not, and keeps a CR inside quotes', () => {
    const records = read('a,b\n1,2\r3,4\n"x",y\rz\n"p\rq",r\r\n5,6\n');
    expect(records.slice(1).map(({ line, fields, error }) => ({ line, fields, error }))).to.deep.equal([
      { line: 2, fields: [], error: BARE_CR_REASON },
      { line: 3, fields: [], error: BARE_CR_REASON },
      { line: 4, fields: ['p\rq', 'r'], error: undefined },
      { line: 5, fields: ['5', '6'], error: undefined },
    ]);
    expect(records[1].raw).to.equal('1,2\r3,4');
  });

  it('keeps text after a closing quote, leniently', () => {
    const [, row] = read('a,b\n"x"y,z\n');
    expect(row.fields).to.deep.equal(['xy', 'z']);
  });

  it('reads a last record without a newline and a lone empty field', () => {
    expect(read('a\n1').map((r) => r.fields)).to.deep.equal([['a'], ['1']]);
    expect(read('a,b\n,\n')[1].fields).to.deep.equal(['', '']);
  });

  it('marks a record whose text PostgreSQL cannot store with the reasons, quoted or not', () => {
    const records = read('a,b\n1,x\0y\n"2\uDCE9",z\n3,4\n');
    expect(records[1].unstorable).to.deep.equal(['contains a NUL byte (0x00), which PostgreSQL text cannot hold']);
    expect(records[2].unstorable?.[0]).to.match(/^contains bytes that are not UTF-8: 0xE9 /);
    expect(records[3]).to.not.have.property('unstorable');
  });

  it('fails on a line longer than 1 MiB as soon as that much has been pushed, naming the line', () => {
    const reader = new CsvRecordReader();
    reader.push('a,b\n');
    const chunk = 'x'.repeat(1 << 16);
    let pushed = 0;
    const overlong = () => {
      for (;;) {
        reader.push(chunk);
        pushed += chunk.length;
      }
    };
    expect(overlong).to.throw(
      InputFormatError,
      "line 2 is longer than 1 MiB (1,048,576 characters): do the file's lines end in LF or CRLF?",
    );
    expect(pushed).to.equal(MAX_RECORD_CHARS); // the push that crossed the limit threw
  });

  it('says when an overlong line holds bare CRs: a file whose lines end in CR only', () => {
    const reader = new CsvRecordReader();
    expect(() => reader.push('a,b\r1,2\r'.repeat(MAX_RECORD_CHARS / 8 + 1))).to.throw(
      InputFormatError,
      "line 1 is longer than 1 MiB (1,048,576 characters): its text holds CR characters: the file's lines end in CR only (old Mac); use LF or CRLF",
    );
  });

  it('reads a line up to the limit, pushed in many chunks', () => {
    const long = 'y'.repeat(MAX_RECORD_CHARS - 2);
    const records = read(`a\n${long}\nz\n`, 1000);
    expect(records.map((r) => r.fields[0].length)).to.deep.equal([1, long.length, 1]);
  });

  it('fails a file whose header line holds a bare CR: its lines end in CR only', () => {
    expect(() => read('a,b\r1,2\r3,4\r')).to.throw(InputFormatError, "the file's lines end in CR only (old Mac); use LF or CRLF");
    expect(read('a,b\r\n"1\r2",3\r\n').map((r) => r.fields)).to.deep.equal([
      ['a', 'b'],
      ['1\r2', '3'],
    ]);
  });
});
