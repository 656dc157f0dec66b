// Errors as RFC 9457 problem details. Handlers throw HttpProblem for the client's mistakes; anything else is
// our fault: a 500 whose body says only that, while the log has the cause under the request's id; the
// database away (restarted, unreachable): a 503 with Retry-After.

import { STATUS_CODES } from 'node:http';
import type { Context, Next } from 'koa';
import { QueryError } from '../analytics/range.js';
import { isDatabaseUnavailable } from '../db/pool.js';
import { NoSnapshotError } from '../snapshot/store.js';

export interface InvalidParam {
  name: string;
  reason: string;
}

export const PROBLEM_TYPE = 'application/problem+json';

export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }
}

export function invalidParams(params: InvalidParam[]): HttpProblem {
  return new HttpProblem(
    400,
    params.length === 1 ? `${params[0].name}: ${params[0].reason}` : `${params.length} parameters are invalid`,
    { type: '/problems/invalid-parameters', title: 'Invalid parameters', 'invalid-params': params },
  );
}

/** An answer's validators, which an error must not carry (a client would keep the error as the answer). */
const VALIDATORS = ['ETag', 'Data-Version', 'Cache-Control'];

function send(ctx: Context, status: number, detail: string, extra: Record<string, unknown> = {}): void {
  for (const header of VALIDATORS) ctx.remove(header);
  ctx.status = status;
  ctx.type = PROBLEM_TYPE;
  ctx.body = { type: 'about:blank', title: STATUS_CODES[status] ?? 'Error', status, detail, instance: ctx.path, ...extra };
}

/** Koa's own errors (a body too large or malformed, say) carry a status and a message safe to show. */
function isExposedHttpError(error: unknown): error is { status: number; message: string; headers?: Record<string, string> } {
  const candidate = error as { status?: unknown; expose?: unknown };
  return typeof candidate?.status === 'number' && candidate.status >= 400 && candidate.status < 500 && candidate.expose === true;
}

/** Statuses that Koa or the router set without a body. */
const EMPTY_ERRORS: Record<number, (ctx: Context) => string> = {
  404: (ctx) => `no resource at ${ctx.path}`,
  405: (ctx) => `${ctx.path} does not support ${ctx.method} (allowed: ${ctx.response.get('Allow')})`,
  501: (ctx) => `${ctx.method} is not supported`,
};

export function problems() {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
      if (ctx.body == null && EMPTY_ERRORS[ctx.status]) send(ctx, ctx.status, EMPTY_ERRORS[ctx.status](ctx));
    } catch (error) {
      if (error instanceof HttpProblem) {
        ctx.set(error.headers);
        send(ctx, error.status, error.detail, error.extra);
      } else if (error instanceof QueryError) {
        const problem = invalidParams([{ name: error.parameter, reason: error.reason }]);
        send(ctx, problem.status, problem.detail, problem.extra);
      } else if (isExposedHttpError(error)) {
        if (error.headers) ctx.set(error.headers);
        send(ctx, error.status, error.message);
      } else if (error instanceof NoSnapshotError) {
        ctx.set('Retry-After', '5');
        send(ctx, 503, 'the analytics are being built; try again in a few seconds');
      } else if (isDatabaseUnavailable(error)) {
        ctx.log?.warn({ err: error }, 'the database is unavailable');
        ctx.set('Retry-After', '5');
        send(ctx, 503, 'the database is not answering; try again in a few seconds');
      } else {
        ctx.log?.error({ err: error }, 'request failed');
        send(ctx, 500, 'the server failed to answer this request; the log has the details under this request id', {
          requestId: ctx.state.requestId,
        });
      }
    }
  };
}
