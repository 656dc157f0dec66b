// The parsing thread of a load: reads, hashes and splits the file and validates each record, on the second
// core, while the loader's thread keeps the in-file bookkeeping and feeds PostgreSQL. At most MAX_IN_FLIGHT
// batches wait for the loader: memory stays bounded whatever the file size. A file of more than one part
// (part-files.ts) sends the records of part 0 as it is read, then each other part's, validated as they are
// read back, a 'part' message after each part but the last.
import { parentPort, workerData } from 'node:worker_threads';
import type { EarlierFile, RecognisedStart, SourceFormat } from './1-bytes/file.js';
import { type ColumnMap, mapColumns } from './2-records/columns.js';
import type { SourceRecord } from './2-records/csv-records.js';
import { PartWriter, partCount, partOf, readPart } from './2-records/part-files.js';
import { openRecordSource } from './2-records/source.js';
import { recordOrderCode, validateLine } from './3-rows/validate-line.js';
import { BatchEncoder } from './row-codec.js';

export interface ParseJob {
  file: string;
  format?: SourceFormat;
  today: string;
  /** The file the record was last loaded from: a file that begins with it is read from where it ended. */
  earlier?: EarlierFile;
  /** The bytes of file per part (tests); default: partCount's. */
  partBytes?: number;
  /** The directory the parts' files go to (when the rows read are more than one part). */
  directory: string;
}

export type ParseMessage =
  | { type: 'batch'; batch: ReturnType<BatchEncoder['finish']>; progress: { bytesRead: number; bytesTotal: number } }
  | { type: 'part' }
  | { type: 'end'; sha256: string; bytes: number; format: SourceFormat; header: boolean; recognised?: RecognisedStart }
  | { type: 'error'; name: string; message: string; stack?: string };

const MAX_IN_FLIGHT = 3;

const port = parentPort!;
let credits = MAX_IN_FLIGHT;
let waiting: (() => void) | undefined;
port.on('message', () => {
  credits++;
  waiting?.();
  waiting = undefined;
});

async function send(message: ParseMessage): Promise<void> {
  if (message.type === 'batch') {
    if (credits === 0) {
      await new Promise<void>((resolve) => {
        waiting = resolve;
      });
    }
    credits--;
    port.postMessage(message, [message.batch.lengths.buffer as ArrayBuffer, message.batch.records.buffer as ArrayBuffer]);
    return;
  }
  port.postMessage(message);
}

async function parse({ file, format, today, earlier, partBytes, directory }: ParseJob): Promise<void> {
  const source = await openRecordSource(file, format, earlier);
  const { bytesRead, bytesTotal } = source.progress;
  const parts = partCount(bytesTotal - bytesRead, partBytes);
  const writer = parts > 1 ? new PartWriter(directory, parts) : undefined;
  let columns: ColumnMap | undefined;

  const encode = (encoder: BatchEncoder, record: SourceRecord, map: ColumnMap) => {
    const { line, raw, unstorable = [] } = record;
    if (record.error) {
      encoder.add({ line, reasons: [record.error, ...unstorable], raw });
      return;
    }
    const result = validateLine(record.fields, map, today, record.extra);
    if (result.ok && unstorable.length === 0) {
      encoder.add({ line, row: result.line, raw });
    } else {
      encoder.add({ line, reasons: [...(result.ok ? [] : result.reasons), ...unstorable], raw });
    }
  };

  for await (const records of source.batches) {
    const encoder = new BatchEncoder();
    for (const record of records) {
      if (columns === undefined) {
        columns = mapColumns(record.fields);
        continue;
      }
      // A record of a later part waits there, unless it is refused whatever its order (it is rejected now).
      if (writer && !record.error && !record.unstorable?.length) {
        const part = partOf(recordOrderCode(record.fields, columns), parts);
        if (part !== 0) {
          writer.add(part, record);
          continue;
        }
      }
      encode(encoder, record, columns);
    }
    await send({ type: 'batch', batch: encoder.finish(), progress: { ...source.progress } });
  }
  if (writer && columns) {
    writer.close();
    for (let part = 1; part < parts; part++) {
      await send({ type: 'part' });
      for (const records of readPart(directory, part)) {
        const encoder = new BatchEncoder();
        for (const record of records) encode(encoder, record, columns);
        await send({ type: 'batch', batch: encoder.finish(), progress: { ...source.progress } });
      }
    }
  }
  const header = columns !== undefined;
  const { recognised } = source;
  await send({
    type: 'end',
    sha256: source.sha256(),
    bytes: source.progress.bytesRead,
    format: source.format,
    header,
    recognised,
  });
}

parse(workerData as ParseJob).catch((error: Error) =>
  send({ type: 'error', name: error.name, message: error.message, stack: error.stack }),
);
