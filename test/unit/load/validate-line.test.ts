import { expect } from 'chai';
import { BRIEF_HEADER } from '../../../src/generate/sales-generator.js';
import { mapColumns } from '../../../src/load/2-records/columns.js';
import { type SaleLine, validateLine } from '../../../src/load/3-rows/validate-line.js';

const TODAY = '2026-11-25';
const columns = mapColumns(BRIEF_HEADER);
const withCost = mapColumns([...BRIEF_HEADER.slice(0, -1), 'Unit Cost', 'Campaign', 'Customer Address']);

const SAMPLE_ROW =
  '1001,P123,C456,UltraBoost Running Shoes,Shoes,North America,2023-12-15,2,180.00,0.1,10.00,Credit Card,John Smith,johnsmith@email.com,123 Main St, Anytown, CA 12345';

function row(overrides: Partial<Record<(typeof BRIEF_HEADER)[number], string>> = {}): string[] {
  const base = SAMPLE_ROW.split(',');
  const fields = [...base.slice(0, 14), base.slice(14).join(',')];
  for (const [name, value] of Object.entries(overrides)) fields[BRIEF_HEADER.indexOf(name)] = value as string;
  return fields;
}

function accepted(fields: string[], map = columns): SaleLine {
  const result = validateLine(fields, map, TODAY);
  if (!result.ok) throw new Error(`rejected: ${result.reasons.join('; ')}`);
  return result.line;
}

function reasons(fields: string[], map = columns): string[] {
  const result = validateLine(fields, map, TODAY);
  if (result.ok) throw new Error('accepted');
  return result.reasons;
}

