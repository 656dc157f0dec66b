// koa-pino-logger ships no types: it wraps pino-http and puts the request's child logger on ctx.log.
declare module 'koa-pino-logger' {
  import type { Middleware } from 'koa';
  import type { Options } from 'pino-http';

  function koaPinoLogger(options?: Options): Middleware;
  export default koaPinoLogger;
}
