// The Koa application: health endpoints now; the versioned API mounts here.
import Router from '@koa/router';
import Koa from 'koa';
import type { Pool } from 'pg';
import type { Logger } from 'pino';

export interface AppContext {
  pool: Pool;
  logger: Logger;
}

export function createApp({ pool, logger }: AppContext): Koa {
  const app = new Koa();
  const router = new Router();

  // Liveness: the process answers.
  router.get('/health', (ctx) => {
    ctx.body = { status: 'ok' };
  });

  // Readiness: the database answers and its schema is migrated.
  router.get('/ready', async (ctx) => {
    try {
      const { rows } = await pool.query('SELECT version FROM data_version');
      ctx.body = { status: 'ready', dataVersion: Number(rows[0].version) };
    } catch (error) {
      logger.warn({ err: error }, 'readiness check failed');
      ctx.status = 503;
      ctx.body = { status: 'unavailable' };
    }
  });

  app.use(router.routes()).use(router.allowedMethods());
  return app;
}
