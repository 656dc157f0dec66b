// The analytics: the snapshot that answers (its version, age and build time), the questions asked of it and
// waiting for a slot, and the answer cache.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { AnswerCache } from '../http/answers.js';
import type { SnapshotStore } from '../snapshot/store.js';

/** Sets the metrics from the store and the cache; call before each scrape is rendered. */
export function analyticsMetrics(
  registry: Registry,
  sources: { snapshots: SnapshotStore; cache?: AnswerCache },
): () => Promise<void> {
  const registers = [registry];
  const version = new Gauge({
    name: 'sales_analytics_snapshot_version',
    help: 'The data version of the snapshot that answers (0 before the first is published).',
    registers,
  });
  const age = new Gauge({
    name: 'sales_analytics_snapshot_age_seconds',
    help: 'Seconds since the answering snapshot was built.',
    registers,
  });
  const build = new Gauge({
    name: 'sales_analytics_snapshot_build_seconds',
    help: 'How long the build of the answering snapshot took, whole or increment (0: it did not say).',
    registers,
  });
  const questions = new Gauge({
    name: 'sales_analytics_questions',
    help: 'Questions asked of the snapshot now (state="active") and waiting for a slot (state="waiting", ANALYTICS_QUERIES).',
    labelNames: ['state'],
    registers,
  });
  const cacheCounter = (name: string, help: string) => new Counter({ name, help, registers });
  const hits = cacheCounter('sales_analytics_answer_cache_hits_total', 'Answers found in the answer cache.');
  const misses = cacheCounter('sales_analytics_answer_cache_misses_total', 'Answers not found in the answer cache (computed).');
  const evictions = cacheCounter(
    'sales_analytics_answer_cache_evictions_total',
    'Answers dropped to make room (a new data version empties the cache without counting here).',
  );
  const bytes = new Gauge({
    name: 'sales_analytics_answer_cache_bytes',
    help: 'Bytes the cached answers take (their JSON and keys).',
    registers,
  });
  const maxBytes = new Gauge({
    name: 'sales_analytics_answer_cache_limit_bytes',
    help: 'The most the cached answers may take (ANALYTICS_CACHE_MB; 0 with the cache off).',
    registers,
  });

  const mirror = (counter: Counter, value: number) => {
    counter.reset();
    counter.inc(value);
  };
  return async () => {
    const { snapshots, cache } = sources;
    questions.set({ state: 'active' }, snapshots.questions.active);
    questions.set({ state: 'waiting' }, snapshots.questions.waiting);
    if (cache) {
      mirror(hits, cache.counted.hits);
      mirror(misses, cache.counted.misses);
      mirror(evictions, cache.counted.evictions);
      bytes.set(cache.bytes);
      maxBytes.set(cache.maxBytes);
    }
    const answering = await snapshots.answering();
    if (answering) {
      version.set(answering.version);
      age.set(Math.max(0, Date.now() / 1000 - answering.builtAt));
      build.set(answering.buildSeconds ?? 0);
    } else {
      for (const gauge of [version, age, build]) gauge.reset();
    }
  };
}
