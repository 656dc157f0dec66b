// A file's distinct codes (order and customer IDs: hundreds of thousands per million lines), each with an id
// (0, 1, 2, ... in order of first appearance), kept off the heap: their UTF-16 code units in one growing
// array (a byte each while every code is Latin-1, two from the first one that is not), found through an
// open-addressing table of id + 1 (0: empty). Measured on bench:load's 1M-line file (584k orders): a
// Map<string, number> held the order codes in ~47 MB of heap (its backing store alone ~28 MB), this in ~17 MB.

import { hashText, hashUnits } from '../text-hash.js';

/** A UTF-16 code unit above Latin-1. */
const BEYOND_LATIN1 = /[\u0100-\uffff]/;

/** String.fromCharCode over at most this many arguments at a time (engines limit a call's arguments). */
const DECODE_CHUNK = 8192;

export class CodeTable {
  size = 0;
  private units: Uint8Array | Uint16Array = new Uint8Array(1 << 16);
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
    if (this.units instanceof Uint8Array && BEYOND_LATIN1.test(code)) this.units = Uint16Array.from(this.units);
    while (this.used + code.length > this.units.length) {
      const larger =
        this.units instanceof Uint8Array ? new Uint8Array(this.units.length * 2) : new Uint16Array(this.units.length * 2);
      larger.set(this.units);
      this.units = larger;
    }
    for (let i = 0; i < code.length; i++) this.units[this.used + i] = code.charCodeAt(i);
    this.used += code.length;
    const id = this.size++;
    if (id === this.ends.length) {
      const larger = new Int32Array(this.ends.length * 2);
      larger.set(this.ends);
      this.ends = larger;
    }
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

  /** Whether an id's code is `code` (no string made). */
  equals(id: number, code: string): boolean {
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
