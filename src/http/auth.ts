// Who may call an operation, decided from its declared access and the configured tokens: the router checks
// it before anything else of the request is looked at, and the OpenAPI document states the same. Bearer
// tokens are compared in the same time whatever is sent (both sides hashed to equal length, then
// timingSafeEqual).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import { HttpProblem } from './problem.js';

/**
 * 'reader': anyone; with API_TOKEN set, a bearer of API_TOKEN or REFRESH_TOKEN.
 * 'operator': a bearer of REFRESH_TOKEN only (the operation changes data or shows customer data).
 */
export type Access = 'reader' | 'operator';

export interface Tokens {
  refresh: string;
  api: string | undefined;
}

export type TokenName = 'API_TOKEN' | 'REFRESH_TOKEN';

/** The tokens that open an operation; none: it is open to anyone. */
export function acceptedTokens(access: Access, apiTokenSet: boolean): TokenName[] {
  if (access === 'operator') return ['REFRESH_TOKEN'];
  return apiTokenSet ? ['API_TOKEN', 'REFRESH_TOKEN'] : [];
}

const digest = (value: string) => createHash('sha256').update(value).digest();

export function authorize(ctx: Context, access: Access, tokens: Tokens): void {
  const accepted = acceptedTokens(access, tokens.api !== undefined);
  const values = { API_TOKEN: tokens.api, REFRESH_TOKEN: tokens.refresh };
  requireBearer(ctx, Object.fromEntries(accepted.map((name) => [name, values[name] as string])));
}

/** The request bears one of `accepted` (by name: API_TOKEN, METRICS_TOKEN...), or is answered 401; none: open. */
export function requireBearer(ctx: Context, accepted: Record<string, string>): void {
  const names = Object.keys(accepted);
  if (names.length === 0) return;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(ctx.get('Authorization'));
  // Every accepted token is compared, so the time taken does not tell which one was close.
  const matches = names.map((name) => !!match && timingSafeEqual(digest(match[1]), digest(accepted[name])));
  if (matches.includes(true)) return;
  const wrong = names.length > 1 ? `neither ${names.join(' nor ')}` : `not ${names[0]}`;
  throw new HttpProblem(
    401,
    match ? `the bearer token is ${wrong}` : `this endpoint needs Authorization: Bearer <${names.join(' or ')}>`,
    {},
    { 'WWW-Authenticate': 'Bearer realm="sales-analytics"' },
  );
}
