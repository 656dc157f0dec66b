// The reader: a file's bytes in (file.ts), batches of records out: CSV records, or JSON objects as records
// under the header their first object's keys make.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { streamArray } from 'stream-json/streamers/stream-array.js';
import withParser from 'stream-json/utils/with-parser.js';
import {
  CHUNK_BYTES,
  detectFormat,
  type EarlierFile,
  InputFormatError,
  type RecognisedStart,
  recogniseStart,
  type SourceFormat,
  type SourceProgress,
  statFile,
} from '../1-bytes/file.js';
import { Utf8Decoder, unstorableReasons } from '../1-bytes/utf8.js';
import { CsvRecordReader, lineTooLong, MAX_RECORD_CHARS, type SourceRecord } from './csv-records.js';

/** A source of records. The first CSV record is the header; JSON records carry their objects. */
export interface RecordSource {
  format: SourceFormat;
  progress: SourceProgress;
  batches: AsyncIterable<SourceRecord[]>;
  /** The start of the file recognised as the earlier file's: its records are not among the batches. */
  recognised?: RecognisedStart;
  /** SHA-256 of the file's bytes, complete once the batches are exhausted. */
  sha256(): string;
}

async function* csvBatches(chunks: AsyncIterable<Buffer>, start?: CsvStart): AsyncGenerator<SourceRecord[]> {
  const decoder = new Utf8Decoder();
  const reader = new CsvRecordReader(start?.firstLine);
  if (start) yield [start.header];
  // A batch per chunk, even an empty one: it carries the bytes read, whose progress must not stall.
  for await (const chunk of chunks) yield reader.push(decoder.write(chunk));
  const rest = reader.push(decoder.end());
  rest.push(...reader.end());
  if (rest.length > 0) yield rest;
}

/** A JSON value as the text a CSV cell would hold. */
function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** An NDJSON line that does not parse. */
const NOT_JSON = Symbol('not JSON');

/**
 * JSON objects become records under a header made of the first object's keys; keys first seen later go to
 * the line's attributes. Line numbers are NDJSON's physical lines, or an array element's position (1-based).
 */
class JsonRecordMapper {
  private header: string[] | undefined;
  private known = new Set<string>();

  toRecords(objects: { line: number; value: unknown; raw: string }[]): SourceRecord[] {
    const records: SourceRecord[] = [];
    for (const { line, value, raw } of objects) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        const problem = value === NOT_JSON ? 'not valid JSON' : 'not a JSON object';
        if (this.header === undefined) throw new InputFormatError(`record ${line} is ${problem}`);
        records.push({ line, fields: [], raw, error: problem });
        continue;
      }
      const object = value as Record<string, unknown>;
      if (this.header === undefined) {
        this.header = Object.keys(object);
        this.known = new Set(this.header);
        records.push({ line: 0, fields: this.header, raw: '' });
      }
      const record: SourceRecord = { line, fields: this.header.map((key) => cellText(object[key])), raw };
      for (const key of Object.keys(object)) {
        if (this.known.has(key) || cellText(object[key]) === '') continue;
        record.extra ??= {};
        record.extra[key] = cellText(object[key]);
      }
      // The raw text is JSON, which escapes a NUL or a lone surrogate: the values are what would be stored.
      const unstorable = unstorableReasons(record.extra ? [...record.fields, ...Object.values(record.extra)] : record.fields);
      if (unstorable.length > 0) record.unstorable = unstorable;
      records.push(record);
    }
    return records;
  }
}

async function* ndjsonBatches(chunks: AsyncIterable<Buffer>): AsyncGenerator<SourceRecord[]> {
  const decoder = new Utf8Decoder();
  const mapper = new JsonRecordMapper();
  let rest = '';
  let line = 0;
  let first = true;
  const parse = (text: string) => {
    const objects: { line: number; value: unknown; raw: string }[] = [];
    const lines = text.split('\n');
    rest = lines.pop()!;
    if (rest.length > MAX_RECORD_CHARS) throw lineTooLong(line + lines.length + 1, rest);
    for (let raw of lines) {
      line++;
      if (first) {
        raw = raw.replace(/^\uFEFF/, '');
        first = false;
      }
      raw = raw.replace(/\r$/, '');
      if (raw.trim() === '') continue;
      try {
        objects.push({ line, value: JSON.parse(raw), raw });
      } catch {
        objects.push({ line, value: NOT_JSON, raw });
      }
    }
    return objects;
  };
  for await (const chunk of chunks) yield mapper.toRecords(parse(rest + decoder.write(chunk)));
  const records = mapper.toRecords(parse(`${rest}${decoder.end()}\n`));
  if (records.length > 0) yield records;
}

async function* decoded(chunks: AsyncIterable<Buffer>): AsyncGenerator<string> {
  const decoder = new Utf8Decoder();
  for await (const chunk of chunks) yield decoder.write(chunk);
  const rest = decoder.end();
  if (rest) yield rest;
}

