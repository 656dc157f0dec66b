// The Koa application: request ids and access logs, problem-details errors, security headers, CORS, then
// the declared API operations, the OpenAPI document and its docs, the dashboard at /, and the health endpoints.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import cors from '@koa/cors';
import Router from '@koa/router';
import Koa from 'koa';
import helmet from 'koa-helmet';
import koaPinoLogger from 'koa-pino-logger';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { ReadRouter } from '../db/read-pool.js';
import { createMetrics } from '../metrics/registry.js';
import type { RefreshScheduler } from '../refresh/scheduler.js';
import type { SnapshotStore } from '../snapshot/store.js';
import { AnswerCache } from './answers.js';
import { requireBearer } from './auth.js';
import { mountDashboard } from './dashboard.js';
import { mountDocs } from './docs.js';
import { hostCheck } from './host-check.js';
import { openApiDocument } from './openapi.js';
import { mount, type Operation } from './operation.js';
import { problems } from './problem.js';
import { readiness } from './readiness.js';
import { analyticsOperations } from './routes/analytics.js';
import { refreshOperations } from './routes/refreshes.js';

export interface AppContext {
  pool: Pool;
  /** Where analytics answers are read from: DATABASE_READ_URLS's replicas, then the primary (`pool`). */
  reads: ReadRouter;
  /** The published analytics snapshots every analytics answer is read from. */
  snapshots: SnapshotStore;
  logger: Logger;
  config: Config;
  scheduler: RefreshScheduler;
  refreshToken: string;
  version?: string;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

function requestId(req: IncomingMessage, res: ServerResponse): string {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  res.setHeader('X-Request-Id', id);
  return id;
}

export function apiOperations(context: AppContext, cache?: AnswerCache): Operation[] {
  return [...analyticsOperations({ snapshots: context.snapshots, cache }), ...refreshOperations(context)];
}

export function createApp(context: AppContext): Koa {
  const { logger, config } = context;
  const app = new Koa();
  app.proxy = false;
  // What fails after the answer has started (a client gone, a request past its timeout, a CSV stream that
  // broke) goes to the log, not to Koa's default of stderr; problems() answers everything before that.
  app.on('error', (error: NodeJS.ErrnoException, ctx?: { log?: Logger }) => {
    const theClient = ['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_HTTP_REQUEST_TIMEOUT'].includes(error.code ?? '');
    (ctx?.log ?? logger)[theClient ? 'warn' : 'error']({ err: error }, 'the connection failed while answering');
  });
  const router = new Router();
  const cache = config.analyticsCache.enabled ? new AnswerCache(config.analyticsCache.maxBytes) : undefined;
  const operations = apiOperations(context, cache);
  const metrics = config.metrics.enabled ? createMetrics({ ...context, cache }) : undefined;
  const tokens = { refresh: context.refreshToken, api: config.apiToken };
  const openApi = openApiDocument(operations, { version: context.version ?? '0.0.0', apiTokenSet: tokens.api !== undefined });

  router.get('/health', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  // Readiness (readiness.ts): with the snapshot's version, the record's, and each replica's state and lag.
  router.get('/ready', async (ctx) => {
    const state = await readiness(context, ctx.log);
    ctx.status = state.status === 'ready' ? 200 : 503;
    ctx.body = state;
  });
  // Prometheus (docs/operations.md): open like /health, or to METRICS_TOKEN's bearer alone when it is set.
  if (metrics) {
    router.get('/metrics', async (ctx) => {
      requireBearer(ctx, config.metrics.token ? { METRICS_TOKEN: config.metrics.token } : {});
      ctx.set('Cache-Control', 'no-store');
      ctx.type = metrics.contentType;
      ctx.body = await metrics.scrape();
    });
  }
  router.get('/api/v1/openapi.json', (ctx) => {
    ctx.body = openApi;
  });
  mountDocs(router);
  mountDashboard(router);
  mount(router, operations, tokens);

  app.use(
    koaPinoLogger({
      logger,
      genReqId: requestId,
      // The request line and the outcome; headers stay out of the log (Authorization among them).
      serializers: {
        req: (req: { id: string; method: string; url: string; remoteAddress?: string }) => ({
          id: req.id,
          method: req.method,
          url: req.url,
          remoteAddress: req.remoteAddress,
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      // A 503 says what /ready says (a snapshot being built, the database away): a state, not a failure of the
      // request; every request during a start-up build would otherwise log an error.
      customLogLevel: (_req, res, error) =>
        error || (res.statusCode >= 500 && res.statusCode !== 503) ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
    }),
  );
  app.use(async (ctx, next) => {
    ctx.state.requestId = (ctx.req as IncomingMessage & { id?: string }).id;
    await next();
  });
  if (metrics) app.use(metrics.middleware);
  app.use(problems());
  app.use(hostCheck(config.http));
  app.use(
    helmet({
      contentSecurityPolicy: {
        // Swagger UI sets inline styles and data: images; plain-HTTP deployments must not be upgraded to HTTPS.
        directives: {
          'style-src': ["'self'", "'unsafe-inline'"],
          'img-src': ["'self'", 'data:'],
          'upgrade-insecure-requests': null,
        },
      },
    }),
  );
  if (config.corsOrigin)
    app.use(cors({ origin: config.corsOrigin, exposeHeaders: ['ETag', 'Data-Version', 'Location', 'X-Request-Id'] }));
  app.use(router.routes());
  // 405 (with Allow) and 501; problems() gives them a body.
  app.use(router.allowedMethods());
  return app;
}
