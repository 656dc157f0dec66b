// What a load counts (semantics.md, "Counts of a load"): every row read is rejected, a duplicate, or one of the
// distinct line keys, each inserted, updated or unchanged against what the database held; a replace also
// counts the stored lines that the file no longer has.

export type LoadMode = 'append' | 'replace';

export interface LoadCounts {
  /** Data rows read (blank lines excluded) = rejected + duplicates + inserted + updated + unchanged. */
  read: number;
  inserted: number;
  updated: number;
  unchanged: number;
  duplicates: number;
  rejected: number;
  /** replace only: stored order lines that the file no longer has. */
  deleted: number;
}

/** The counts of the whole file: the start's rows as the earlier load counted them, every kept line unchanged, and the rest's. */
export function withEarlier(earlier: LoadCounts, rest: LoadCounts): LoadCounts {
  return {
    read: earlier.read + rest.read,
    inserted: rest.inserted,
    updated: rest.updated,
    unchanged: earlier.inserted + earlier.updated + earlier.unchanged + rest.unchanged,
    duplicates: earlier.duplicates + rest.duplicates,
    rejected: earlier.rejected + rest.rejected,
    deleted: rest.deleted,
  };
}
