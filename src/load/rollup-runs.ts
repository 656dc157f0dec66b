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
    // The runs by their current cell's key, smallest first: a binary heap (a file of 27 parts looked at every
    // run twice per cell, 2 x 27 comparisons; the heap makes it about 2 x log2(27)).
    const heap = fds.map((fd, r) => new RunReader(fd, width, multipliers[r])).filter((reader) => reader.at !== -1);
    const merged = new Float64Array(width);
    const keyDifference = (a: Float64Array, at: number, b: Float64Array, bt: number) => {
      for (let k = 0; k < keys; k++) {
        const difference = a[at + k] - b[bt + k];
        if (difference !== 0) return difference;
      }
      return 0;
    };
    const less = (a: RunReader, b: RunReader) => keyDifference(a.cells, a.at, b.cells, b.at) < 0;
    const siftDown = (from: number) => {
      let at = from;
      for (;;) {
        const left = 2 * at + 1;
        if (left >= heap.length) return;
        const child = left + 1 < heap.length && less(heap[left + 1], heap[left]) ? left + 1 : left;
        if (!less(heap[child], heap[at])) return;
        [heap[at], heap[child]] = [heap[child], heap[at]];
        at = child;
      }
    };
    for (let at = (heap.length >> 1) - 1; at >= 0; at--) siftDown(at);
    while (heap.length > 0) {
      const smallest = heap[0];
      merged.set(smallest.cells.subarray(smallest.at, smallest.at + keys));
      merged.fill(0, keys);
      // Every run whose current cell has this key is at the top in turn: summed, moved on, sifted down.
      do {
        const reader = heap[0];
        for (let m = keys; m < width; m++) merged[m] += reader.cells[reader.at + m] * reader.multipliers[m - keys];
        reader.next();
        if (reader.at === -1) {
          const last = heap.pop()!;
          if (heap.length > 0) heap[0] = last;
        }
        siftDown(0);
      } while (heap.length > 0 && keyDifference(heap[0].cells, heap[0].at, merged, 0) === 0);
      yield merged;
    }
  } finally {
    for (const fd of fds) fs.closeSync(fd);
    for (const file of files) fs.rmSync(file, { force: true });
  }
}

/** A run file's path in a load's directory. */
export const runFile = (directory: string, name: string, part: number) => path.join(directory, `${name}-${part}.run`);
