// The refresh endpoints: start a run (a file in DATA_DIR, or the CSV as the body), follow it, read its rejects.
import fs from 'node:fs/promises';
import path from 'node:path';
import { bodyParser } from '@koa/bodyparser';
import type { Context } from 'koa';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import {
  listRunsParameters,
  refreshRequestBody,
  refreshRun,
  rejectList,
  rejectsParameters,
  runList,
  runParameters,
  uploadParameters,
} from '../../../schemas/refreshes.js';
import type { Config } from '../../config.js';
import { activeRefresh, claimRefresh } from '../../refresh/claim.js';
import { getRun, listRejects, listRuns, type RefreshRun, rejectsOf } from '../../refresh/runs.js';
import type { RefreshScheduler } from '../../refresh/scheduler.js';
import { resolveSource, SourcePathError } from '../../refresh/source-path.js';
import { representation, sendCsv } from '../csv.js';
import type { Operation } from '../operation.js';
import { HttpProblem, invalidParams } from '../problem.js';
import { saveUpload } from '../upload.js';
import { check } from '../validation.js';

export interface RefreshRoutesContext {
  pool: Pool;
  logger: Logger;
  config: Config;
  scheduler: RefreshScheduler;
}

type Mode = 'append' | 'replace';
type UploadQuery = { mode?: Mode; force?: boolean };
type RequestedRefresh = { source: string; file: string; mode: Mode; force: boolean; upload: boolean };
const runPath = (id: number) => `/api/v1/refreshes/${id}`;
const JSON_BODY_LIMIT_BYTES = 64 * 1024;
const jsonBody = bodyParser({ enableTypes: ['json'], jsonLimit: JSON_BODY_LIMIT_BYTES, encoding: 'utf-8' });

function conflict(active: RefreshRun | undefined): HttpProblem {
  return new HttpProblem(
    409,
    active ? `refresh ${active.id} is ${active.status}; try again when it has finished` : 'another refresh is running',
    active ? { activeRun: active } : {},
    active ? { Location: runPath(active.id) } : {},
  );
}

