// The databases: readiness as GET /ready says it, whether PostgreSQL answers, the record's data version, the
// connection pools, and each replica's state and lag.
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import type { ReadRouter } from '../db/read-pool.js';
import { DATABASE_AWAY, readiness } from '../http/readiness.js';
import type { SnapshotStore } from '../snapshot/store.js';

/** Sets the metrics from a readiness check and the pools; call before each scrape is rendered. */
export function databaseMetrics(
  registry: Registry,
  sources: { pool: Pool; reads: ReadRouter; snapshots: SnapshotStore; logger: Logger },
): () => Promise<void> {
  const registers = [registry];
  const ready = new Gauge({ name: 'sales_analytics_ready', help: 'What GET /ready says: 1 ready, 0 not.', registers });
  const up = new Gauge({ name: 'sales_analytics_postgres_up', help: '1 when the primary PostgreSQL answers.', registers });
  const dataVersion = new Gauge({
    name: 'sales_analytics_data_version',
    help: "The primary's data version (the snapshot's may lag it while a refresh publishes).",
    registers,
  });
  const connections = new Gauge({
    name: 'sales_analytics_db_pool_connections',
    help: 'Connections of each pool (primary, replica-1...): state="open" (all) or "idle".',
    labelNames: ['pool', 'state'],
    registers,
  });
  const waiting = new Gauge({
    name: 'sales_analytics_db_pool_waiting',
    help: 'Queries waiting for a connection of each pool.',
    labelNames: ['pool'],
    registers,
  });
  const replicaUp = new Gauge({
    name: 'sales_analytics_replica_up',
    help: 'Each replica of DATABASE_READ_URLS: 1 when it answers.',
    labelNames: ['replica'],
    registers,
  });
  const lagSeconds = new Gauge({
    name: 'sales_analytics_replica_lag_seconds',
    help: 'Seconds since the last transaction a replica replayed was committed on the primary (0: it has replayed all).',
    labelNames: ['replica'],
    registers,
  });
  const lagBytes = new Gauge({
    name: 'sales_analytics_replica_lag_bytes',
    help: "WAL bytes between the primary's position and what a replica has replayed.",
    labelNames: ['replica'],
    registers,
  });

  return async () => {
    const { pool, reads, snapshots, logger } = sources;
    for (const [name, source] of [['primary', pool] as const, ...reads.replicas.map((r) => [r.name, r.pool] as const)]) {
      connections.set({ pool: name, state: 'open' }, source.totalCount);
      connections.set({ pool: name, state: 'idle' }, source.idleCount);
      waiting.set({ pool: name }, source.waitingCount);
    }
    const state = await readiness({ reads, snapshots }, logger);
    ready.set(state.status === 'ready' ? 1 : 0);
    up.set(state.status === 'unavailable' && state.reason === DATABASE_AWAY ? 0 : 1);
    if (state.recordVersion !== undefined) dataVersion.set(state.recordVersion);
    // A ready answer has probed the replicas already; otherwise they are probed here (the primary may be away).
    const replicas = state.status === 'ready' ? (state.replicas ?? []) : reads.replicas.length > 0 ? await reads.status() : [];
    for (const replica of replicas) {
      replicaUp.set({ replica: replica.name }, replica.state === 'up' ? 1 : 0);
      if (replica.lagSeconds === null) lagSeconds.remove({ replica: replica.name });
      else lagSeconds.set({ replica: replica.name }, replica.lagSeconds);
      if (replica.lagBytes === null) lagBytes.remove({ replica: replica.name });
      else lagBytes.set({ replica: replica.name }, replica.lagBytes);
    }
  };
}
