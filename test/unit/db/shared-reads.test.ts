// sharedReads (the data version behind every answer): concurrent callers share queries, and no caller is
// given a query that started before it asked, so an answer never predates a load its client saw commit.
import { expect } from 'chai';
import { sharedReads } from '../../../src/db/read-pool.js';

/** A read whose queries the test settles by hand, numbered in the order they start. */
function controlledRead() {
  const started: { settle: (value: number) => void; fail: (error: Error) => void }[] = [];
  const read = () =>
    new Promise<number>((resolve, reject) => {
      started.push({ settle: resolve, fail: reject });
    });
  return { read, started };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('sharedReads', () => {
  it('callers during a query share the next one, which starts after the first settles', async () => {
    const { read, started } = controlledRead();
    const version = sharedReads(read);
    const first = version();
    const [second, third] = [version(), version()];
    expect(started).to.have.length(1);
    started[0].settle(1);
    expect(await first).to.equal(1);
    await tick();
    expect(started).to.have.length(2); // one query for both callers that came during the first
    started[1].settle(2);
    expect(await second).to.equal(2);
    expect(await third).to.equal(2);
  });

  it('never answers a caller with a query started before its call', async () => {
    const { read, started } = controlledRead();
    const version = sharedReads(read);
    const asked: { answer: Promise<number>; queriesBefore: number }[] = [];
    const ask = () => asked.push({ queriesBefore: started.length, answer: version() });
    // Each query answers its own number, the order it started in; callers come before, during and after.
    ask();
    ask();
    ask();
    for (let query = 0; query < 4; query++) {
      started[query].settle(query + 1);
      await tick();
      if (query < 2) ask();
    }
    expect(started).to.have.length(4);
    for (const [index, { answer, queriesBefore }] of asked.entries()) {
      expect(await answer, `caller ${index}`).to.be.greaterThan(queriesBefore);
    }
  });

  it('a failed query fails its callers only; the next callers get a new query', async () => {
    const { read, started } = controlledRead();
    const version = sharedReads(read);
    const failing = version();
    started[0].fail(new Error('connection lost'));
    await failing.catch((error: Error) => expect(error.message).to.equal('connection lost'));
    const next = version();
    expect(started).to.have.length(2);
    started[1].settle(7);
    expect(await next).to.equal(7);
  });
});