describe('validateLine', () => {
  it("reads the brief's sample row, joining the bare-comma address back exactly", () => {
    expect(accepted(SAMPLE_ROW.split(','))).to.deep.equal({
      orderCode: '1001',
      productCode: 'P123',
      customerCode: 'C456',
      productName: 'UltraBoost Running Shoes',
      category: 'Shoes',
      region: 'North America',
      saleDate: '2023-12-15',
      quantity: 2,
      unitPrice: '180',
      discount: '0.1',
      shippingCost: '10',
      unitCost: null,
      paymentMethod: 'Credit Card',
      customerName: 'John Smith',
      customerEmail: 'johnsmith@email.com',
      customerAddress: '123 Main St, Anytown, CA 12345',
      attributes: null,
    });
  });

  it('rejects extra fields when Customer Address is not the last column', () => {
    const reordered = mapColumns([...BRIEF_HEADER.slice(0, -1).reverse(), 'Customer Address'].reverse());
    expect(reasons([...row(), 'extra'], reordered)).to.deep.equal(['expected 15 fields, found 16']);
  });

  it('rejects a row with too few fields', () => {
    expect(reasons(row().slice(0, 14))).to.deep.equal(['expected 15 fields, found 14']);
  });

  it('trims values and accepts odd but valid spellings', () => {
    const line = accepted(
      row({
        'Order ID': '  1001 ',
        Discount: ' 10 % ',
        'Unit Price': '.5',
        'Shipping Cost': '',
        'Date of Sale': '2024-02-29T13:45:00Z',
      }),
    );
    expect(line).to.include({ orderCode: '1001', discount: '0.1', unitPrice: '0.5', shippingCost: '0', saleDate: '2024-02-29' });
    expect(accepted(row({ Discount: '', 'Date of Sale': '2024-01-03 09:00' }))).to.include({
      discount: '0',
      saleDate: '2024-01-03',
    });
    expect(accepted(row({ Discount: '100%' })).discount).to.equal('1');
    expect(accepted(row({ Discount: '1' })).discount).to.equal('1');
    expect(accepted(row({ 'Date of Sale': TODAY })).saleDate).to.equal(TODAY);
  });

  it('collects every reason that applies, naming the column', () => {
    const got = reasons(
      row({ 'Order ID': '', 'Quantity Sold': '0', 'Unit Price': '-5', Discount: '1.5', 'Customer Email': 'nobody' }),
    );
    expect(got).to.have.length(5);
    expect(got[0]).to.equal('Order ID is required');
    expect(got.join('\n'))
      .to.match(/Customer Email/)
      .and.match(/Quantity Sold/)
      .and.match(/Unit Price/)
      .and.match(/Discount/);
  });

  it('requires every required field', () => {
    const required = [
      'Order ID',
      'Product ID',
      'Customer ID',
      'Product Name',
      'Category',
      'Region',
      'Date of Sale',
      'Quantity Sold',
      'Unit Price',
      'Payment Method',
      'Customer Name',
      'Customer Email',
    ];
    for (const name of required) expect(reasons(row({ [name]: ' ' })), name).to.deep.equal([`${name} is required`]);
    expect(accepted(row({ 'Customer Address': '' })).customerAddress).to.equal(null);
  });

  for (const [value, why] of [
    ['2023-02-29', 'not a leap year'],
    ['2023-13-01', 'no month 13'],
    ['2023-04-31', 'April has 30 days'],
    ['15/12/2023', 'not ISO'],
    ['2023-12-15T25:00', 'no hour 25'],
    ['2099-01-01', 'in the future'],
    ['2026-11-26', 'the day after the load'],
    ['0000-01-01', 'no year 0'],
  ]) {
    it(`rejects Date of Sale ${value} (${why})`, () => {
      expect(reasons(row({ 'Date of Sale': value }))[0]).to.match(/^Date of Sale/);
    });
  }

  for (const value of ['1.5', '2.0', '-1', 'two', '1e2', '0']) {
    it(`rejects Quantity Sold '${value}'`, () => {
      expect(reasons(row({ 'Quantity Sold': value }))[0]).to.match(/^Quantity Sold/);
    });
  }

  for (const value of ['1.01', '101%', '-0.1', '10%%', 'ten', '%', '1e-1']) {
    it(`rejects Discount '${value}'`, () => {
      expect(reasons(row({ Discount: value }))[0]).to.match(/^Discount/);
    });
  }

  for (const value of ['$5', '1,000.00', '1e3', '5 USD', '-0.01']) {
    it(`rejects Unit Price '${value}'`, () => {
      expect(reasons(row({ 'Unit Price': value }))[0]).to.match(/^Unit Price/);
    });
  }

  for (const value of ['a@b', '@b.com', 'a@b@c.com', 'plain']) {
    it(`rejects Customer Email '${value}'`, () => {
      expect(reasons(row({ 'Customer Email': value }))[0]).to.match(/^Customer Email/);
    });
  }

  it('keeps Unit Cost and the other columns as attributes, empty unit cost meaning unknown', () => {
    const fields = [...row().slice(0, 14), '55.5', 'Black Friday', '123 Main St'];
    expect(accepted(fields, withCost)).to.include({ unitCost: '55.5' });
    expect(accepted(fields, withCost).attributes).to.deep.equal({ Campaign: 'Black Friday' });
    const unknown = [...row().slice(0, 14), '', '', '123 Main St'];
    expect(accepted(unknown, withCost)).to.include({ unitCost: null, attributes: null });
    expect(reasons([...row().slice(0, 14), 'n/a', '', 'x'], withCost)[0]).to.match(/^Unit Cost/);
  });
  it('gives the same answer for a value seen before (the checks keep what they found, valid or not)', () => {
    for (let seen = 0; seen < 2; seen++) {
      expect(accepted(row({ 'Date of Sale': '2024-02-29', 'Unit Price': '12.50', Discount: '0.25' }))).to.include({
        saleDate: '2024-02-29',
      });
      expect(reasons(row({ 'Date of Sale': '2023-02-29', 'Unit Price': '12.5.0', Discount: '2' }))).to.have.length(3);
    }
  });
});
