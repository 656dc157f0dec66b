// Exact quotients against PostgreSQL's numeric round(a / b, places), computed by hand.
import { expect } from 'chai';
import { roundedQuotient } from '../../../src/analytics/exact.js';

describe('exact quotients', () => {
  it('round half away from zero from the exact quotient, not from a double', () => {
    // 8849.43 / 13 = 680.725384...: 680.73; as a double division it rounded to 680.72 once.
    expect(roundedQuotient('8849.43', 13, 2)).to.equal(680.73);
    expect(roundedQuotient('2794.04', 3, 2)).to.equal(931.35); // 931.34666...
    expect(roundedQuotient('1.005', 1, 2)).to.equal(1.01); // a tie goes away from zero
    expect(roundedQuotient('-1.005', 1, 2)).to.equal(-1.01);
    expect(roundedQuotient('1', 3, 4)).to.equal(0.3333);
    expect(roundedQuotient('2', 3, 4)).to.equal(0.6667);
    expect(roundedQuotient('0.00', '5.5', 4)).to.equal(0);
    expect(roundedQuotient('123456789012345678901234567890.12', '0.7', 2)).to.equal(Number('176366841446208112716049382700.17')); // the double nearest the exact decimal
  });

  it('answers the given value when the denominator is zero', () => {
    expect(roundedQuotient('5', '0', 2)).to.equal(0);
    expect(roundedQuotient('5', '0.00', 4, null)).to.equal(null);
  });
});
