// The HTTP server the app runs in, with every limit explicit rather than Node's defaults: how long a client
// may take to send its headers and its whole request, how long an idle keep-alive connection stays open,
// and how many connections are served at once (more are closed on arrival).
import { createServer, type Server } from 'node:http';
import type Koa from 'koa';
import type { Config } from '../config.js';

const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** How often Node looks for requests past their timeouts (its default, 30 s, would let a 1 s limit last 31 s). */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

export function httpServer(app: Koa, http: Config['http']): Server {
  const server = createServer(
    {
      headersTimeout: http.headersTimeoutMs,
      requestTimeout: http.requestTimeoutMs,
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
      connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
    },
    app.callback(),
  );
  server.maxConnections = http.maxConnections;
  return server;
}
