import { expect } from 'chai';
import { splitByMonth, splitByYear } from '../../../src/analytics/range.js';

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
