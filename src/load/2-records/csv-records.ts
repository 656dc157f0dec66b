// Splits CSV text into records with their physical line numbers and raw text (RFC 4180; LF or CRLF).
// Written here rather than taken from a library: the loader needs, for every record, the physical line it
// starts on and its exact raw text (for the rejects table), at a speed no slower than PostgreSQL's own COPY.
// Lines without a quote (almost all of them) take a fast path through String#split.
import { InputFormatError } from '../1-bytes/file.js';
import { unstorableReasons } from '../1-bytes/utf8.js';

export interface SourceRecord {
  /** Physical line number of the record's first line; the header is line 1. */
  line: number;
  fields: string[];
  /** The record's text as it stands in the file, without its line ending. */
  raw: string;
  /** Set when the record cannot be split (an unterminated quote): the row is rejected with it. */
  error?: string;
  /** JSON only: keys that the first record did not have, kept as attributes. */
  extra?: Record<string, string>;
  /** Set when the record's values hold text PostgreSQL cannot store (utf8.ts): the row is rejected for these reasons. */
  unstorable?: readonly string[];
}

/** A CR not followed by LF: in a header line, the mark of a file whose lines end in CR only. */
const BARE_CR = /\r(?!\n)/;

/**
 * Why a data line holding a CR outside quotes is rejected: read as one line, the rows a CR alone separates
 * would load as one, the next row's values in this one's last field.
 */
export const BARE_CR_REASON = 'holds a CR (carriage return) that does not end the line: lines end in LF or CRLF, not CR alone';

/** A record, checked for text PostgreSQL cannot store: once over its raw text, which holds all its values. */
function csvRecord(line: number, fields: string[], raw: string, error?: string): SourceRecord {
  const record: SourceRecord = error === undefined ? { line, fields, raw } : { line, fields, raw, error };
  const unstorable = unstorableReasons([raw]);
  if (unstorable.length > 0) record.unstorable = unstorable;
  return record;
}

/** Why a record whose quote never closes is rejected (the reader reads on from the line after its first). */
export const UNTERMINATED_QUOTE = 'unterminated quoted field';

/**
 * The longest line the reader holds, in characters: a longer one fails the load at once instead of the
 * reader buffering a whole file that has no line ends it knows (2 GiB may be uploaded). A quoted record
 * this long that has not closed is taken as an unterminated quote, not as data.
 */
export const MAX_RECORD_CHARS = 1 << 20;

/** The error for a line longer than MAX_RECORD_CHARS; `text` is as much of it as was read. */
export function lineTooLong(line: number, text: string): InputFormatError {
  const hint = BARE_CR.test(text)
    ? "its text holds CR characters: the file's lines end in CR only (old Mac); use LF or CRLF"
    : "do the file's lines end in LF or CRLF?";
  return new InputFormatError(`line ${line} is longer than 1 MiB (1,048,576 characters): ${hint}`);
}

interface Parsed {
  fields: string[];
  /** Index just past the record's last character (before its line ending). */
  end: number;
  /** Index where the next record starts. */
  next: number;
  newlines: number;
  /** A CR outside quotes that does not end the record. */
  bareCr: boolean;
}

function isBlank(line: string): boolean {
  return line.length === 0 || line.trim().length === 0;
}

/**
 * Parses one record containing quotes, starting at `start`. Returns undefined when the text ends inside
 * the record and more may come, or 'unterminated' when the quote never closes.
 */
