// The refresh endpoints: what a run looks like, what starts one, how its history and rejects are paged.
import { formatParameter, page, pageParameters } from './common.js';

const counts = {
  type: ['object', 'null'],
  description: 'read = rejected + duplicates + inserted + updated + unchanged; deleted: replace only.',
  properties: {
    read: { type: 'integer' },
    inserted: { type: 'integer' },
    updated: { type: 'integer' },
    unchanged: { type: 'integer' },
    duplicates: { type: 'integer' },
    rejected: { type: 'integer' },
    deleted: { type: 'integer' },
  },
} as const;

export const refreshRun = {
  type: 'object',
  required: ['id', 'status', 'trigger', 'mode', 'source', 'progress', 'counts', 'error'],
  properties: {
    id: { type: 'integer' },
    status: { type: 'string', enum: ['queued', 'running', 'succeeded', 'failed', 'skipped'] },
    trigger: { type: 'string', enum: ['schedule', 'api', 'cli', 'startup'] },
    mode: { type: 'string', enum: ['append', 'replace'] },
    source: { type: 'string', description: 'The file, relative to DATA_DIR (uploads under uploads/).' },
    sourceSha256: { type: ['string', 'null'] },
    startedAt: { type: ['string', 'null'], format: 'date-time' },
    finishedAt: { type: ['string', 'null'], format: 'date-time' },
    durationMs: { type: ['integer', 'null'] },
    progress: {
      type: 'object',
      properties: {
        bytesRead: { type: 'integer' },
        bytesTotal: { type: ['integer', 'null'] },
        rowsRead: { type: 'integer' },
      },
    },
    phase: {
      type: ['string', 'null'],
      enum: ['preparing', 'reading', 'applying', null],
      description: 'While running: preparing, reading the file, or applying it (until the commit); null otherwise.',
    },
    step: { type: ['string', 'null'], description: "While running: the load's current step, e.g. 'upsert orders'." },
    counts,
    error: { type: ['string', 'null'], description: 'Why the run failed or was skipped.' },
  },
} as const;

export const refreshRequestBody = {
  type: 'object',
  properties: {
    source: { type: 'string', description: 'A file inside DATA_DIR (default: REFRESH_SOURCE).', example: 'sales.csv' },
    mode: { type: 'string', enum: ['append', 'replace'], description: 'Default: REFRESH_MODE.' },
    force: { type: 'boolean', description: 'Load even when the source is identical to the last loaded one.' },
  },
} as const;

/** With a CSV body, the mode and force flag travel in the query string. */
export const uploadParameters = {
  type: 'object',
  properties: { mode: refreshRequestBody.properties.mode, force: refreshRequestBody.properties.force },
} as const;

export const runIdParameter = {
  id: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'The run id.' },
} as const;

export const listRunsParameters = { type: 'object', properties: { ...pageParameters } } as const;

export const runParameters = { type: 'object', properties: { ...runIdParameter } } as const;

export const rejectsParameters = {
  type: 'object',
  properties: {
    ...runIdParameter,
    ...pageParameters,
    ...formatParameter,
  },
} as const;

export const runList = {
  type: 'object',
  properties: { items: { type: 'array', items: refreshRun }, ...page },
} as const;

export const rejectList = {
  type: 'object',
  properties: {
    runId: { type: 'integer' },
    items: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          line: { type: 'integer', description: 'Physical line in the file; the header is line 1.' },
          reasons: { type: 'array', items: { type: 'string' } },
          raw: { type: 'string', description: 'The row as it was in the file.' },
        },
      },
    },
    ...page,
  },
} as const;
