// DNS rebinding: a page on another site can point its own name at 127.0.0.1 and read a service listening
// there, but its requests still carry that name in Host. Bound to a loopback address, the service answers
// only the loopback names (and ALLOWED_HOSTS); bound elsewhere, only ALLOWED_HOSTS when it is set.
import { isIP } from 'node:net';
import type { Context, Next } from 'koa';
import { HOST_AND_PORT } from '../config.js';
import { HttpProblem } from './problem.js';

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

export function isLoopback(host: string): boolean {
  const address = host.replace(/^\[|\]$/g, '');
  if (address === 'localhost' || address === '::1') return true;
  const v4 = address.replace(/^::ffff:/i, '');
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/** An entry with a port matches that port only; without one, any port. */
function matches(entry: string, name: string, port: string | undefined): boolean {
  const [, entryName, entryPort] = HOST_AND_PORT.exec(entry) ?? [];
  return entryName?.toLowerCase() === name && (entryPort === undefined || entryPort === port);
}

export function hostCheck(http: { host: string; allowedHosts: readonly string[] }) {
  const loopback = isLoopback(http.host);
  return async (ctx: Context, next: Next) => {
    if (loopback || http.allowedHosts.length > 0) {
      const header = ctx.get('Host');
      const [, name, port] = HOST_AND_PORT.exec(header) ?? [];
      const localPort = String(ctx.req.socket.localPort);
      const allowed =
        name !== undefined &&
        ((loopback &&
          LOOPBACK_NAMES.includes(name.toLowerCase()) &&
          (port === localPort || (port === undefined && localPort === '80'))) ||
          http.allowedHosts.some((entry) => matches(entry, name.toLowerCase(), port)));
      if (!allowed) {
        throw new HttpProblem(
          421,
          `this service does not answer for the host '${header}'${loopback ? ' (it listens on loopback: use 127.0.0.1, localhost or [::1] with its port)' : ''}; ALLOWED_HOSTS lists other names`,
        );
      }
    }
    await next();
  };
}
