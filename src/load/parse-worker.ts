// The parsing thread of a load: reads, hashes and splits the file and validates each record, on the second
// core, while the loader's thread keeps the in-file bookkeeping and feeds PostgreSQL. At most MAX_IN_FLIGHT
// batches wait for the loader: memory stays bounded whatever the file size.
import { parentPort, workerData } from 'node:worker_threads';
import { type ColumnMap, mapColumns } from './columns.js';
import { BatchEncoder } from './row-codec.js';
import { openRecordSource, type SourceFormat } from './source.js';
import { validateLine } from './validate-line.js';

export interface ParseJob {
  file: string;
  format?: SourceFormat;
  today: string;
}

export type ParseMessage =
  | { type: 'batch'; batch: ReturnType<BatchEncoder['finish']>; progress: { bytesRead: number; bytesTotal: number } }
  | { type: 'end'; sha256: string; format: SourceFormat; header: boolean }
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

async function parse({ file, format, today }: ParseJob): Promise<void> {
  const source = await openRecordSource(file, format);
  let columns: ColumnMap | undefined;
  for await (const records of source.batches) {
    const encoder = new BatchEncoder();
    for (const record of records) {
      if (columns === undefined) {
        columns = mapColumns(record.fields);
        continue;
      }
      const { line, raw, unstorable = [] } = record;
      if (record.error) {
        encoder.add({ line, reasons: [record.error, ...unstorable], raw });
        continue;
      }
      const result = validateLine(record.fields, columns, today, record.extra);
      if (result.ok && unstorable.length === 0) encoder.add({ line, row: result.line, raw });
      else encoder.add({ line, reasons: [...(result.ok ? [] : result.reasons), ...unstorable], raw });
    }
    await send({ type: 'batch', batch: encoder.finish(), progress: { ...source.progress } });
  }
  await send({ type: 'end', sha256: source.sha256(), format: source.format, header: columns !== undefined });
}

parse(workerData as ParseJob).catch((error: Error) =>
  send({ type: 'error', name: error.name, message: error.message, stack: error.stack }),
);
