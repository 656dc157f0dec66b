// Whose snapshots a directory holds: the key of one database, the same on its replicas (physical copies),
// different for another database of the cluster, for a database dropped and created again, and for another
// cluster. The snapshots of one database go to ANALYTICS_DIR/<key>/, so that a directory shared by the
// servers and loads of several databases never answers one with another's data.
import type { Queryable } from '../analytics/queryable.js';

/** The cluster's system identifier and the database's oid (both readable by any role). */
const DATABASE_KEY = `
SELECT (SELECT system_identifier FROM pg_control_system())::text || '-' ||
       (SELECT oid FROM pg_database WHERE datname = current_database())::text AS key`;

export async function databaseKey(db: Queryable): Promise<string> {
  return (await db.query<{ key: string }>(DATABASE_KEY)).rows[0].key;
}
