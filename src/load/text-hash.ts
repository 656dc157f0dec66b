// The hash of a code's text, one definition for the two that must agree on it: the code tables index codes
// by its low bits (3-rows/code-table.ts), and a large file's parts are chosen by its high bits
// (2-records/part-files.ts). FNV-1a over UTF-16 code units, then murmur3's finalizer.

function mix(h: number): number {
  let x = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

export function hashText(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return mix(h);
}

/** hashText of the text held as code units `start` to `end` of `units` (one byte each while it is Latin-1). */
export function hashUnits(units: Uint8Array | Uint16Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ units[i], 0x01000193);
  return mix(h);
}
