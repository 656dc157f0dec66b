import fs from 'node:fs/promises';
import { expect } from 'chai';
import { schemaDot } from '../../../src/db/schema-diagram.js';
import { useTestDatabase } from '../../support/database.js';

describe('schema diagram', () => {
  const db = useTestDatabase();

  it('matches the migrated schema (regenerate with npm run diagram)', async () => {
    expect(await schemaDot(db().pool)).to.equal(await fs.readFile('schema.dot', 'utf8'));
  });

  it('draws every table and foreign key', async () => {
    const dot = await schemaDot(db().pool);
    for (const table of ['orders', 'order_items', 'products', 'customers', 'refresh_runs', 'data_version']) {
      expect(dot).to.contain(`    ${table} [label=`);
    }
    expect(dot).to.contain('order_items:order_id -> orders;');
    expect(dot).to.contain('orders:customer_id -> customers;');
  });
});
