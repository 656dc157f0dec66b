// Sorted runs of rollup cells on disk, one per part of a file, merged into one sorted stream whose equal keys
// are summed: how the cells of the finest rollups (about one per line or order) are summed over a file of
// several parts without holding them all (file-rollups.ts). A cell is `keys` key numbers then its measures,
// all doubles; a run is its cells in key order.
import fs from 'node:fs';
import path from 'node:path';

/** Cells read or written per system call. */
const CHUNK_CELLS = 8192;

export class RunWriter {
  private readonly buffer: Float64Array;
  private used = 0;
  private readonly fd: number;

  constructor(
    readonly file: string,
    private readonly width: number,
  ) {
    this.buffer = new Float64Array(CHUNK_CELLS * width);
    this.fd = fs.openSync(file, 'w');
  }

  /** Appends a cell; cells must come in key order. */
  add(cell: ArrayLike<number>): void {
    this.buffer.set(cell, this.used);
    this.used += this.width;
    if (this.used === this.buffer.length) this.write();
  }

  close(): void {
    this.write();
    fs.closeSync(this.fd);
  }

  private write(): void {
    if (this.used > 0) fs.writeSync(this.fd, this.buffer.subarray(0, this.used));
    this.used = 0;
  }
}

class RunReader {
  private readonly buffer: Float64Array;
  private end = 0;
  /** Where the current cell starts in `buffer`; -1: the run is read. */
  at = 0;

  constructor(
    private readonly fd: number,
    private readonly width: number,
    /** Each measure of this run is multiplied by this (its sums in another scale). */
    readonly multipliers: Float64Array,
  ) {
    this.buffer = new Float64Array(CHUNK_CELLS * width);
    this.fill();
  }

  get cells(): Float64Array {
    return this.buffer;
  }

  next(): void {
    this.at += this.width;
    if (this.at === this.end) this.fill();
  }

  private fill(): void {
    const bytes = fs.readSync(this.fd, this.buffer, 0, this.buffer.byteLength, null);
    this.end = bytes / Float64Array.BYTES_PER_ELEMENT;
    this.at = this.end === 0 ? -1 : 0;
  }
}

/**
 * The cells of every run, in key order, each key once with the sums of its measures, each run's measures
 * multiplied by its `multipliers` first: yields the same array each time (copy what must be kept). The runs'
 * files are removed once read.
 */
export function* mergeRuns(files: string[], keys: number, width: number, multipliers: Float64Array[]): Generator<Float64Array> {
  const fds = files.map((file) => fs.openSync(file, 'r'));
  try {
    let readers = fds.map((fd, r) => new RunReader(fd, width, multipliers[r])).filter((reader) => reader.at !== -1);
    const merged = new Float64Array(width);
    // Few runs (one per part): the smallest key is found by looking at each.
    const compare = (a: RunReader, b: RunReader) => {
      for (let k = 0; k < keys; k++) {
        const difference = a.cells[a.at + k] - b.cells[b.at + k];
        if (difference !== 0) return difference;
      }
      return 0;
    };
    const equal: RunReader[] = [];
    while (readers.length > 0) {
      let smallest = readers[0];
      for (let r = 1; r < readers.length; r++) if (compare(readers[r], smallest) < 0) smallest = readers[r];
      equal.length = 0;
      for (const reader of readers) if (compare(reader, smallest) === 0) equal.push(reader);
      merged.set(smallest.cells.subarray(smallest.at, smallest.at + keys));
      merged.fill(0, keys);
      for (const reader of equal) {
        for (let m = keys; m < width; m++) merged[m] += reader.cells[reader.at + m] * reader.multipliers[m - keys];
        reader.next();
      }
      if (equal.some((reader) => reader.at === -1)) readers = readers.filter((reader) => reader.at !== -1);
      yield merged;
    }
  } finally {
    for (const fd of fds) fs.closeSync(fd);
    for (const file of files) fs.rmSync(file, { force: true });
  }
}

/** A run file's path in a load's directory. */
export const runFile = (directory: string, name: string, part: number) => path.join(directory, `${name}-${part}.run`);
