// An API operation is declared once: its route, its parameter schema (from schemas/), its answer and its
// handler. The router mounts the declarations and the OpenAPI document is generated from the same list, so
// validation and documentation cannot drift apart.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { type Access, authorize, type Tokens } from './auth.js';
import { HttpProblem } from './problem.js';
import { type ObjectSchema, validQuery } from './validation.js';

export interface Operation {
  method: 'get' | 'post';
  /** OpenAPI form: /api/v1/refreshes/{id}. */
  path: string;
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  /** Query and path parameters, validated together (path parameters are the ones named in `path`). */
  parameters?: ObjectSchema;
  /** OpenAPI request body (documented; the handler validates it). */
  requestBody?: Record<string, unknown>;
  /** The success answer: status, JSON schema, and an example for the docs. */
  response: { status: number; description: string; schema: Record<string, unknown>; example?: unknown };
  /** Also answers text/csv. */
  csv?: boolean;
  /** Who may call it (auth.ts); checked before the request's parameters, and stated in the OpenAPI document. */
  access: Access;
  /** Other answers worth documenting (400, 404, 409...). */
  errors?: Record<number, string>;
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
