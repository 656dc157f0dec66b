// A large file's records sorted into parts by order on disk, by the parsing thread, so that the loader's
// bookkeeping holds the orders and lines of one part at a time (file-state.ts). Every record of an order goes
// to the same part (chosen by a hash of its Order ID as validation reads it), in the file's order, not
// validated yet: the parsing thread validates them when it reads the part back, while the loader's thread
// keeps the bookkeeping of what it sends, instead of before, when the loader's thread would wait. Part 0 is
// not written: its rows go to the loader while the file is read, the other parts after it.
import fs from 'node:fs';
import path from 'node:path';
import { hashText } from '../text-hash.js';
import type { SourceRecord } from './csv-records.js';

/**
 * A part's records are written in frames of about this many bytes (at least one record), each read back as
 * one batch: as large as the file's own batches (source.ts), so that their rows die young in the loader's
 * thread too. Measured at 10M lines: with 1 MiB frames, 451 MB peak RSS and 290 s; with 64 KiB, 347 MB and 230 s.
 */
const FRAME_BYTES = 1 << 16;
/** A frame's header: the text's encoding (0: UTF-8, 1: UTF-16, for text with unpaired surrogates), its bytes, then the lengths' and the records' counts. */
const HEADER_INTS = 4;
const SURROGATE = /[\ud800-\udfff]/;
/** Per record in a frame: its line, its number of fields, whether it has extra attributes (JSON). */
const RECORD_INTS = 3;

/**
 * A file up to this size is one part: its bookkeeping stays under ~300 MB (1M lines of a typical CSV export
 * are 173 MB), and the parts' second pass would cost it about a quarter of its load time.
 */
export const ONE_PART_BYTES = 192 * 2 ** 20;
/**
 * A larger file is sorted into parts of about this size (~370k lines of a typical CSV export): measured at
 * 10M lines, the load's peak RSS stays under 400 MB.
 */
export const PART_BYTES = 64 * 2 ** 20;

/** How many parts a file of `size` bytes is loaded in; `partBytes` (tests) sets the part size for any file. */
export function partCount(size: number, partBytes?: number): number {
  if (partBytes !== undefined) return Math.max(1, Math.ceil(size / partBytes));
  return size <= ONE_PART_BYTES ? 1 : Math.ceil(size / PART_BYTES);
}

/** The part of an order code, of `parts`. The high bits of the hash: the code tables index by its low bits. */
export function partOf(orderCode: string, parts: number): number {
  return Math.floor((hashText(orderCode) / 2 ** 32) * parts);
}

const partFile = (directory: string, part: number) => path.join(directory, `part-${part}.records`);

const valuesOf = (record: SourceRecord) => [
  ...record.fields,
  record.raw,
  ...(record.extra ? [JSON.stringify(record.extra)] : []),
];

/**
 * Records encoded as they come (text kept as strings until a frame is full would outlive the young
 * generation: measured, most of the parsing thread's time went to collecting it): each record's characters
 * into one byte buffer, its values' lengths in characters, and a record index. A record with an unpaired
 * surrogate, which UTF-8 cannot hold, goes in a UTF-16 frame of its own.
 */
class FrameWriter {
  private bytes = Buffer.allocUnsafe(FRAME_BYTES);
  private used = 0;
  private lengths: number[] = [];
  private records: number[] = [];

  constructor(private readonly fd: number) {}

  add(record: SourceRecord): void {
    const values = valuesOf(record);
    let most = 0;
    for (const value of values) most += value.length * 3;
    if (this.used > 0 && this.used + most > this.bytes.length) this.flush(0);
    if (most > this.bytes.length) this.bytes = Buffer.allocUnsafe(most);
    let text = '';
    for (const value of values) text += value;
    const written = this.bytes.write(text, this.used, 'utf8');
    if (written !== text.length && SURROGATE.test(text)) {
      this.writeUtf16(record, values);
      return;
    }
    this.used += written;
    for (const value of values) this.lengths.push(value.length);
    this.records.push(record.line, record.fields.length, record.extra ? 1 : 0);
  }

  close(): void {
    this.flush(0);
    fs.closeSync(this.fd);
  }

  private writeUtf16(record: SourceRecord, values: string[]): void {
    this.flush(0);
    const text = values.join('');
    if (text.length * 2 > this.bytes.length) this.bytes = Buffer.allocUnsafe(text.length * 2);
    this.used = this.bytes.write(text, 0, 'utf16le');
    this.lengths = values.map((value) => value.length);
    this.records = [record.line, record.fields.length, record.extra ? 1 : 0];
    this.flush(1);
  }

  private flush(encoding: 0 | 1): void {
    if (this.records.length === 0) return;
    const header = Int32Array.of(encoding, this.used, this.lengths.length, this.records.length);
    for (const chunk of [
      header,
      this.bytes.subarray(0, this.used),
      Int32Array.from(this.lengths),
      Int32Array.from(this.records),
    ]) {
      fs.writeSync(this.fd, chunk);
    }
    this.used = 0;
    this.lengths = [];
    this.records = [];
  }
}

export class PartWriter {
  private readonly writers: (FrameWriter | undefined)[];

  constructor(
    directory: string,
    readonly parts: number,
  ) {
    this.writers = Array.from({ length: parts }, (_, part) =>
      part === 0 ? undefined : new FrameWriter(fs.openSync(partFile(directory, part), 'w')),
    );
  }

  /** Adds a record of a part other than 0. */
  add(part: number, record: SourceRecord): void {
    this.writers[part]!.add(record);
  }

  /** Writes what is left and closes the files. */
  close(): void {
    for (const writer of this.writers) writer?.close();
  }
}

function readFully(fd: number, target: ArrayBufferView): void {
  const bytes = new Uint8Array(target.buffer, target.byteOffset, target.byteLength);
  for (let done = 0; done < bytes.length; ) {
    const read = fs.readSync(fd, bytes, done, bytes.length - done, null);
    if (read === 0) throw new Error('a part of the file ended early');
    done += read;
  }
}

/** A written part's records, a frame at a time, in the order they were written. */
export function* readPart(directory: string, part: number): Generator<SourceRecord[]> {
  const fd = fs.openSync(partFile(directory, part), 'r');
  try {
    const header = new Int32Array(HEADER_INTS);
    for (let left = fs.fstatSync(fd).size; left > 0; ) {
      readFully(fd, header);
      const [utf16, byteCount, lengthCount, recordCount] = header;
      const bytes = Buffer.allocUnsafe(byteCount); // read in full below
      const lengths = new Int32Array(lengthCount);
      const index = new Int32Array(recordCount);
      for (const chunk of [bytes, lengths, index]) readFully(fd, chunk);
      left -= header.byteLength + byteCount + lengths.byteLength + index.byteLength;
      const text = bytes.toString(utf16 ? 'utf16le' : 'utf8');
      let offset = 0;
      let value = 0;
      const next = () => {
        offset += lengths[value];
        return text.slice(offset - lengths[value++], offset);
      };
      const records: SourceRecord[] = [];
      for (let r = 0; r < index.length; r += RECORD_INTS) {
        // A plain loop: Array.from with a mapping function took most of this function's time.
        const fields: string[] = [];
        for (let f = index[r + 1]; f > 0; f--) fields.push(next());
        const record: SourceRecord = { line: index[r], fields, raw: next() };
        if (index[r + 2] === 1) record.extra = JSON.parse(next());
        records.push(record);
      }
      yield records;
    }
  } finally {
    fs.closeSync(fd);
  }
}
