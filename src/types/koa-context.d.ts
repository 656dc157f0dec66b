// What our middleware adds to every Koa context: koa-pino-logger's request logger.
import type { Logger } from 'pino';

declare module 'koa' {
  interface ExtendableContext {
    log: Logger;
  }
}
