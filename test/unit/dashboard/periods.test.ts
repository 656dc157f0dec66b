// The dashboard's ranges: presets end on the data's last sale day, the previous period has the same number
// of days and ends the day before, and the URL query holds the whole state.
import { expect } from 'chai';
import { presetRange, previousRange, readState, writeState } from '../../../public/dashboard/periods.js';

const bounds = { first: '2022-03-14', last: '2024-05-18' };

describe('dashboard periods', () => {
  it('anchors every preset on the last sale day', () => {
    expect(presetRange('last7', bounds)).to.deep.equal({ from: '2024-05-12', to: '2024-05-18' });
    expect(presetRange('last30', bounds)).to.deep.equal({ from: '2024-04-19', to: '2024-05-18' });
    expect(presetRange('last90', bounds)).to.deep.equal({ from: '2024-02-19', to: '2024-05-18' });
    expect(presetRange('month', bounds)).to.deep.equal({ from: '2024-05-01', to: '2024-05-18' });
    expect(presetRange('quarter', bounds)).to.deep.equal({ from: '2024-04-01', to: '2024-05-18' });
    expect(presetRange('quarter', { ...bounds, last: '2024-03-31' })).to.deep.equal({ from: '2024-01-01', to: '2024-03-31' });
    expect(presetRange('quarter', { ...bounds, last: '2024-12-01' })).to.deep.equal({ from: '2024-10-01', to: '2024-12-01' });
    expect(presetRange('year', bounds)).to.deep.equal({ from: '2024-01-01', to: '2024-05-18' });
    expect(presetRange('lastyear', bounds)).to.deep.equal({ from: '2023-01-01', to: '2023-12-31' });
    expect(presetRange('all', bounds)).to.deep.equal({ from: '2022-03-14', to: '2024-05-18' });
    expect(presetRange('custom', bounds, { from: '2023-02-01' })).to.deep.equal({ from: '2023-02-01', to: '2024-05-18' });
  });

  it('takes as previous period the same number of days just before, across month and leap-day ends', () => {
    expect(previousRange({ from: '2024-05-12', to: '2024-05-18' })).to.deep.equal({ from: '2024-05-05', to: '2024-05-11' });
    expect(previousRange({ from: '2024-03-01', to: '2024-03-31' })).to.deep.equal({ from: '2024-01-30', to: '2024-02-29' });
    expect(previousRange({ from: '2023-01-01', to: '2023-12-31' })).to.deep.equal({ from: '2022-01-01', to: '2022-12-31' });
    expect(previousRange({ from: '2024-01-01', to: '2024-12-31' })).to.deep.equal({ from: '2022-12-31', to: '2023-12-31' });
    expect(previousRange({ from: '2024-05-18', to: '2024-05-18' })).to.deep.equal({ from: '2024-05-17', to: '2024-05-17' });
  });

  it('writes the state to the query without its defaults and reads it back', () => {
    const state = {
      range: 'custom',
      from: '2023-02-01',
      to: '2023-02-28',
      interval: 'day',
      top: 'region',
      category: 'Home',
      region: 'Asia',
    };
    const query = writeState(state);
    expect(query).to.equal('?range=custom&from=2023-02-01&to=2023-02-28&interval=day&top=region&category=Home&region=Asia');
    expect(readState(query)).to.deep.equal(state);
    expect(writeState(readState(''))).to.equal('');
  });

  it('falls back to the defaults for values it does not know, and keeps custom days only for a custom range', () => {
    expect(readState('?range=forever&interval=hour&top=x&from=2023-02-30&to=nope')).to.deep.equal({
      range: 'last90',
      interval: 'week',
      top: 'overall',
      category: '',
      region: '',
      from: undefined,
      to: undefined,
    });
    expect(readState('?range=last7&from=2023-02-01').from).to.equal(undefined);
    expect(readState('?range=custom&from=2023-02-30&to=2023-03-01')).to.include({ from: undefined, to: '2023-03-01' });
  });
});
