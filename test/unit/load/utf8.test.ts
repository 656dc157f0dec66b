import { expect } from 'chai';
import { storableText, Utf8Decoder, unstorableReasons } from '../../../src/load/1-bytes/utf8.js';

/** Decodes `bytes` fed in chunks of `size`, as a stream would. */
function decode(bytes: Buffer, size = bytes.length): string {
  const decoder = new Utf8Decoder();
  let text = '';
  for (let i = 0; i < bytes.length; i += size) text += decoder.write(bytes.subarray(i, i + size));
  return text + decoder.end();
}

describe('Utf8Decoder', () => {
  it('decodes UTF-8 exactly whatever the chunk size, characters cut by a chunk boundary included', () => {
    const text = 'Café – 顧客 😀 end';
    for (const size of [1, 2, 3, 5, 64]) expect(decode(Buffer.from(text), size)).to.equal(text);
  });

  it('keeps each byte that is not UTF-8 as U+DC80..U+DCFF, whatever the chunk size', () => {
    // Latin-1 é; a 3-byte sequence cut short; an overlong '/'; a UTF-16 surrogate encoded; a byte past U+10FFFF.
    const bytes = Buffer.from([0x41, 0xe9, 0x42, 0xe2, 0x82, 0x43, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0xf5, 0x44, 0xe2, 0x82]);
    const expected = 'A\uDCE9B\uDCE2\uDC82C\uDCC0\uDCAF\uDCED\uDCA0\uDC80\uDCF5D\uDCE2\uDC82';
    for (const size of [1, 2, 3, 4, 100]) expect(decode(bytes, size)).to.equal(expected);
  });
});

describe('text PostgreSQL cannot store', () => {
  it('names a NUL and the bytes that are not UTF-8, once each', () => {
    expect(unstorableReasons(['ok', 'a\0b\0', 'x\uDCE9\uDCE9\uDC82'])).to.deep.equal([
      'contains a NUL byte (0x00), which PostgreSQL text cannot hold',
      'contains bytes that are not UTF-8: 0xE9, 0x82 (is the file in another encoding, such as Windows-1252? Save it as UTF-8)',
    ]);
    expect(unstorableReasons(['Café 😀', ''])).to.deep.equal([]);
  });

  it('writes a NUL as \\x00 and each byte that is not UTF-8 as \\xHH, leaving the rest as it is', () => {
    expect(storableText('a\0b\uDCE9c 😀')).to.equal('a\\x00b\\xE9c 😀');
    expect(storableText('plain')).to.equal('plain');
  });
});
