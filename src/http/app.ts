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
import { pendingMigrations } from '../db/migrate.js';
import { dataVersion, type ReadRouter } from '../db/read-pool.js';
import type { RefreshScheduler } from '../refresh/scheduler.js';
import type { SnapshotStore } from '../snapshot/store.js';
import { mountDashboard } from './dashboard.js';
import { mountDocs } from './docs.js';
import { hostCheck } from './host-check.js';
import { openApiDocument } from './openapi.js';
import { mount, type Operation } from './operation.js';
import { problems } from './problem.js';
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

export function apiOperations(context: AppContext): Operation[] {
  return [
    ...analyticsOperations({ snapshots: context.snapshots, cache: context.config.analyticsCache }),
    ...refreshOperations(context),
  ];
}

export function createApp(context: AppContext): Koa {
  const { pool, reads, logger, config } = context;
  const app = new Koa();
  app.proxy = false;
  // What fails after the answer has started (a client gone, a request past its timeout, a CSV stream that
  // broke) goes to the log, not to Koa's default of stderr; problems() answers everything before that.
  app.on('error', (error: NodeJS.ErrnoException, ctx?: { log?: Logger }) => {
    const theClient = ['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_HTTP_REQUEST_TIMEOUT'].includes(error.code ?? '');
    (ctx?.log ?? logger)[theClient ? 'warn' : 'error']({ err: error }, 'the connection failed while answering');
  });
  const router = new Router();
  const operations = apiOperations(context);
  const tokens = { refresh: context.refreshToken, api: config.apiToken };
  const openApi = openApiDocument(operations, { version: context.version ?? '0.0.0', apiTokenSet: tokens.api !== undefined });

  router.get('/health', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  // Readiness: the database answers, holds every migration this build ships, and an analytics snapshot answers
  // (a server that starts builds the one it lacks first). dataVersion is the snapshot's, the version every
  // answer speaks of; recordVersion the primary's (at least that of every refresh that has succeeded), ahead
  // of it only while a refresh publishes or when a build failed. With replicas, each one's state and lag. A
  // replica down does not make the service unready: the primary answers in its place.
  router.get('/ready', async (ctx) => {
    try {
      const pending = await pendingMigrations(pool);
      const recordVersion = await dataVersion(pool);
      reads.saw(recordVersion);
      const snapshot = await context.snapshots.readiness();
      ctx.status = pending.length === 0 && 'version' in snapshot ? 200 : 503;
      if (pending.length > 0) {
        ctx.body = { status: 'unavailable', reason: 'migrations not applied', pendingMigrations: pending };
      } else if ('reason' in snapshot) {
        ctx.body = { status: 'unavailable', reason: snapshot.reason, recordVersion };
      } else {
        ctx.body = {
          status: 'ready',
          dataVersion: snapshot.version,
          recordVersion,
          ...(reads.replicas.length > 0 && { replicas: await reads.status() }),
        };
      }
    } catch (error) {
      ctx.log.warn({ err: error }, 'readiness check failed');
      ctx.status = 503;
      ctx.body = { status: 'unavailable', reason: 'the database does not answer' };
    }
  });
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
