// How an analysis becomes an HTTP answer: one consistent snapshot of the data (on a replica or the primary,
// as the read router chooses), an ETag and a Data-Version header from that snapshot's data version (304 on
// If-None-Match, where the answer would have been a 200), never a version older than the client asked for or
// this process has seen, an in-process cache per data version, JSON or CSV.
import { createHash } from 'node:crypto';
import type { Context } from 'koa';
import type { Queryable } from '../analytics/queryable.js';
import { NoSnapshotError, type SnapshotStore } from '../snapshot/store.js';
import { representation, sendCsv } from './csv.js';
import { invalidParams } from './problem.js';

export interface CsvShape<Answer> {
  columns: string[];
  rows(answer: Answer): Iterable<object>;
}

/** An answer larger than this share of the cache is not kept: one request must not flush all the others. */
const LARGEST_CACHED_SHARE = 1 / 8;

/**
 * Answers of one data version as JSON text, oldest dropped first, bounded by the bytes of that text (what a
 * client can make large) rather than by a count of entries. Counts its hits, misses and evictions (the metrics).
 */
export class AnswerCache {
  private version: number | undefined;
  private readonly answers = new Map<string, string>();
  private held = 0;
  readonly counted = { hits: 0, misses: 0, evictions: 0 };

  constructor(readonly maxBytes: number) {}

  /** The bytes the kept answers take, keys included. */
  get bytes(): number {
    return this.held;
  }

  get(version: number, key: string): string | undefined {
    const json = version === this.version ? this.answers.get(key) : undefined;
    if (json === undefined) this.counted.misses++;
    else this.counted.hits++;
    return json;
  }

  set(version: number, key: string, json: string): void {
    // An answer that a slower request computed from an older snapshot must not evict the newer version's.
    if (this.version !== undefined && version < this.version) return;
    if (version !== this.version) {
      this.answers.clear();
      this.held = 0;
      this.version = version;
    }
    const size = Buffer.byteLength(key) + Buffer.byteLength(json);
    if (size > this.maxBytes * LARGEST_CACHED_SHARE || this.answers.has(key)) return;
    for (const [oldKey, oldJson] of this.answers) {
      if (this.held + size <= this.maxBytes) break;
      this.answers.delete(oldKey);
      this.held -= Buffer.byteLength(oldKey) + Buffer.byteLength(oldJson);
      this.counted.evictions++;
    }
    this.answers.set(key, json);
    this.held += size;
  }
}

function etagOf(version: number, key: string): string {
  return `"${version}-${createHash('sha256').update(key).digest('base64url').slice(0, 22)}"`;
}

/** The newest data version among the ETags of If-None-Match (ours start with it): the client has seen it. */
function versionSeenIn(header: string): number {
  let newest = 0;
  for (const [, digits] of header.matchAll(/(?:^|,)\s*(?:W\/)?"(\d{1,15})-/g)) newest = Math.max(newest, Number(digits));
  return newest;
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

export type AnswerParams = { from?: string; to?: string; format?: 'json' | 'csv'; minVersion?: number };

/** `cache`: where answers are kept until the data version changes; none: every answer is computed. */
export function answerer(snapshots: SnapshotStore, cache: AnswerCache | undefined) {
  return async function answer<Params extends AnswerParams, Answer>(
    ctx: Context,
    params: Params,
    analysis: (db: Queryable, params: Params) => Promise<Answer>,
    csv: CsvShape<Answer>,
  ): Promise<void> {
    checkRange(params);
    const as = representation(ctx, params.format);
    // minVersion only says which snapshots may answer: it is no part of the answer, its ETag or its cache key.
    const { format: _, minVersion, ...query } = params;
    const key = JSON.stringify([ctx.path, as, Object.entries(query).sort(([a], [b]) => a.localeCompare(b))]);

    // The newest published snapshot answers. The oldest version this request may see: what the client asked
    // for or showed in If-None-Match (a server that builds its own snapshots builds that version first).
    await snapshots.prepare(Math.max(minVersion ?? 0, versionSeenIn(ctx.get('If-None-Match'))));
    let version = await snapshots.newestVersion();
    if (version === undefined) throw new NoSnapshotError('no analytics snapshot has been built yet');
    if (minVersion !== undefined && version < minVersion) {
      throw invalidParams([{ name: 'minVersion', reason: `no data version ${minVersion} yet: the newest is ${version}` }]);
    }
    // The answer first, then its validators: an error (a range over the period limit, say) carries no ETag,
    // and a matching If-None-Match is a 304 only where the answer would have been a 200 (RFC 9110, 13.2.1).
    let json = cache?.get(version, key);
    let result: Answer | undefined;
    if (json === undefined) {
      ({ version, result } = await snapshots.read(async (db, snapshotVersion) => ({
        version: snapshotVersion,
        result: await analysis(db, params),
      })));
      json = JSON.stringify(result);
      cache?.set(version, key, json);
    }
    ctx.set('ETag', etagOf(version, key));
    ctx.set('Data-Version', String(version));
    ctx.set('Cache-Control', 'no-cache');
    if (matchesIfNoneMatch(ctx.get('If-None-Match'), ctx.response.get('ETag'))) {
      ctx.status = 304;
      return;
    }
    ctx.status = 200;
    if (as === 'csv') {
      const answer = result ?? (JSON.parse(json) as Answer);
      sendCsv(ctx, csv.columns, csv.rows(answer), `${ctx.path.split('/').slice(3).join('-')}.csv`);
    } else {
      ctx.type = 'application/json; charset=utf-8';
      ctx.body = json;
    }
  };
}
