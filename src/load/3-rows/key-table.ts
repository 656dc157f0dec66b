// Rows found by a key of two or three int32 parts without an object or a boxed number per key: an
// open-addressing table of row + 1 (0: empty) over key columns it keeps itself. Rows are numbered 0, 1, 2, ...
// in the order their keys were added, so callers keep their own per-row data in parallel typed arrays.
// Measured on a 1M-line file: a Map keyed by a packed number was the load's hottest spot (its keys are heap
// numbers), and a dense array over the whole key space took 34 MB for the months x customers alone.

/** murmur3's 32-bit finalizer over the parts: the table's index is the low bits. */
function hash(a: number, b: number, c: number): number {
  let h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b, 0x85ebca77) ^ Math.imul(c, 0xc2b2ae3d);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function grown(column: Int32Array): Int32Array {
  const copy = new Int32Array(column.length * 2);
  copy.set(column);
  return copy;
}

export class KeyTable {
  /** Each row's key parts (read-only outside; `c` only with three parts). Longer than `size`. */
  a: Int32Array = new Int32Array(1024);
  b: Int32Array = new Int32Array(1024);
  c: Int32Array | undefined;
  size = 0;
  private table = new Int32Array(1 << 12);

  constructor(parts: 2 | 3) {
    if (parts === 3) this.c = new Int32Array(1024);
  }

  /** The row of a key, or -1. */
  find(a: number, b: number, c = 0): number {
    if (this.table.length === 0) throw new Error('the key table was sealed');
    const mask = this.table.length - 1;
    for (let i = hash(a, b, c) & mask; ; i = (i + 1) & mask) {
      const entry = this.table[i];
      if (entry === 0) return -1;
      const row = entry - 1;
      if (this.a[row] === a && this.b[row] === b && (this.c === undefined || this.c[row] === c)) return row;
    }
  }

  /** Adds a key that is not in the table; returns its row. */
  add(a: number, b: number, c = 0): number {
    const row = this.size++;
    if (row === this.a.length) {
      this.a = grown(this.a);
      this.b = grown(this.b);
      if (this.c) this.c = grown(this.c);
    }
    this.a[row] = a;
    this.b[row] = b;
    if (this.c) this.c[row] = c;
    // At most half full: probes stay short.
    if (this.size * 2 > this.table.length) {
      this.table = new Int32Array(this.table.length * 2);
      for (let r = 0; r < this.size; r++) this.place(r);
    } else {
      this.place(row);
    }
    return row;
  }

  /** The row of a key, added if new. */
  row(a: number, b: number, c = 0): number {
    const row = this.find(a, b, c);
    return row === -1 ? this.add(a, b, c) : row;
  }

  /** No more keys will be looked up or added: lets the lookup table go, keeps the rows' keys. */
  seal(): void {
    this.table = new Int32Array(0);
  }

  private place(row: number): void {
    const mask = this.table.length - 1;
    let i = hash(this.a[row], this.b[row], this.c === undefined ? 0 : this.c[row]) & mask;
    while (this.table[i] !== 0) i = (i + 1) & mask;
    this.table[i] = row + 1;
  }
}
