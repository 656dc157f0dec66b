// The load that made the current version, as the next load finds it (data_version.source): the file it read,
// the day it read it on and its counts. A daily export of the whole history is yesterday's file with a day
// added at its end: a file that begins with the earlier file's bytes is read from where that file ended
// (source.ts), and its start counts as what the earlier load made of it, every kept line unchanged.
//
// The rest's rows are judged exactly as a whole read would judge them when none of its orders is stored:
// - its rows of orders of the start would be judged against the start's rows (a conflict with an order's first
//   row, a repeated line key), which were not read. Every order of the start with a valid row is stored, so
//   a rest whose orders are all new has none; otherwise the file is read again from its first byte;
// - the start's rows are judged as they were unless a reason depended on what followed or on the day:
//   an unterminated quote reads on into the next lines, and "after the day of the load" changes with the day.
//   An earlier load with such rejects is not taken as the start.

import type { EarlierFile } from '../1-bytes/file.js';
import { UNTERMINATED_QUOTE } from '../2-records/csv-records.js';
import type { LoadCounts, LoadMode } from '../3-rows/counts.js';
import { AFTER_THE_LOAD_DAY } from '../3-rows/validate-line.js';
import type { Statement } from '../steps.js';

/** What a version was loaded from: data_version.source. */
export interface VersionSource extends EarlierFile {
  /** The day of the load (YYYY-MM-DD), for the "not in the future" rule. */
  day: string;
  /** The load's counts, of the whole file. */
  counts: LoadCounts;
  /** Whether the record held exactly the file's rows after it (a replace, or a load into an empty database). */
  whole: boolean;
}

export interface EarlierLoad {
  runId: number;
  source: VersionSource;
}

const EARLIER_LOAD = `
SELECT run_id, source,
       EXISTS (SELECT FROM refresh_rejects r, unnest(r.reasons) AS reason
               WHERE r.run_id = v.run_id AND (reason = $2 OR (source->>'day' <> $1 AND starts_with(reason, $3)))) AS rejects_may_differ,
       (SELECT count(*) FROM refresh_rejects r WHERE r.run_id = v.run_id)::integer AS rejects
FROM data_version v`;

/**
 * The earlier load whose file a `mode` load on `today` may find at its start: any for an append, one that left
 * the record holding only its file for a replace (the rest is then all that the replace adds).
 */
export async function earlierLoad(exec: Statement, mode: LoadMode, today: string): Promise<EarlierLoad | undefined> {
  const { rows } = await exec('read the earlier load', EARLIER_LOAD, [today, UNTERMINATED_QUOTE, AFTER_THE_LOAD_DAY]);
  const { run_id: runId, source, rejects_may_differ: rejectsMayDiffer, rejects } = rows[0];
  if (source === null || runId === null || rejectsMayDiffer) return undefined;
  // Its rejects are copied as the start's: all of them must still be there (a run deleted by hand takes its own).
  if (rejects !== (source as VersionSource).counts.rejected) return undefined;
  if (mode === 'replace' && !(source as VersionSource).whole) return undefined;
  return { runId: Number(runId), source };
}

/** Whether an order of the rows read (the rest of a file whose start was recognised) is stored. */
export const REST_ORDERS_STORED = `SELECT EXISTS (SELECT FROM stage_orders s JOIN orders o ON o.code = s.code) AS stored`;

/** The rejects of the recognised start are the earlier load's: $1 this run, $2 the earlier one. */
export const COPY_EARLIER_REJECTS = `
INSERT INTO refresh_rejects (run_id, line, reasons, raw) SELECT $1, line, reasons, raw FROM refresh_rejects WHERE run_id = $2`;
