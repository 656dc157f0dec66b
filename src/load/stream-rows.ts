// The streaming side of every load: records -> validation -> in-file bookkeeping, each row handed to a sink
// as kept or rejected while the file is read. Where the rows go (staging, or straight into the tables of an
// empty database) is the sink's business.
import { type ColumnMap, InputFormatError, mapColumns } from './columns.js';
import { type Accepted, FileState } from './file-state.js';
import { openRecordSource, type SourceFormat, type SourceProgress } from './source.js';
import { localDay, type SaleLine, validateLine } from './validate-line.js';

export interface RowSink {
  /** A valid row, kept unless a later row of its line key supersedes it. */
  keep(line: number, row: SaleLine, accepted: Accepted): void;
  reject(line: number, reasons: string[], raw: string): void;
  /** After each batch of records: write what was collected. */
  flush(): Promise<void>;
}

export interface StreamOptions {
  format?: SourceFormat;
  /** The day of the load (YYYY-MM-DD) for the "not in the future" rule; default: today, local time. */
  today?: string;
  onProgress?: (progress: SourceProgress & { rowsRead: number }) => void;
  signal?: AbortSignal;
}

export interface StreamedFile {
  state: FileState;
  read: number;
  rejected: number;
  sha256: string;
  format: SourceFormat;
}

export async function streamRows(file: string, options: StreamOptions, sink: RowSink): Promise<StreamedFile> {
  const source = await openRecordSource(file, options.format);
  const today = options.today ?? localDay();
  const state = new FileState();
  let columns: ColumnMap | undefined;
  let read = 0;
  let rejected = 0;
  for await (const batch of source.batches) {
    options.signal?.throwIfAborted();
    for (const record of batch) {
      if (columns === undefined) {
        columns = mapColumns(record.fields);
        continue;
      }
      read++;
      let reasons: string[];
      if (record.error) {
        reasons = [record.error];
      } else {
        const result = validateLine(record.fields, columns, today, record.extra);
        if (result.ok) {
          const verdict = state.accept(result.line, record.line);
          if (verdict.accepted) {
            sink.keep(record.line, result.line, verdict);
            continue;
          }
          reasons = verdict.reasons;
        } else {
          reasons = result.reasons;
        }
      }
      rejected++;
      sink.reject(record.line, reasons, record.raw);
    }
    await sink.flush();
    options.onProgress?.({ ...source.progress, rowsRead: read });
  }
  if (columns === undefined) throw new InputFormatError('the file is empty: no header');
  return { state, read, rejected, sha256: source.sha256(), format: source.format };
}
