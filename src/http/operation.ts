// An API operation is declared once: its route, its parameter schema (from schemas/), its answer and its
// handler. The router mounts the declarations and the OpenAPI document is generated from the same list, so
// validation and documentation cannot drift apart.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { type Access, authorize, type Tokens } from './auth.js';
import { HttpProblem } from './problem.js';
import { type ObjectSchema, validQuery } from './validation.js';

/** The operations' groups, in the order the docs list them. */
export const TAGS = {
  revenue: 'Revenue over a range of days: totals, by product, category and region, and over time.',
  products: 'Product rankings and profit margins.',
  customers: 'Customers: summary, lifetime value and RFM segments.',
  refreshes: 'Loads of the sales record: start one, follow it, read its rejected rows.',
} as const;

/** Response headers the document declares (openapi.ts), besides X-Request-Id, which every answer carries. */
export type HeaderName = 'ETag' | 'Data-Version' | 'Cache-Control' | 'Location' | 'Content-Disposition' | 'Vary';

/** An answer worth documenting besides the success: what it means, and the headers it carries. */
export type OtherAnswer = string | { description: string; headers: HeaderName[] };

export interface Operation {
  method: 'get' | 'post';
  /** OpenAPI form: /api/v1/refreshes/{id}. */
  path: string;
  operationId: string;
  tag: keyof typeof TAGS;
  summary: string;
  description?: string;
  /** Query and path parameters, validated together (path parameters are the ones named in `path`). */
  parameters?: ObjectSchema;
  /** OpenAPI request body (documented; the handler validates it). */
  requestBody?: Record<string, unknown>;
  /** The success answer: status, JSON schema, an example for the docs, and the headers it carries. */
  response: {
    status: number;
    description: string;
    schema: Record<string, unknown>;
    example?: unknown;
    headers?: HeaderName[];
  };
  /** Also answers text/csv (with Content-Disposition and Vary: Accept). */
  csv?: boolean;
  /** Answers 304 to an If-None-Match that matches the answer it would give (the answer's validators with it). */
  conditional?: boolean;
  /** Who may call it (auth.ts); checked before the request's parameters, and stated in the OpenAPI document. */
  access: Access;
  /** Its own other answers (404, 409...); those every operation may give are added by openapi.ts. */
  errors?: Record<number, OtherAnswer>;
  // biome-ignore lint/suspicious/noExplicitAny: each handler declares the parameter type its schema yields
  handler: (ctx: Context, params: any) => unknown;
}

export function pathParameterNames(path: string): string[] {
  return [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]);
}

const NO_PARAMETERS: ObjectSchema = { type: 'object', properties: {} };

export function mount(router: Router, operations: Operation[], tokens: Tokens): void {
  for (const operation of operations) {
    const koaPath = operation.path.replace(/\{(\w+)\}/g, ':$1');
    router[operation.method](operation.operationId, koaPath, async (ctx) => {
      // First: a caller without the token learns nothing of the operation, not even which parameters are wrong.
      authorize(ctx, operation.access, tokens);
      // CSV-capable operations negotiate in their handler; the others answer JSON or nothing.
      if (!operation.csv && !ctx.accepts('application/json')) {
        throw new HttpProblem(406, 'this resource is available as application/json only');
      }
      const params = validQuery(ctx, operation.parameters ?? NO_PARAMETERS, ctx.params);
      await operation.handler(ctx, params);
    });
  }
}
