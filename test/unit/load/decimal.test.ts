import { expect } from 'chai';
import { canonicalDecimal, compareDecimal, isPlainDecimal, percentToFraction } from '../../../src/load/3-rows/decimal.js';

describe('decimal text', () => {
  it('accepts plain decimals only', () => {
    for (const ok of ['12', '12.5', '.5', '12.', '0', '007.50']) expect(isPlainDecimal(ok), ok).to.equal(true);
    for (const bad of ['', '-1', '+1', '1e3', '$5', '1,000', '1.2.3', '.', ' 1', 'NaN', 'Infinity']) {
      expect(isPlainDecimal(bad), bad).to.equal(false);
    }
  });

  it('canonicalises without losing digits', () => {
    expect(['007.50', '.5', '12.', '0.000', '100'].map(canonicalDecimal)).to.deep.equal(['7.5', '0.5', '12', '0', '100']);
    expect(canonicalDecimal('1.0000000000000000000001')).to.equal('1.0000000000000000000001');
  });

  it('compares exactly, beyond double precision', () => {
    expect(compareDecimal('1.0000000000000000001', '1')).to.equal(1);
    expect(compareDecimal('1', '1')).to.equal(0);
    expect(compareDecimal('0.99', '1')).to.be.below(0);
    expect(compareDecimal('100', '99.999')).to.be.above(0);
  });

  it('divides a percentage by 100 exactly', () => {
    expect(['10', '12.5', '100', '0', '0.5', '3'].map(percentToFraction)).to.deep.equal([
      '0.1',
      '0.125',
      '1',
      '0',
      '0.005',
      '0.03',
    ]);
  });
});
