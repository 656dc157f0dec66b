// The streaming side of every load: a parsing thread (parse-worker.ts) reads and validates the file; this
// thread keeps the in-file bookkeeping and hands each row to a sink as kept or rejected while the file is
// read. Where the rows go (staging, or straight into the tables of an empty database) is the sink's business.
// A file larger than ONE_PART_BYTES reaches the bookkeeping sorted into parts by order
// (part-files.ts): the sink is told when each part is complete, and the state then lets its orders and lines go.
import { stat } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { InputFormatError } from './columns.js';
import { type Accepted, FileState } from './file-state.js';
import type { ParseJob, ParseMessage } from './parse-worker.js';
import { decodeBatch } from './row-codec.js';
import type { SourceFormat } from './source.js';
import type { StepOptions } from './steps.js';
import { localDay, type SaleLine } from './validate-line.js';

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

export interface StreamOptions extends StepOptions {
  format?: SourceFormat;
  /** The day of the load (YYYY-MM-DD) for the "not in the future" rule; default: today, local time. */
  today?: string;
  signal?: AbortSignal;
  /** A directory of this load's own for the parts' files (removed by the caller). */
  directory: string;
  /** The bytes of file per part, whatever its size (tests); default: partCount's. */
  partBytes?: number;
}

export interface StreamedFile {
  state: FileState;
  read: number;
  rejected: number;
  sha256: string;
  format: SourceFormat;
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
  // A file that cannot be read is one part: the parsing thread says why it cannot.
  const { size } = await stat(file).catch(() => ({ size: 0 }));
  const parts = partCount(size, options.partBytes);
  const job: ParseJob = { file, format: options.format, today: options.today ?? localDay(), parts, directory: options.directory };
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
        if (last) return { state, read, rejected, sha256: message.sha256, format: message.format };
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