export function refreshOperations({ pool, logger, config, scheduler }: RefreshRoutesContext): Operation[] {
  async function requested(ctx: Context, query: UploadQuery): Promise<RequestedRefresh> {
    if (ctx.is('text/csv')) {
      const active = await activeRefresh(pool);
      if (active) throw conflict(active);
      const source = await saveUpload(ctx, config.dataDir, config.refresh.maxUploadBytes);
      const file = path.join(config.dataDir, source);
      return { source, file, mode: query.mode ?? config.refresh.mode, force: !!query.force, upload: true };
    }
    if (ctx.request.length && !ctx.is('application/json')) {
      throw new HttpProblem(415, 'send JSON ({ "source", "mode", "force" }) or the CSV itself as text/csv');
    }
    await jsonBody(ctx, async () => {}).catch((error: Error & { status?: number }) => {
      if (error.status === 413) {
        // The body parser stopped reading at the limit; the rest is not read either.
        throw new HttpProblem(413, `the JSON body is larger than ${JSON_BODY_LIMIT_BYTES} bytes`, {}, { Connection: 'close' });
      }
      throw new HttpProblem(400, `the body is not valid JSON: ${error.message}`);
    });
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    if (typeof body !== 'object' || Array.isArray(body) || body === null)
      throw new HttpProblem(400, 'the body must be a JSON object');
    const errors = check(refreshRequestBody, body);
    if (errors.length > 0) throw invalidParams(errors);
    const name = (body.source as string | undefined) ?? config.refresh.source;
    try {
      const { file, source } = await resolveSource(config.dataDir, name);
      const mode = (body.mode as Mode | undefined) ?? query.mode ?? config.refresh.mode;
      return { source, file, mode, force: ((body.force as boolean | undefined) ?? query.force) === true, upload: false };
    } catch (error) {
      if (error instanceof SourcePathError) throw invalidParams([{ name: 'source', reason: error.message }]);
      throw error;
    }
  }

  async function startRefresh(ctx: Context, query: UploadQuery): Promise<void> {
    const request = await requested(ctx, query);
    const outcome = await claimRefresh(pool, logger, {
      trigger: 'api',
      mode: request.mode,
      source: request.source,
      status: 'queued',
    });
    if ('busy' in outcome) {
      if (request.upload) await fs.rm(request.file, { force: true });
      throw conflict(outcome.busy);
    }
    const { run } = outcome.claim;
    scheduler
      .runClaimed(outcome.claim, {
        file: request.file,
        source: request.source,
        mode: request.mode,
        trigger: 'api',
        skipUnchanged: !request.force,
      })
      .finally(() => (request.upload ? fs.rm(request.file, { force: true }) : undefined))
      .catch((error) => logger.error({ err: error, runId: run.id }, 'refresh run failed'));
    ctx.status = 202;
    ctx.set('Location', runPath(run.id));
    ctx.body = run;
  }

  return [
    {
      method: 'post',
      path: '/api/v1/refreshes',
      operationId: 'startRefresh',
      tag: 'refreshes',
      summary: 'Start a refresh',
      description:
        'Loads a file from DATA_DIR (JSON body) or the CSV sent as the body (Content-Type: text/csv; mode and force then go in the query string) in a worker thread. Answers at once with the queued run; poll its Location.',
      access: 'operator',
      parameters: uploadParameters,
      requestBody: {
        content: {
          'application/json': { schema: refreshRequestBody, example: { source: 'sales.csv', mode: 'append' } },
          'text/csv': { schema: { type: 'string' } },
        },
      },
      response: {
        status: 202,
        description: 'The run, queued.',
        headers: ['Location'],
        schema: refreshRun,
        example: {
          id: 7,
          status: 'queued',
          trigger: 'api',
          mode: 'append',
          source: 'sales.csv',
          sourceSha256: null,
          startedAt: null,
          finishedAt: null,
          durationMs: null,
          progress: { bytesRead: 0, bytesTotal: null, rowsRead: 0 },
          counts: null,
          error: null,
        },
      },
      errors: {
        400: 'Bad source (outside DATA_DIR, missing), mode or body.',
        409: { description: 'Another refresh is running: activeRun, and its Location.', headers: ['Location'] },
        413: 'A CSV body larger than MAX_UPLOAD_BYTES, or a JSON body over 64 KB.',
        415: 'A body that is neither JSON nor CSV (text/csv).',
      },
      handler: startRefresh,
    },
    {
      method: 'get',
      path: '/api/v1/refreshes',
      operationId: 'listRefreshes',
      tag: 'refreshes',
      summary: 'Run history, newest first',
      description:
        'Every refresh run, whatever started it (the schedule, this API, the CLI, the start-up seed), newest first: status, trigger, mode, source, checksum, times, progress, counts and error.',
      access: 'reader',
      parameters: listRunsParameters,
      response: { status: 200, description: 'A page of runs.', schema: runList },
      handler: async (ctx, params: { limit: number; offset: number }) => {
        const { items, total } = await listRuns(pool, params);
        ctx.body = { items, limit: params.limit, offset: params.offset, total };
      },
    },
    {
      method: 'get',
      path: '/api/v1/refreshes/{id}',
      operationId: 'getRefresh',
      tag: 'refreshes',
      summary: 'One run, with its progress while it runs',
      description:
        'One run: while it runs, its phase, step and the bytes and rows read so far; once finished, its counts (what became of each line) or its error. Poll it after POST /api/v1/refreshes.',
      access: 'reader',
      parameters: runParameters,
      response: { status: 200, description: 'The run.', schema: refreshRun },
      errors: { 404: 'No such run.' },
      handler: async (ctx, params: { id: number }) => {
        const run = await getRun(pool, params.id);
        if (!run) throw new HttpProblem(404, `no refresh run ${params.id}`);
        ctx.body = run;
      },
    },
    {
      method: 'get',
      path: '/api/v1/refreshes/{id}/rejects',
      operationId: 'listRefreshRejects',
      tag: 'refreshes',
      summary: "A run's rejected rows: line, reasons, raw text",
      access: 'operator',
      description:
        'The rows as they were in the file: customer data, so REFRESH_TOKEN only. As CSV (Accept: text/csv or format=csv) every reject is listed unless limit or offset is given.',
      parameters: rejectsParameters,
      csv: true,
      response: { status: 200, description: 'A page of rejected rows.', schema: rejectList },
      errors: { 404: 'No such run.' },
      handler: async (ctx, params: { id: number; limit: number; offset: number; format?: 'json' | 'csv' }) => {
        const as = representation(ctx, params.format);
        if (!(await getRun(pool, params.id))) throw new HttpProblem(404, `no refresh run ${params.id}`);
        if (as === 'csv') {
          const paged = /(^|&)(limit|offset)=/.test(ctx.querystring);
          sendCsv(
            ctx,
            ['line', 'reasons', 'raw'],
            rejectsOf(pool, params.id, paged ? params : undefined),
            `run-${params.id}-rejects.csv`,
          );
          return;
        }
        const { items, total } = await listRejects(pool, params.id, params);
        ctx.body = { runId: params.id, items, limit: params.limit, offset: params.offset, total };
      },
    },
  ];
}
