import { expect } from 'chai';
import { FileState } from '../../../src/load/3-rows/file-state.js';
import type { SaleLine } from '../../../src/load/3-rows/validate-line.js';

function line(overrides: Partial<SaleLine> = {}): SaleLine {
  return {
    orderCode: '1',
    productCode: 'P1',
    customerCode: 'C1',
    productName: 'Shoe',
    category: 'Shoes',
    region: 'Europe',
    saleDate: '2024-01-01',
    quantity: 1,
    unitPrice: '10',
    discount: '0',
    shippingCost: '0',
    unitCost: null,
    paymentMethod: 'Cash',
    customerName: 'Ann',
    customerEmail: 'ann@x.io',
    customerAddress: null,
    attributes: null,
    ...overrides,
  };
}

describe('FileState', () => {
  it('lets the last row of a line key win, counting each earlier one as a duplicate', () => {
    const state = new FileState();
    expect(state.accept(line(), 2)).to.deep.equal({ accepted: true, order: 0, product: 0, supersedes: undefined });
    expect(state.accept(line({ productCode: 'P2' }), 3)).to.deep.equal({
      accepted: true,
      order: 0,
      product: 1,
      supersedes: undefined,
    });
    expect(state.accept(line({ quantity: 5 }), 4)).to.deep.equal({ accepted: true, order: 0, product: 0, supersedes: 2 });
    expect(state.accept(line({ quantity: 6 }), 5)).to.deep.equal({ accepted: true, order: 0, product: 0, supersedes: 4 });
    expect(state.supersededLines).to.deep.equal([2, 4]);
    expect(state.duplicates).to.equal(2);
  });

  it("rejects a row that disagrees with its order's first valid row, naming every field", () => {
    const state = new FileState();
    state.accept(line(), 2);
    const verdict = state.accept(line({ productCode: 'P2', customerCode: 'C2', region: 'Asia' }), 7);
    expect(verdict.accepted).to.equal(false);
    if (verdict.accepted) return;
    expect(verdict.reasons).to.have.length(2);
    expect(verdict.reasons[0]).to.match(/Customer ID 'C2' differs from 'C1' on line 2/);
    expect(verdict.reasons[1]).to.match(/Region 'Asia' differs from 'Europe'/);
    expect(state.duplicates).to.equal(0);
  });

  it('rejects a conflicting repeat of a line key without counting it as a duplicate', () => {
    const state = new FileState();
    state.accept(line(), 2);
    expect(state.accept(line({ saleDate: '2024-01-02' }), 3).accepted).to.equal(false);
    expect(state.duplicates).to.equal(0);
  });

  it('does not register a customer or product that only a rejected row mentions', () => {
    const state = new FileState();
    state.accept(line(), 2);
    state.accept(line({ productCode: 'P2', customerCode: 'C2' }), 3);
    expect([...state.customers()].map(([code]) => code)).to.deep.equal(['C1']);
    expect([...state.products()].map(([code]) => code)).to.deep.equal(['P1']);
  });

  it('keeps the latest product and customer attributes', () => {
    const state = new FileState();
    state.accept(line(), 2);
    state.accept(line({ orderCode: '2', productName: 'Boot', category: 'Footwear', customerName: 'Anne' }), 3);
    expect(new Map(state.products()).get('P1')).to.deep.equal({ name: 'Boot', category: 'Footwear' });
    expect(new Map(state.customers()).get('C1')).to.include({ name: 'Anne' });
    expect([...state.orders()].map(([code, head]) => [code, head.firstLine])).to.deep.equal([
      ['1', 2],
      ['2', 3],
    ]);
  });
});
