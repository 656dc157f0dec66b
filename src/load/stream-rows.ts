// The streaming side of every load: a parsing thread (parse-worker.ts) reads and validates the file; this
// thread keeps the in-file bookkeeping and hands each row to a sink as kept or rejected while the file is
// read. Where the rows go (staging, or straight into the tables of an empty database) is the sink's business.
// A file larger than ONE_PART_BYTES reaches the bookkeeping sorted into parts by order
// (part-files.ts): the sink is told when each part is complete, and the state then lets its orders and lines go.
import { Worker } from 'node:worker_threads';
import { type EarlierFile, InputFormatError, type RecognisedStart, type SourceFormat } from './1-bytes/file.js';
import { type Accepted, FileState } from './3-rows/file-state.js';
import { localDay, type SaleLine } from './3-rows/validate-line.js';
import type { ParseJob, ParseMessage } from './parse-worker.js';
import { decodeBatch } from './row-codec.js';
import type { StepOptions } from './steps.js';

export interface RowSink {
  /** A valid row, kept unless a later row of its line key supersedes it. */
  keep(line: number, row: SaleLine, accepted: Accepted): void;
  reject(line: number, reasons: string[], raw: string): void;
  /** After each batch of records: write what was collected. */
  flush(): Promise<void>;
  /**
   * Every row of this part's orders has been handed over (the state's orders and lines are this part's): write
   * them before they go. The last part's orders and lines stay in the state when the file is streamed.
   */
  endPart(state: FileState, last: boolean): Promise<void>;
}

export interface StreamOptions extends StepOptions {
  format?: SourceFormat;
  /** The day of the load (YYYY-MM-DD) for the "not in the future" rule; default: today, local time. */
  today?: string;
  signal?: AbortSignal;
  /** A directory of this load's own for the parts' files (removed by the caller). */
  directory: string;
  /** The file the record was last loaded from: a CSV file that begins with its bytes is read from where it ended. */
  earlier?: EarlierFile;
  /** The bytes of file per part, whatever its size (tests); default: partCount's. */
  partBytes?: number;
}

export interface StreamedFile {
  state: FileState;
  read: number;
  rejected: number;
  sha256: string;
  /** The file's length as read. */
  bytes: number;
  format: SourceFormat;
  /** The start of the file recognised as the earlier file: its rows were not read. */
  recognised?: RecognisedStart;
}

/**
 * The parsing thread. Compiled, its module sits next to this one as .js. Under tsx (the tests) it is .ts, and
 * a worker does not inherit tsx's loader for its entry module (privatenumber/tsx#354): a one-line entry
 * registers tsx, then imports it.
 */
function startParser(job: ParseJob): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./parse-worker.js', import.meta.url), { workerData: job });
  const module = JSON.stringify(new URL('./parse-worker.ts', import.meta.url).href);
  const entry = `import('tsx/esm/api').then(({ register }) => { register(); return import(${module}); })`;
  return new Worker(entry, { eval: true, workerData: job });
}

/** The parsing thread's messages, in order; ends after its 'end' message, throws its error. */
async function* parsedBatches(worker: Worker): AsyncGenerator<Exclude<ParseMessage, { type: 'error' }>> {
  const queue: ParseMessage[] = [];
  let wake: (() => void) | undefined;
  let failure: Error | undefined;
  worker.on('message', (message: ParseMessage) => {
    queue.push(message);
    wake?.();
  });
  worker.on('error', (error) => {
    failure = error;
    wake?.();
  });
  worker.on('exit', (code) => {
    failure ??= new Error(`the parsing thread exited with code ${code}`);
    wake?.();
  });
  for (;;) {
    const message = queue.shift();
    if (message === undefined) {
      if (failure) throw failure;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      continue;
    }
    if (message.type === 'error') {
      const error = message.name === 'InputFormatError' ? new InputFormatError(message.message) : new Error(message.message);
      if (message.name !== 'InputFormatError') error.stack = message.stack;
      throw error;
    }
    yield message;
    if (message.type === 'end') return;
  }
}

export async function streamRows(file: string, options: StreamOptions, sink: RowSink): Promise<StreamedFile> {
  const { format, earlier, partBytes, directory } = options;
  const job: ParseJob = { file, format, today: options.today ?? localDay(), earlier, partBytes, directory };
  const worker = startParser(job);
  const state = new FileState();
  let read = 0;
  let rejected = 0;
  try {
    for await (const message of parsedBatches(worker)) {
      options.signal?.throwIfAborted();
      if (message.type !== 'batch') {
        if (message.type === 'end' && !message.header) throw new InputFormatError('the file is empty: no header');
        const last = message.type === 'end';
        await sink.endPart(state, last);
        if (last) {
          const { sha256, bytes, format, recognised } = message;
          return { state, read, rejected, sha256, bytes, format, recognised };
        }
        state.nextPart();
        continue;
      }
      for (const record of decodeBatch(message.batch)) {
        read++;
        if ('row' in record) {
          const verdict = state.accept(record.row, record.line);
          if (verdict.accepted) {
            sink.keep(record.line, record.row, verdict);
            continue;
          }
          rejected++;
          sink.reject(record.line, verdict.reasons, record.raw);
          continue;
        }
        rejected++;
        sink.reject(record.line, record.reasons, record.raw);
      }
      worker.postMessage('more');
      await sink.flush();
      options.tracker?.update({ ...message.progress, rowsRead: read });
    }
    throw new Error('the parsing thread stopped early');
  } finally {
    worker.removeAllListeners();
    await worker.terminate();
  }
}
