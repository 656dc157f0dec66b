// Text PostgreSQL cannot store: a NUL byte, and bytes that are not UTF-8. The reader keeps each byte that is
// not UTF-8 as a lone surrogate, U+DC80 + (byte - 0x80) (Python's "surrogateescape"), instead of the silent
// U+FFFD a standard decoder writes, so that the row holding it can be refused naming the byte; a rejected
// row's text is stored with each such byte written as \xHH (NUL as \x00), so nothing of it is lost.
import { isUtf8 } from 'node:buffer';

/** A NUL or a lone surrogate: what valid UTF-8 text stored in PostgreSQL can never hold. */
const UNSTORABLE = /[\0\p{Cs}]/u;
const UNSTORABLE_ALL = /[\0\p{Cs}]/gu;
/** A NUL or any surrogate, paired or not: a test about three times as fast, tried first (astral characters are rare). */
const MAYBE_UNSTORABLE = /[\0\uD800-\uDFFF]/;
const isUnstorable = (text: string) => MAYBE_UNSTORABLE.test(text) && UNSTORABLE.test(text);

/** A code unit standing for a byte that is not UTF-8: only those bytes (0x80-0xFF) are ever escaped. */
const isEscapedByte = (code: number) => code >= 0xdc80 && code <= 0xdcff;

/** Length of the well-formed UTF-8 sequence at `i` (Unicode Table 3-7), or 0 when none starts there. */
function sequenceLength(bytes: Uint8Array, i: number): number {
  const lead = bytes[i];
  if (lead < 0x80) return 1;
  const continues = (k: number, low = 0x80, high = 0xbf) => i + k < bytes.length && bytes[i + k] >= low && bytes[i + k] <= high;
  if (lead >= 0xc2 && lead <= 0xdf) return continues(1) ? 2 : 0;
  if (lead >= 0xe0 && lead <= 0xef) {
    return continues(1, lead === 0xe0 ? 0xa0 : 0x80, lead === 0xed ? 0x9f : 0xbf) && continues(2) ? 3 : 0;
  }
  if (lead >= 0xf0 && lead <= 0xf4) {
    return continues(1, lead === 0xf0 ? 0x90 : 0x80, lead === 0xf4 ? 0x8f : 0xbf) && continues(2) && continues(3) ? 4 : 0;
  }
  return 0;
}

/** Decodes bytes holding some that are not UTF-8, escaping each of those. */
function decodeEscaping(bytes: Buffer): string {
  let text = '';
  let runStart = 0;
  let i = 0;
  while (i < bytes.length) {
    const length = sequenceLength(bytes, i);
    if (length > 0) {
      i += length;
      continue;
    }
    text += bytes.toString('utf8', runStart, i) + String.fromCharCode(0xdc00 + bytes[i]);
    i++;
    runStart = i;
  }
  return text + bytes.toString('utf8', runStart, i);
}

/** Where the bytes stop being complete sequences: a multi-byte character cut by the chunk's end waits for the next. */
function completeLength(bytes: Buffer): number {
  for (let i = bytes.length - 1; i >= Math.max(0, bytes.length - 4); i--) {
    const byte = bytes[i];
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back for its lead
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return i + needed > bytes.length ? i : bytes.length;
  }
  return bytes.length;
}

/** A streaming UTF-8 decoder that keeps every byte that is not UTF-8 (see above). Well-formed chunks take Buffer#toString. */
export class Utf8Decoder {
  private pending: Buffer = Buffer.alloc(0);

  write(chunk: Buffer): string {
    const bytes = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    const complete = completeLength(bytes);
    this.pending = Buffer.from(bytes.subarray(complete));
    const body = bytes.subarray(0, complete);
    return isUtf8(body) ? body.toString('utf8') : decodeEscaping(body);
  }

  /** The bytes of a character the input ended inside of, escaped. */
  end(): string {
    const rest = decodeEscaping(this.pending);
    this.pending = Buffer.alloc(0);
    return rest;
  }
}

const NONE: readonly string[] = [];

/** Why a row whose values hold text PostgreSQL cannot store is refused: none when they hold none. */
export function unstorableReasons(values: readonly string[]): readonly string[] {
  // Every row of a file comes through here: the common case allocates nothing.
  if (!values.some(isUnstorable)) return NONE;
  let nul = false;
  const bytes = new Set<string>();
  for (const value of values) {
    for (const [character] of value.matchAll(UNSTORABLE_ALL)) {
      const code = character.charCodeAt(0);
      if (code === 0) nul = true;
      else
        bytes.add(
          isEscapedByte(code) ? `0x${(code - 0xdc00).toString(16).toUpperCase()}` : `U+${code.toString(16).toUpperCase()}`,
        );
    }
  }
  const reasons: string[] = [];
  if (nul) reasons.push('contains a NUL byte (0x00), which PostgreSQL text cannot hold');
  if (bytes.size > 0) {
    reasons.push(
      `contains bytes that are not UTF-8: ${[...bytes].join(', ')} (is the file in another encoding, such as Windows-1252? Save it as UTF-8)`,
    );
  }
  return reasons;
}

/** Text as PostgreSQL can store it: a NUL as \x00, a byte that is not UTF-8 as \xHH (an unpaired surrogate from JSON as \uHHHH). */
export function storableText(text: string): string {
  if (!isUnstorable(text)) return text;
  return text.replace(UNSTORABLE_ALL, (character) => {
    const code = character.charCodeAt(0);
    if (code === 0) return '\\x00';
    if (isEscapedByte(code)) return `\\x${(code - 0xdc00).toString(16).toUpperCase()}`;
    return `\\u${code.toString(16).toUpperCase()}`;
  });
}
