// The HTTP requests: how long each took, by operation and status class, and how many are in flight. The
// operation is the route's name (the OpenAPI operationId) or its template, never the path a client sent: a
// path no route matches is `none`, so no request can add a series.
import type { Context, Middleware } from 'koa';
import { Gauge, Histogram, type Registry } from 'prom-client';

/** From a cache hit (~1 ms) to the longest question the server lets run (10 s). */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** What @koa/router leaves on the context of a request it routed. */
type Routed = Context & { _matchedRouteName?: string; _matchedRoute?: string | RegExp };

function operationOf(ctx: Routed): string {
  return ctx._matchedRouteName ?? (typeof ctx._matchedRoute === 'string' ? ctx._matchedRoute : 'none');
}

export function httpMetrics(registry: Registry): Middleware {
  const duration = new Histogram({
    name: 'sales_analytics_http_request_duration_seconds',
    help: 'Time from a request to the end of its answer, a streamed body included, by operation and status class.',
    labelNames: ['operation', 'status_class'],
    buckets: BUCKETS,
    registers: [registry],
  });
  const inFlight = new Gauge({
    name: 'sales_analytics_http_requests_in_flight',
    help: 'Requests being answered.',
    registers: [registry],
  });
  return async (ctx, next) => {
    const stop = duration.startTimer();
    inFlight.inc();
    // Observed once the answer is made and the response has closed, whichever comes last: its body sent whole
    // (Koa streams a CSV export after the middleware has returned), or the client gone while it was made.
    let waitingFor = 2;
    const observe = () => {
      if (--waitingFor > 0) return;
      inFlight.dec();
      stop({ operation: operationOf(ctx), status_class: `${Math.trunc(ctx.status / 100)}xx` });
    };
    ctx.res.once('close', observe);
    try {
      await next();
    } finally {
      observe();
    }
  };
}
