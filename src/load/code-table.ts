// A file's distinct codes (its order IDs: hundreds of thousands per million lines), each with an id (0, 1,
// 2, ... in order of first appearance), kept off the heap: their UTF-16 code units in one growing Uint16Array,
// found through an open-addressing table of id + 1 (0: empty). Measured on bench:load's 1M-line file (584k
// orders): a Map<string, number> held them in ~47 MB of heap (its backing store alone ~28 MB), this in ~25 MB.

/** FNV-1a over UTF-16 code units, then murmur3's finalizer: the table's index is the low bits. */
function mix(h: number): number {
  let x = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

function hashText(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return mix(h);
}

function hashUnits(units: Uint16Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ units[i], 0x01000193);
  return mix(h);
}

/** String.fromCharCode over at most this many arguments at a time (engines limit a call's arguments). */
const DECODE_CHUNK = 8192;

export class CodeTable {
  size = 0;
  private units = new Uint16Array(1 << 16);
  private used = 0;
  /** Where each code ends in `units`; it starts where the previous one ends. */
  private ends = new Int32Array(1024);
  private table = new Int32Array(1 << 12);

  /** The id of a code, or -1. */
  find(code: string): number {
    const mask = this.table.length - 1;
    for (let i = hashText(code) & mask; ; i = (i + 1) & mask) {
      const entry = this.table[i];
      if (entry === 0) return -1;
      if (this.equals(entry - 1, code)) return entry - 1;
    }
  }

  /** Adds a code that is not in the table; returns its id. */
  add(code: string): number {
    while (this.used + code.length > this.units.length) this.units = grown(this.units, new Uint16Array(this.units.length * 2));
    for (let i = 0; i < code.length; i++) this.units[this.used + i] = code.charCodeAt(i);
    this.used += code.length;
    const id = this.size++;
    if (id === this.ends.length) this.ends = grown(this.ends, new Int32Array(this.ends.length * 2));
    this.ends[id] = this.used;
    // At most half full: probes stay short.
    if (this.size * 2 > this.table.length) {
      this.table = new Int32Array(this.table.length * 2);
      for (let other = 0; other < this.size; other++) this.place(other);
    } else {
      this.place(id);
    }
    return id;
  }

  /** The code of an id. */
  code(id: number): string {
    const end = this.ends[id];
    let text = '';
    for (let at = this.start(id); at < end; at += DECODE_CHUNK) {
      // apply, not spread: spreading a typed array goes through its iterator (measured 3-4x slower).
      text += String.fromCharCode.apply(null, this.units.subarray(at, Math.min(at + DECODE_CHUNK, end)) as unknown as number[]);
    }
    return text;
  }

  private start(id: number): number {
    return id === 0 ? 0 : this.ends[id - 1];
  }

  private equals(id: number, code: string): boolean {
    const start = this.start(id);
    if (this.ends[id] - start !== code.length) return false;
    for (let i = 0; i < code.length; i++) if (this.units[start + i] !== code.charCodeAt(i)) return false;
    return true;
  }

  private place(id: number): void {
    const mask = this.table.length - 1;
    let i = hashUnits(this.units, this.start(id), this.ends[id]) & mask;
    while (this.table[i] !== 0) i = (i + 1) & mask;
    this.table[i] = id + 1;
  }
}

function grown<T extends Uint16Array | Int32Array>(old: T, larger: T): T {
  larger.set(old);
  return larger;
}
