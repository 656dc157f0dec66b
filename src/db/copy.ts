// COPY ... FROM STDIN in PostgreSQL's text format, with backpressure.
import { once } from 'node:events';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

const SPECIAL = /[\\\n\r\t]/;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** One value in COPY text format; null is \N. */
export function copyValue(value: string | number | null): string {
  if (value === null) return '\\N';
  if (typeof value === 'number') return String(value);
  return SPECIAL.test(value) ? value.replace(/[\\\n\r\t]/g, (c) => ESCAPES[c]) : value;
}

/** A PostgreSQL array literal of text values, as a COPY value. */
export function copyTextArray(values: string[]): string {
  return copyValue(`{${values.map((v) => `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`).join(',')}}`);
}

/** A writer for one COPY statement: write() rows of already-escaped values, then end(). */
export class CopyWriter {
  private readonly stream: ReturnType<typeof copyFrom>;
  /** Rejects when the server refuses the data; kept so that no error goes unobserved. */
  private readonly failed: Promise<never>;
  /** The server's error, once it has refused: writing on would fail with pg-copy-streams' own TypeError instead. */
  private refused: Error | undefined;
  private ended: Promise<void> | undefined;

  constructor(client: PoolClient, sql: string) {
    this.stream = client.query(copyFrom(sql));
    this.failed = new Promise((_, reject) =>
      this.stream.on('error', (error) => {
        this.refused ??= error;
        reject(error);
      }),
    );
    this.failed.catch(() => {});
  }

  async write(text: string): Promise<void> {
    if (this.refused) throw this.refused;
    if (!this.stream.write(text)) await Promise.race([once(this.stream, 'drain'), this.failed]);
  }

  /** Ends the COPY and waits for the server's answer. Idempotent: a stream that has finished emits 'finish' only once. */
  end(): Promise<void> {
    this.ended ??= (async () => {
      if (this.refused) throw this.refused;
      this.stream.end();
      await Promise.race([once(this.stream, 'finish'), this.failed]);
    })();
    return this.ended;
  }
}

/** COPYs one row per entry (`toRow` gives its COPY text, line ending included), in writes of about 64 KiB. */
export async function copyRows<T>(
  client: PoolClient,
  sql: string,
  entries: Iterable<T>,
  toRow: (entry: T) => string,
): Promise<void> {
  const copy = new CopyWriter(client, sql);
  let text = '';
  for (const entry of entries) {
    text += toRow(entry);
    if (text.length > 1 << 16) {
      await copy.write(text);
      text = '';
    }
  }
  if (text) await copy.write(text);
  await copy.end();
}

/** COPYs rows already in COPY text (line ending included). */
export const copyText = (client: PoolClient, sql: string, rows: Iterable<string>) => copyRows(client, sql, rows, (row) => row);
