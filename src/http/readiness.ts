// Whether the service answers: the database answers, holds every migration this build ships, and an analytics
// snapshot answers (a server that starts builds the one it lacks first). GET /ready says it to load balancers,
// the metrics to Prometheus; both ask here.
import type { Logger } from 'pino';
import { pendingMigrations } from '../db/migrate.js';
import type { ReadRouter, ReplicaStatus } from '../db/read-pool.js';
import type { SnapshotStore } from '../snapshot/store.js';

/** The reason given when the database does not answer (the metrics' postgres_up says 0). */
export const DATABASE_AWAY = 'the database does not answer';

export type Readiness =
  | {
      status: 'ready';
      /** The snapshot's version, the one every answer speaks of. */
      dataVersion: number;
      /**
       * The primary's (at least that of every refresh that has succeeded): ahead of dataVersion only while a
       * refresh publishes or when a build failed.
       */
      recordVersion: number;
      /** Each replica's state and lag; a replica down does not make the service unready (the primary answers). */
      replicas?: ReplicaStatus[];
    }
  | { status: 'unavailable'; reason: string; pendingMigrations?: string[]; recordVersion?: number };

export async function readiness(sources: { reads: ReadRouter; snapshots: SnapshotStore }, log: Logger): Promise<Readiness> {
  const { reads, snapshots } = sources;
  try {
    // On the primary's probe pool: bounded, and not waiting behind the requests' work on the primary's pool.
    const pending = await pendingMigrations(reads.primary.probe);
    if (pending.length > 0) return { status: 'unavailable', reason: 'migrations not applied', pendingMigrations: pending };
    const recordVersion = await reads.primary.version();
    reads.saw(recordVersion);
    const snapshot = await snapshots.readiness();
    if ('reason' in snapshot) return { status: 'unavailable', reason: snapshot.reason, recordVersion };
    return {
      status: 'ready',
      dataVersion: snapshot.version,
      recordVersion,
      ...(reads.replicas.length > 0 && { replicas: await reads.status() }),
    };
  } catch (error) {
    log.warn({ err: error }, 'readiness check failed');
    return { status: 'unavailable', reason: DATABASE_AWAY };
  }
}