function parseQuotedRecord(text: string, start: number, final: boolean): Parsed | undefined | 'unterminated' {
  const fields: string[] = [];
  let i = start;
  let newlines = 0;
  let bareCr = false;
  for (;;) {
    let value: string;
    if (text.charCodeAt(i) === 34 /* " */) {
      value = '';
      i++;
      for (;;) {
        const quote = text.indexOf('"', i);
        if (quote === -1 || (quote + 1 >= text.length && !final)) {
          if (final && quote === -1) return 'unterminated';
          return text.length - start > MAX_RECORD_CHARS ? 'unterminated' : undefined;
        }
        const piece = text.slice(i, quote);
        value += piece;
        for (let n = piece.indexOf('\n'); n !== -1; n = piece.indexOf('\n', n + 1)) newlines++;
        if (text.charCodeAt(quote + 1) === 34) {
          value += '"';
          i = quote + 2;
        } else {
          i = quote + 1;
          break;
        }
      }
      // Leniently keep any text between the closing quote and the delimiter.
      const comma = text.indexOf(',', i);
      const newline = text.indexOf('\n', i);
      const stop = comma !== -1 && (newline === -1 || comma < newline) ? comma : newline === -1 ? text.length : newline;
      const after = text.slice(i, stop);
      if (stop === newline || stop === text.length) {
        if (stop === text.length && !final) return undefined;
        const kept = after.replace(/\r$/, '');
        value += kept;
        bareCr ||= kept.includes('\r');
      } else {
        value += after;
        bareCr ||= after.includes('\r');
      }
      i = stop;
    } else {
      const comma = text.indexOf(',', i);
      const newline = text.indexOf('\n', i);
      const stop = comma !== -1 && (newline === -1 || comma < newline) ? comma : newline === -1 ? text.length : newline;
      if (stop === text.length && !final) return undefined;
      value = text.slice(i, stop);
      if (stop !== comma && value.endsWith('\r')) value = value.slice(0, -1);
      bareCr ||= value.includes('\r');
      i = stop;
    }
    fields.push(value);
    if (i < text.length && text.charCodeAt(i) === 44 /* , */) {
      i++;
      continue;
    }
    const end = i > start && text.charCodeAt(i - 1) === 13 ? i - 1 : i;
    return { fields, end, next: i + 1, newlines, bareCr };
  }
}

/** Feed decoded text with push(); each call returns the records completed so far, end() the rest. */
export class CsvRecordReader {
  private rest = '';
  private line: number;
  /** Whether the text's start, where a BOM may be, has been read. */
  private started: boolean;
  /** How much of `rest` is known to hold no line end: the next push searches on from there, not from its start. */
  private scanned = 0;

  /** `firstLine`: the line the text starts on, past 1 when it is the rest of a file read from a line end. */
  constructor(firstLine = 1) {
    this.line = firstLine;
    this.started = firstLine > 1;
  }

  push(chunk: string): SourceRecord[] {
    this.rest += chunk;
    return this.drain(false);
  }

  end(): SourceRecord[] {
    return this.drain(true);
  }

  private drain(final: boolean): SourceRecord[] {
    const records: SourceRecord[] = [];
    const text = this.rest;
    let pos = 0;
    let line = this.line;
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) pos = 1;
    }
    let scanned = this.scanned;
    while (pos < text.length) {
      const newline = text.indexOf('\n', Math.max(pos, scanned));
      const lineEnd = newline === -1 ? text.length : newline;
      if (lineEnd - pos > MAX_RECORD_CHARS) throw lineTooLong(line, text.slice(pos, lineEnd));
      if (newline === -1 && !final) {
        scanned = text.length;
        break;
      }
      const physical = text.charCodeAt(lineEnd - 1) === 13 ? text.slice(pos, lineEnd - 1) : text.slice(pos, lineEnd);
      if (physical.indexOf('"') === -1) {
        if (!isBlank(physical)) {
          const bareCr = physical.indexOf('\r') !== -1;
          records.push(bareCr ? csvRecord(line, [], physical, BARE_CR_REASON) : csvRecord(line, physical.split(','), physical));
        }
        pos = lineEnd + 1;
        line++;
        continue;
      }
      const parsed = parseQuotedRecord(text, pos, final);
      if (parsed === undefined) break;
      if (parsed === 'unterminated') {
        // Reject the line the quote opened on and read on from the next one.
        records.push(csvRecord(line, [], physical, UNTERMINATED_QUOTE));
        pos = lineEnd + 1;
        line++;
        continue;
      }
      const raw = text.slice(pos, parsed.end);
      records.push(parsed.bareCr ? csvRecord(line, [], raw, BARE_CR_REASON) : csvRecord(line, parsed.fields, raw));
      line += parsed.newlines + 1;
      pos = parsed.next;
    }
    // Read as one line, a CR-only file's header names its first data rows' values as columns: say why instead.
    if (this.line === 1 && records.length > 0 && BARE_CR.test(records[0].raw)) {
      throw new InputFormatError("the file's lines end in CR only (old Mac); use LF or CRLF");
    }
    this.rest = pos >= text.length ? '' : text.slice(pos);
    this.scanned = Math.max(0, scanned - pos);
    this.line = line;
    return records;
  }
}
