// DATABASE_READ_URLS: the replicas that analytics answers are read from, validated at start-up.
import { expect } from 'chai';
import { ConfigError, readConfig } from '../../src/config.js';

const PRIMARY = 'postgres://app@db-primary:5432/sales';

describe('config: DATABASE_READ_URLS', () => {
  it('is an empty list when unset, so every read goes to DATABASE_URL', () => {
    expect(readConfig({ DATABASE_URL: PRIMARY }).readReplicaUrls).to.deep.equal([]);
    expect(readConfig({}).readReplicaUrls).to.deep.equal([]);
  });

  it('lists the comma-separated URLs in order, trimmed, empty entries ignored', () => {
    const config = readConfig({
      DATABASE_URL: PRIMARY,
      DATABASE_READ_URLS: ' postgres://app@replica-1/sales, postgresql://app:s%40cret@replica-2:6432/sales ,',
    });
    expect(config.readReplicaUrls).to.deep.equal([
      'postgres://app@replica-1/sales',
      'postgresql://app:s%40cret@replica-2:6432/sales',
    ]);
  });

  it('refuses an entry that is not a postgres URL, naming it without its password', () => {
    const read = (urls: string) => () => readConfig({ DATABASE_URL: PRIMARY, DATABASE_READ_URLS: urls });
    expect(read('postgres://app@replica-1/sales,mysql://app:hunter2@replica-2/sales')).to.throw(
      ConfigError,
      "DATABASE_READ_URLS must list postgres:// or postgresql:// URLs, comma-separated (got 'mysql://app:***@replica-2/sales')",
    );
    expect(read('replica-1:5432')).to.throw(ConfigError, "(got 'replica-1:5432')");
    expect(read('postgres://')).to.throw(ConfigError, "(got 'postgres://')");
  });

  it('needs DATABASE_URL: the primary takes every write and is the last resort for reads', () => {
    expect(() => readConfig({ DATABASE_READ_URLS: 'postgres://app@replica-1/sales' })).to.throw(
      ConfigError,
      'DATABASE_READ_URLS needs DATABASE_URL (the primary, which takes every write and answers when no replica can)',
    );
  });
});