/** A parser token (stream-json): its chunks carry the text of keys, strings and numbers. */
type JsonToken = { name: string; value?: unknown };
/** The tokens a value opens with; in the array itself (depth 1), each opens an element. */
const ELEMENT_STARTS = new Set([
  'startObject',
  'startArray',
  'startString',
  'startNumber',
  'nullValue',
  'trueValue',
  'falseValue',
]);

/**
 * streamArray, refusing an element whose keys, strings and numbers pass MAX_RECORD_CHARS as soon as they do:
 * the parser hands them over in pieces, while an element is assembled whole (a 50 MB one took ~600 MB).
 */
function boundedElements(options?: object) {
  const elements = streamArray(options);
  let depth = 0;
  let element = 0;
  let size = 0;
  return (token: JsonToken) => {
    const { name } = token;
    if (depth === 1 && ELEMENT_STARTS.has(name)) {
      element++;
      size = 0;
    }
    if (name === 'startObject' || name === 'startArray') depth++;
    else if (name === 'endObject' || name === 'endArray') depth--;
    size += name.endsWith('Chunk') ? (token.value as string).length : 1;
    if (size > MAX_RECORD_CHARS) {
      throw new InputFormatError(`element ${element} of the array is longer than 1 MiB (1,048,576 characters)`);
    }
    return elements(token as Parameters<typeof elements>[0]);
  };
}

async function* jsonArrayBatches(chunks: AsyncIterable<Buffer>): AsyncGenerator<SourceRecord[]> {
  const mapper = new JsonRecordMapper();
  let blank = true;
  async function* text() {
    for await (const piece of decoded(chunks)) {
      blank &&= piece.trim() === '';
      yield piece;
    }
  }
  // Decoded here, not by the parser, so that bytes that are not UTF-8 reach the validator (utf8.ts); and
  // handed over as text (decodeStrings: false), which re-encoding as UTF-8 would turn into U+FFFD.
  const parse = withParser.asStream(boundedElements as Parameters<typeof withParser.asStream>[0], {
    packKeys: true,
    decodeStrings: false,
  });
  const elements = Readable.from(text()).pipe(parse);
  let batch: { line: number; value: unknown; raw: string }[] = [];
  try {
    for await (const { key, value } of elements as AsyncIterable<{ key: number; value: unknown }>) {
      batch.push({ line: key + 1, value, raw: JSON.stringify(value) });
      if (batch.length >= 1000) {
        yield mapper.toRecords(batch);
        batch = [];
      }
    }
  } catch (error) {
    if (error instanceof InputFormatError) throw error;
    // Nothing but white space: empty, as the other formats say.
    if (blank) return;
    throw new InputFormatError(`not a valid JSON array of objects: ${(error as Error).message}`);
  }
  if (batch.length > 0) yield mapper.toRecords(batch);
}

interface CsvStart {
  /** The file's header record, read from its first line. */
  header: SourceRecord;
  /** The line the records after the recognised start begin on. */
  firstLine: number;
}

/** The first record of a CSV file: its header. */
async function csvHeader(file: string): Promise<SourceRecord> {
  const decoder = new Utf8Decoder();
  const reader = new CsvRecordReader();
  for await (const chunk of createReadStream(file, { highWaterMark: CHUNK_BYTES })) {
    const [header] = reader.push(decoder.write(chunk as Buffer));
    if (header) return header;
  }
  const [header] = reader.end();
  return header;
}

/**
 * The file's records. Given the file the record was last loaded from, a CSV file that begins with its bytes
 * (the same export grown, say) is read from where that file ended: its header, then the records after it,
 * numbered on from its lines (`recognised`). The caller decides whether those records can stand for the file.
 */
export async function openRecordSource(file: string, format?: SourceFormat, earlier?: EarlierFile): Promise<RecordSource> {
  const stat = await statFile(file);
  const resolvedFormat = format ?? (await detectFormat(file));
  let hash = createHash('sha256');
  let recognised: RecognisedStart | undefined;
  if (earlier && resolvedFormat === 'csv' && earlier.format === 'csv' && stat.size >= earlier.bytes) {
    recognised = await recogniseStart(file, earlier, hash);
    if (!recognised) hash = createHash('sha256');
  }
  const start = recognised?.bytes ?? 0;
  const progress: SourceProgress = { bytesRead: start, bytesTotal: stat.size };
  async function* chunks(): AsyncGenerator<Buffer> {
    for await (const chunk of createReadStream(file, { start, highWaterMark: CHUNK_BYTES })) {
      hash.update(chunk as Buffer);
      progress.bytesRead += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
  }
  const batches = recognised
    ? csvBatches(chunks(), { header: await csvHeader(file), firstLine: recognised.lines + 1 })
    : { csv: csvBatches, json: jsonArrayBatches, ndjson: ndjsonBatches }[resolvedFormat](chunks());
  return { format: resolvedFormat, progress, batches, recognised, sha256: () => hash.copy().digest('hex') };
}
