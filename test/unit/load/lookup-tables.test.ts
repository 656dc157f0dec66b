import { expect } from 'chai';
import { CodeTable } from '../../../src/load/3-rows/code-table.js';
import { KeyTable } from '../../../src/load/3-rows/key-table.js';

/** A deterministic sequence of pseudo-random integers (xorshift32). */
function* integers(seed: number, count: number, below: number): Generator<number> {
  let x = seed;
  for (let i = 0; i < count; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    yield (x >>> 0) % below;
  }
}

describe('KeyTable', () => {
  it('numbers keys of three parts in order of adding and finds each again across growth, as a Map does', () => {
    const table = new KeyTable(3);
    const reference = new Map<string, number>();
    const parts = [...integers(7, 60_000, 40)];
    for (let i = 0; i + 2 < parts.length; i += 3) {
      const [a, b, c] = [parts[i], parts[i + 1] * 1000, parts[i + 2] - 20];
      const key = `${a}/${b}/${c}`;
      const expected = reference.get(key) ?? reference.size;
      if (!reference.has(key)) reference.set(key, expected);
      expect(table.row(a, b, c)).to.equal(expected);
    }
    expect(table.size).to.equal(reference.size);
    for (const [key, row] of reference) {
      const [a, b, c] = key.split('/').map(Number);
      expect(table.find(a, b, c)).to.equal(row);
      expect([table.a[row], table.b[row], table.c?.[row]]).to.deep.equal([a, b, c]);
    }
    expect(table.find(41, 0, 0)).to.equal(-1);
  });

  it('with two parts keeps no third column and tells keys apart by both', () => {
    const table = new KeyTable(2);
    expect(table.add(1, 2)).to.equal(0);
    expect(table.add(2, 1)).to.equal(1);
    expect(table.find(1, 2)).to.equal(0);
    expect(table.find(2, 1)).to.equal(1);
    expect(table.find(1, 1)).to.equal(-1);
    expect(table.c).to.equal(undefined);
  });

  it('once sealed keeps the keys and refuses lookups', () => {
    const table = new KeyTable(2);
    table.add(5, 6);
    table.seal();
    expect([table.a[0], table.b[0], table.size]).to.deep.equal([5, 6, 1]);
    expect(() => table.find(5, 6)).to.throw('sealed');
  });
});

describe('CodeTable', () => {
  it('numbers codes in order of first appearance and gives each back exactly, across growth', () => {
    const table = new CodeTable();
    const codes = [...integers(11, 50_000, 30_000)].map((n) => `ORD-${n}`);
    const reference = new Map<string, number>();
    for (const code of codes) {
      let id = table.find(code);
      if (id === -1) id = table.add(code);
      if (!reference.has(code)) reference.set(code, reference.size);
      expect(id).to.equal(reference.get(code));
    }
    expect(table.size).to.equal(reference.size);
    for (const [code, id] of reference) expect(table.code(id)).to.equal(code);
    expect(table.find('ORD-30000')).to.equal(-1);
  });

  it('keeps any UTF-16 text: non-Latin letters, emoji, a lone surrogate, the empty code and very long codes', () => {
    const table = new CodeTable();
    // Latin-1 first (kept a byte per unit), then wider text: the earlier codes must survive the widening.
    const codes = ['Ünïcødé', 'ÿ-255', 'Ω-937', '订单-42', 'order-😀', '\uD800x', '', 'x'.repeat(20_000), `${'y'.repeat(8191)}é`];
    for (const code of codes) table.add(code);
    codes.forEach((code, id) => {
      expect(table.find(code)).to.equal(id);
      expect(table.code(id)).to.equal(code);
    });
    expect(table.find('order-😁')).to.equal(-1);
    expect(table.find('\uD800')).to.equal(-1);
  });
});
