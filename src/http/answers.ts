// How an analysis becomes an HTTP answer: one consistent snapshot of the data, an ETag from the data version
// and the query (304 on If-None-Match), an in-process cache per data version, JSON or CSV.
import { createHash } from 'node:crypto';
import type { Context } from 'koa';
import type { Pool } from 'pg';
import type { Queryable } from '../analytics/sql.js';
import { checkOut } from '../db/database.js';
import { representation, sendCsv } from './csv.js';
import { invalidParams } from './problem.js';

export interface CsvShape<Answer> {
  columns: string[];
  rows(answer: Answer): Iterable<object>;
}

export interface AnswerCacheOptions {
  /** Keep answers in memory until the data version changes. */
  enabled: boolean;
  /** The most the kept answers may take, counted as their JSON text. */
  maxBytes: number;
}

/** An answer larger than this share of the cache is not kept: one request must not flush all the others. */
const LARGEST_CACHED_SHARE = 1 / 8;

/**
 * Answers of one data version as JSON text, oldest dropped first, bounded by the bytes of that text (what a
 * client can make large) rather than by a count of entries.
 */
class AnswerCache {
  private version: number | undefined;
  private readonly answers = new Map<string, string>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get(version: number, key: string): string | undefined {
    return version === this.version ? this.answers.get(key) : undefined;
  }

  set(version: number, key: string, json: string): void {
    if (version !== this.version) {
      this.answers.clear();
      this.bytes = 0;
      this.version = version;
    }
    const size = Buffer.byteLength(key) + Buffer.byteLength(json);
    if (size > this.maxBytes * LARGEST_CACHED_SHARE || this.answers.has(key)) return;
    for (const [oldKey, oldJson] of this.answers) {
      if (this.bytes + size <= this.maxBytes) break;
      this.answers.delete(oldKey);
      this.bytes -= Buffer.byteLength(oldKey) + Buffer.byteLength(oldJson);
    }
    this.answers.set(key, json);
    this.bytes += size;
  }
}

const dataVersion = async (db: Queryable) =>
  Number((await db.query<{ version: string }>('SELECT version FROM data_version')).rows[0].version);

/**
 * Reads the data version with at most one query in flight: a caller joins the next query to start, never
 * one already running (its answer may predate a load the caller has seen commit), so each answer still
 * sees every load committed before its request, while concurrent requests share one round trip instead
 * of each queueing for a pool connection (most of a cache hit's time under load).
 */
export function sharedReads(read: () => Promise<number>): () => Promise<number> {
  let inFlight: Promise<number> | undefined;
  let nextRound: Promise<number> | undefined;
  const start = () => {
    const query = read();
    const settled = () => {
      if (inFlight === query) inFlight = undefined;
    };
    query.then(settled, settled);
    inFlight = query;
    return query;
  };
  return () => {
    if (!inFlight) return start();
    nextRound ??= inFlight
      .catch(() => {})
      .then(() => {
        nextRound = undefined;
        return start();
      });
    return nextRound;
  };
}

function etagOf(version: number, key: string): string {
  return `"${version}-${createHash('sha256').update(key).digest('base64url').slice(0, 22)}"`;
}

/**
 * RFC 9110 If-None-Match with weak comparison. Koa's ctx.fresh answers "stale" whenever the request says
 * Cache-Control: no-cache, which Node's fetch adds to every conditional request; that header is for caches,
 * and an origin server still evaluates the condition.
 */
function matchesIfNoneMatch(header: string, etag: string): boolean {
  if (!header || !etag) return false;
  if (header.trim() === '*') return true;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => opaque(tag) === opaque(etag));
}

/** An explicit `from` after an explicit `to` is the one range a client can get wrong. */
function checkRange(params: { from?: string; to?: string }): void {
  if (params.from && params.to && params.from > params.to) {
    throw invalidParams([{ name: 'from', reason: `must not be after to (${params.to})` }]);
  }
}

export function answerer(pool: Pool, options: AnswerCacheOptions) {
  const cache = new AnswerCache(options.maxBytes);
  const currentVersion = sharedReads(() => dataVersion(pool));
  return async function answer<Params extends { from?: string; to?: string; format?: 'json' | 'csv' }, Answer>(
    ctx: Context,
    params: Params,
    analysis: (db: Queryable, params: Params) => Promise<Answer>,
    csv: CsvShape<Answer>,
  ): Promise<void> {
    checkRange(params);
    const as = representation(ctx, params.format);
    const { format: _, ...query } = params;
    const key = JSON.stringify([ctx.path, as, Object.entries(query).sort(([a], [b]) => a.localeCompare(b))]);

    let version = await currentVersion();
    let json = options.enabled ? cache.get(version, key) : undefined;
    let result: Answer | undefined;
    ctx.status = 200;
    ctx.set('ETag', etagOf(version, key));
    ctx.set('Cache-Control', 'no-cache');
    if (matchesIfNoneMatch(ctx.get('If-None-Match'), ctx.response.get('ETag'))) {
      ctx.status = 304;
      return;
    }
    if (json === undefined) {
      // One snapshot for the version and every query of the analysis: a load committing meanwhile is not seen.
      const session = await checkOut(pool);
      const { client } = session;
      try {
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        // Room for the per-product and per-customer aggregates in memory (the default 4MB spills them to disk).
        await client.query("SET LOCAL work_mem = '64MB'");
        version = await dataVersion(client);
        result = await analysis(client, params);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        session.release();
      }
      json = JSON.stringify(result);
      if (options.enabled) cache.set(version, key, json);
      ctx.set('ETag', etagOf(version, key));
    }
    if (as === 'csv') {
      const answer = result ?? (JSON.parse(json) as Answer);
      sendCsv(ctx, csv.columns, csv.rows(answer), `${ctx.path.split('/').slice(3).join('-')}.csv`);
    } else {
      ctx.type = 'application/json; charset=utf-8';
      ctx.body = json;
    }
  };
}
