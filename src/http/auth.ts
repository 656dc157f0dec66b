// Bearer-token check for the endpoints that change data. The comparison takes the same time whatever the
// token sent (both sides hashed to equal length, then timingSafeEqual).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import { HttpProblem } from './problem.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

export function requireBearer(ctx: Context, expected: string): void {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(ctx.get('Authorization'));
  if (!match || !timingSafeEqual(digest(match[1]), digest(expected))) {
    throw new HttpProblem(
      401,
      match ? 'the bearer token is wrong' : 'this endpoint needs Authorization: Bearer <REFRESH_TOKEN>',
      {},
      { 'WWW-Authenticate': 'Bearer realm="sales-analytics"' },
    );
  }
}
