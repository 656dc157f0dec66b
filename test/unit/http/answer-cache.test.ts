// The answer cache is bounded by the bytes of the answers it keeps (what a client can make large).
import { expect } from 'chai';
import { AnswerCache } from '../../../src/http/answers.js';

const KB = 1024;
const answerOf = (bytes: number, fill = 'x') => fill.repeat(bytes);

describe('answer cache size', () => {
  it('keeps answers up to an eighth of its bytes each, and no larger one', () => {
    const cache = new AnswerCache(1024 * KB);
    cache.set(1, 'small', answerOf(100 * KB));
    cache.set(1, 'large', answerOf(200 * KB));
    expect(cache.get(1, 'small')).to.have.length(100 * KB);
    expect(cache.get(1, 'large')).to.equal(undefined);
  });

  it('drops the oldest answers once the kept ones reach its bytes', () => {
    const cache = new AnswerCache(1024 * KB);
    const keys = Array.from({ length: 12 }, (_, k) => `window ${k}`);
    for (const key of keys) cache.set(1, key, answerOf(100 * KB));
    // Twelve answers of 100 KB do not fit in 1 MB: the first ones went, the last ones stay.
    expect(cache.get(1, keys[0])).to.equal(undefined);
    expect(cache.get(1, keys[11])).to.have.length(100 * KB);
    const kept = keys.filter((key) => cache.get(1, key) !== undefined);
    expect(kept.length).to.be.within(9, 10);
  });

  it('forgets a version when a newer one is kept, and never keeps an older one over it', () => {
    const cache = new AnswerCache(1024 * KB);
    cache.set(2, 'revenue', '{"v":2}');
    cache.set(1, 'revenue', '{"v":1}');
    expect(cache.get(2, 'revenue')).to.equal('{"v":2}');
    cache.set(3, 'top', '{"v":3}');
    expect(cache.get(2, 'revenue')).to.equal(undefined);
    expect(cache.get(3, 'top')).to.equal('{"v":3}');
  });
});
