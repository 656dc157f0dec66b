import { expect } from 'chai';
import { signedParts, splitByMonth, splitByYear } from '../../../src/analytics/range.js';

describe('range splitting', () => {
  it('cuts a range into whole months and the days at either end', () => {
    expect(splitByMonth('2023-02-10', '2024-05-03')).to.deep.equal({
      monthsFrom: '2023-03-01',
      monthsTo: '2024-05-01',
      edges: [
        ['2023-02-10', '2023-02-28'],
        ['2024-05-01', '2024-05-03'],
      ],
    });
    expect(splitByMonth('2024-01-01', '2024-02-29')).to.deep.equal({
      monthsFrom: '2024-01-01',
      monthsTo: '2024-03-01',
      edges: [],
    });
    expect(splitByMonth('2024-03-05', '2024-03-19')).to.deep.equal({
      monthsFrom: '2024-04-01',
      monthsTo: '2024-04-01',
      edges: [['2024-03-05', '2024-03-19']],
    });
    expect(splitByMonth('2024-03-31', '2024-04-01').edges).to.deep.equal([['2024-03-31', '2024-04-01']]);
  });

  it('cuts whole months into whole years and the months at either end', () => {
    expect(splitByYear('2022-01-01', '2025-01-01')).to.deep.equal({ yearsFrom: '2022-01-01', yearsTo: '2025-01-01', months: [] });
    expect(splitByYear('2022-03-01', '2024-05-01')).to.deep.equal({
      yearsFrom: '2023-01-01',
      yearsTo: '2024-01-01',
      months: [
        ['2022-03-01', '2023-01-01'],
        ['2024-01-01', '2024-05-01'],
      ],
    });
    expect(splitByYear('2023-03-01', '2023-11-01')).to.deep.equal({
      yearsFrom: '2024-01-01',
      yearsTo: '2024-01-01',
      months: [['2023-03-01', '2023-11-01']],
    });
    expect(splitByYear('2023-04-01', '2023-04-01').months).to.deep.equal([]);
  });
});

describe('signed range parts', () => {
  const DAY = 86_400_000;
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  /** How many times the parts count each day from 2021-01-01 to 2026-12-31 (taken-out parts count -1). */
  function coverage(parts: ReturnType<typeof signedParts>): Map<string, number> {
    const counts = new Map<string, number>();
    for (const part of parts) {
      expect(part.from < part.to, JSON.stringify(part)).to.equal(true);
      if (part.grain !== 'day') expect(part.from.endsWith(part.grain === 'year' ? '-01-01' : '-01')).to.equal(true);
      for (let t = Date.parse(part.from); day(t) < part.to; t += DAY) counts.set(day(t), (counts.get(day(t)) ?? 0) + part.sign);
    }
    return counts;
  }

  it('count every day of the range once and no other day, over ranges of 1 day to 3 years', function () {
    this.timeout(20_000);
    const start = Date.parse('2021-06-01');
    for (let i = 0; i < 400; i++) {
      const from = start + ((i * 7919) % 900) * DAY;
      const to = from + ((i * 104729) % 1100) * DAY;
      const counts = coverage(signedParts(day(from), day(to)));
      const wrong: string[] = [];
      for (let t = Date.parse('2021-01-01'); t < Date.parse('2027-01-01'); t += DAY) {
        if ((counts.get(day(t)) ?? 0) !== (t >= from && t <= to ? 1 : 0)) wrong.push(day(t));
      }
      expect(wrong, `${day(from)}..${day(to)}`).to.deep.equal([]);
    }
  });

  it('read a rolling year as the year minus a week plus a week', () => {
    expect(signedParts('2023-01-08', '2024-01-07')).to.deep.equal([
      { grain: 'year', from: '2023-01-01', to: '2024-01-01', sign: 1 },
      { grain: 'day', from: '2023-01-01', to: '2023-01-08', sign: -1 },
      { grain: 'day', from: '2024-01-01', to: '2024-01-08', sign: 1 },
    ]);
  });
});
