import { expect } from 'chai';
import { BRIEF_HEADER } from '../../../src/generate/sales-generator.js';
import { InputFormatError } from '../../../src/load/1-bytes/file.js';
import { mapColumns } from '../../../src/load/2-records/columns.js';

describe('mapColumns', () => {
  it('matches names ignoring case, spaces, underscores and hyphens, in any order', () => {
    const header = [
      'customer_address',
      'ORDER-ID',
      'productId',
      'Customer ID',
      'product name',
      'CATEGORY',
      'region',
      'date_of_sale',
      'QuantitySold',
      'unit-price',
      'discount',
      'shipping cost',
      'Payment_Method',
      'customername',
      'Customer Email',
    ];
    const columns = mapColumns(header);
    expect(columns.index.orderId).to.equal(1);
    expect(columns.index.customerAddress).to.equal(0);
    expect(columns.addressIsLast).to.equal(false);
    expect(columns.extras).to.deep.equal([]);
  });

  it('keeps unknown columns as extras and recognises Unit Cost', () => {
    const columns = mapColumns([...BRIEF_HEADER.slice(0, -1), 'Unit Cost', 'Campaign', ' Customer Address ']);
    expect(columns.index.unitCost).to.equal(14);
    expect(columns.extras).to.deep.equal([[15, 'Campaign']]);
    expect(columns.addressIsLast).to.equal(true);
  });

  it('fails naming every missing required column', () => {
    expect(() => mapColumns(BRIEF_HEADER.filter((name) => name !== 'Region' && name !== 'Customer Email'))).to.throw(
      InputFormatError,
      'missing required columns: Region, Customer Email',
    );
  });

  it('says the header is missing when the first line names none of the required columns, not that its values repeat', () => {
    expect(() => mapColumns(['1001', 'P1', 'C1', 'Lamp', 'Home', 'Europe', '2024-01-10', '1', '10', '0', '0', '', ''])).to.throw(
      InputFormatError,
      'line 1 names none of the required columns, such as Order ID or Date of Sale: is the header missing?',
    );
  });

  it('fails on a column named twice', () => {
    expect(() => mapColumns([...BRIEF_HEADER, 'order_id'])).to.throw(InputFormatError, /twice/);
  });

  it('fails on a header name PostgreSQL cannot store, naming the column and the byte', () => {
    expect(() => mapColumns([...BRIEF_HEADER, 'Not\0e'])).to.throw(
      InputFormatError,
      'header column 16 contains a NUL byte (0x00), which PostgreSQL text cannot hold',
    );
    expect(() => mapColumns([...BRIEF_HEADER, 'R\uDCE9gion'])).to.throw(
      InputFormatError,
      /^header column 16 contains bytes that are not UTF-8: 0xE9/,
    );
  });

  it('asks about the delimiter when the header is one column holding a semicolon, a tab or a bar', () => {
    for (const [delimiter, named] of [
      [';', "';'"],
      ['\t', 'tabs'],
      ['|', "'|'"],
    ]) {
      expect(() => mapColumns([BRIEF_HEADER.join(delimiter)])).to.throw(
        InputFormatError,
        `the header has one column; is the file delimited by ${named}? Columns must be separated by commas`,
      );
    }
  });
});
