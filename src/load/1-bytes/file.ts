// The first stage of a load: the file's bytes. Checked readable, its format told from its name or its first
// character, read in chunks and hashed on the way, and its start recognised as the bytes of an earlier file.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, type Stats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

/** A file-level problem: the load fails before any row is read and changes nothing. */
export class InputFormatError extends Error {
  override name = 'InputFormatError';
}

export type SourceFormat = 'csv' | 'json' | 'ndjson';

export interface SourceProgress {
  bytesRead: number;
  bytesTotal: number;
}

// Node's default read size. Larger chunks made larger batches, whose records outlived the parsing thread's
// young generation: with 1 MiB chunks its heap grew to ~130 MB and a first load of 1M rows peaked at ~535 MB
// RSS; with 64 KiB at ~390 MB, at the same speed (measured with bench:load's file).
export const CHUNK_BYTES = 1 << 16;

/** By extension; otherwise by the first character: '[' JSON array, '{' NDJSON, anything else CSV. */
export async function detectFormat(file: string): Promise<SourceFormat> {
  const extension = path.extname(file).toLowerCase();
  if (extension === '.csv') return 'csv';
  if (extension === '.json') return 'json';
  if (extension === '.ndjson' || extension === '.jsonl') return 'ndjson';
  const handle = await fs.open(file);
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(4096), 0, 4096, 0);
    const first = buffer
      .subarray(0, bytesRead)
      .toString('utf8')
      .replace(/^\uFEFF/, '')
      .trimStart()[0];
    return first === '[' ? 'json' : first === '{' ? 'ndjson' : 'csv';
  } finally {
    await handle.close();
  }
}

function unreadable(file: string, error: NodeJS.ErrnoException): InputFormatError {
  return new InputFormatError(`cannot read ${file}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
}

/** A file that can be loaded, or an InputFormatError saying why not (named as the caller names it). */
export async function statFile(file: string): Promise<Stats> {
  const stat = await fs.stat(file).catch((error: NodeJS.ErrnoException) => {
    throw unreadable(file, error);
  });
  if (!stat.isFile()) throw new InputFormatError(`${file} is not a file`);
  await fs.access(file, fs.constants.R_OK).catch((error: NodeJS.ErrnoException) => {
    throw unreadable(file, error);
  });
  return stat;
}

/** The SHA-256 of a file, hex; what a load of it would record as its checksum. */
export async function sha256File(file: string): Promise<string> {
  await statFile(file);
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: CHUNK_BYTES })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The file a version of the record was loaded from, as the next load looks for it at the start of its own. */
export interface EarlierFile {
  sha256: string;
  bytes: number;
  format: SourceFormat;
}

/** A file's start that holds an earlier file's bytes, up to one of its line ends. */
export interface RecognisedStart {
  bytes: number;
  /** Its physical lines: the first record after it starts on line `lines + 1`. */
  lines: number;
}

const PREFIX_CHUNK_BYTES = 1 << 20;

/**
 * Whether `file` begins with the earlier file's bytes (its length and SHA-256), ending with a line end: read
 * once, hashed and its line ends counted, at the speed of the disk. The hash goes on over the rest.
 */
export async function recogniseStart(file: string, earlier: EarlierFile, hash: Hash): Promise<RecognisedStart | undefined> {
  if (earlier.bytes === 0) return undefined;
  let bytes = 0;
  let lines = 0;
  let last = -1;
  for await (const chunk of createReadStream(file, { end: earlier.bytes - 1, highWaterMark: PREFIX_CHUNK_BYTES })) {
    const piece = chunk as Buffer;
    hash.update(piece);
    bytes += piece.length;
    for (let i = piece.indexOf(10); i !== -1; i = piece.indexOf(10, i + 1)) lines++;
    last = piece[piece.length - 1];
  }
  if (bytes !== earlier.bytes || last !== 10 || hash.copy().digest('hex') !== earlier.sha256) return undefined;
  return { bytes, lines };
}
