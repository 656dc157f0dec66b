// Where the rows go while the file streams, for both ways of loading: each kept line into one COPY (straight
// into order_items on a first load, into a staging table otherwise), each rejected row into refresh_rejects,
// written between two batches (a connection runs one COPY at a time).
import type { PoolClient } from 'pg';
import { CopyWriter, copyText, copyTextArray, copyValue } from '../../db/copy.js';
import { storableText } from '../1-bytes/utf8.js';
import type { Accepted, FileState } from '../3-rows/file-state.js';
import type { SaleLine } from '../3-rows/validate-line.js';
import { type RowSink, type StreamedFile, type StreamOptions, streamRows } from '../stream-rows.js';

const COPY_REJECTS = `COPY refresh_rejects (run_id, line, reasons, raw) FROM STDIN`;

/** A line's figures and attributes as COPY text, line ending included: the columns both sinks end their rows with. */
export function lineFigures(row: SaleLine): string {
  return `${row.quantity}\t${row.unitPrice}\t${row.discount}\t${row.shippingCost}\t${row.unitCost ?? '\\N'}\t${
    row.attributes ? copyValue(JSON.stringify(row.attributes)) : '\\N'
  }\n`;
}

export abstract class LineSink implements RowSink {
  /** COPY text of the kept lines since the last flush. */
  protected lines = '';
  private rejects = '';
  private copy: CopyWriter;

  constructor(
    protected readonly client: PoolClient,
    private readonly runId: number,
    private readonly copyLines: string,
  ) {
    this.copy = new CopyWriter(client, copyLines);
  }

  abstract keep(line: number, row: SaleLine, accepted: Accepted): void;

  abstract endPart(state: FileState, last: boolean): Promise<void>;

  reject(line: number, reasons: string[], raw: string): void {
    // A reason quotes the file's values, which may hold what the row was refused for: both are stored escaped.
    this.rejects += `${this.runId}\t${line}\t${copyTextArray(reasons.map(storableText))}\t${copyValue(storableText(raw))}\n`;
  }

  async flush(): Promise<void> {
    if (this.lines) await this.copy.write(this.lines);
    this.lines = '';
    if (!this.rejects) return;
    const rejects = this.rejects;
    this.rejects = '';
    await this.between(() => copyText(this.client, COPY_REJECTS, [rejects]));
  }

  /** Runs other statements on the connection while the lines' COPY is paused (ended, then begun again). */
  protected async between(action: () => Promise<unknown>): Promise<void> {
    await this.copy.end();
    await action();
    this.copy = new CopyWriter(this.client, this.copyLines);
  }

  /**
   * Streams the file through this sink, then ends the lines' COPY: a failure to end it fails the load. When the
   * stream failed, the COPY is still ended (one left open keeps the connection from rolling back) and the
   * stream's error is the one reported.
   */
  async stream(file: string, options: StreamOptions): Promise<StreamedFile> {
    let streamed: StreamedFile;
    options.tracker?.update({ phase: 'reading' });
    try {
      streamed = await streamRows(file, options, this);
    } catch (error) {
      await this.copy.end().catch(() => {});
      throw error;
    }
    await this.copy.end();
    options.tracker?.update({ phase: 'applying', step: null });
    return streamed;
  }
}
