// What start-up reads and refuses: DATABASE_READ_URLS (the replicas snapshots are built from) and ANALYTICS_QUERIES.
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

describe('config: ANALYTICS_QUERIES', () => {
  it('leaves two of libuv’s threads to file work by default, and at least one whatever is set', () => {
    expect(readConfig({}).analytics.limits.queries).to.equal(2);
    expect(readConfig({ UV_THREADPOOL_SIZE: '16' }).analytics.limits.queries).to.equal(14);
    expect(readConfig({ UV_THREADPOOL_SIZE: '2' }).analytics.limits.queries).to.equal(1);
    expect(readConfig({ UV_THREADPOOL_SIZE: '16', ANALYTICS_QUERIES: '15' }).analytics.limits.queries).to.equal(15);
  });

  it('refuses as many questions at once as libuv has threads', () => {
    expect(() => readConfig({ ANALYTICS_QUERIES: '4' })).to.throw(
      ConfigError,
      "ANALYTICS_QUERIES must be an integer from 1 to 3 (got '4')",
    );
  });
});
