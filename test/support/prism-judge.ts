// The OpenAPI document as an outside judge (npm run test:prism): a Prism validating proxy (--errors) in front
// of a test server, the document read from the server itself, and a small front of ours before Prism. Each
// request of the HTTP tests goes to Prism, which checks it against the document and forwards it:
// - a response Prism finds the document does not describe (its `sl-violations` header) is a violation;
// - a request Prism refuses itself (its own problem types) is sent to the server directly, and the test gets
//   the server's answer: a 4xx there is agreement, anything else a violation (the document refuses what the
//   server accepts).
// Violations are kept; the pass's root hook fails the test during which one was found.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { projectRoot } from '../../src/paths.js';
import { freePort } from './ports.js';

const PRISM = path.join(projectRoot, 'node_modules/.bin/prism');
const PRISM_ERROR = 'https://stoplight.io/prism/errors#';
/** Routes outside the versioned API (and its own document): the document says nothing of them. */
const documented = (url: string) => url.startsWith('/api/v1/') && !url.startsWith('/api/v1/openapi.json');

/** What Prism found wrong, request by request, in the order found. */
export const violations: string[] = [];
/** How many requests Prism has judged. */
export const tally = { judged: 0 };
/** Requests Prism could not answer at all (a path it cannot decode, say): sent to the server alone, and listed. */
export const unjudged: { request: string; reason: string }[] = [];

export interface PrismJudge {
  url: string;
  close(): Promise<void>;
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function send(base: string, request: http.IncomingMessage, body: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const { host: _, connection: __, ...headers } = request.headers;
    const outgoing = http.request(`${base}${request.url}`, { method: request.method, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }),
      );
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/**
 * Prism's own answer to a request it refused, if this is one: its problem type, or the error of the HTTP
 * layer under it, which refuses a body that is not JSON before Prism sees it.
 */
function prismRefusal(answer: Answer): string | undefined {
  const type = String(answer.headers['content-type']);
  if (!type.startsWith('application/problem+json') && !type.startsWith('application/json')) return undefined;
  try {
    const body = JSON.parse(answer.body.toString());
    if (typeof body.type === 'string' && body.type.startsWith(PRISM_ERROR)) {
      return `${body.type.slice(PRISM_ERROR.length)}: ${body.detail}`;
    }
    return body.error?.code === 'invalid_json' ? 'invalid_json: the body is not JSON' : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Why Prism cannot judge the URL, if it cannot: escapes that do not decode (`%FF`) stop its process, and it
 * reads the query into a plain object, so a parameter named after an Object.prototype property (`__proto__`)
 * would not reach the server.
 */
function unreadable(url: string): string | undefined {
  try {
    decodeURIComponent(url);
  } catch {
    return 'its escapes do not decode';
  }
  const names = [...new URLSearchParams(url.split('?')[1] ?? '').keys()];
  const inherited = names.find((name) => name in Object.prototype);
  return inherited === undefined ? undefined : `a parameter named ${inherited}`;
}

async function judge(server: string, prism: string, request: http.IncomingMessage, body: Buffer): Promise<Answer> {
  const asked = `${request.method} ${request.url}`;
  if (!documented(request.url ?? '')) return send(server, request, body);
  const unfit = unreadable(request.url ?? '');
  if (unfit) {
    unjudged.push({ request: asked, reason: unfit });
    return send(server, request, body);
  }
  const judged = await send(prism, request, body).catch((error: Error) => {
    unjudged.push({ request: asked, reason: error.message });
    return undefined;
  });
  if (!judged) return send(server, request, body);
  tally.judged++;
  const refusal = prismRefusal(judged);
  if (refusal === undefined) {
    const found = judged.headers['sl-violations'];
    if (found) violations.push(`${asked} answered ${judged.status}, which the document does not describe: ${found}`);
    return judged;
  }
  const direct = await send(server, request, body);
  if (direct.status < 400 || direct.status >= 500) {
    violations.push(`${asked}: the document refuses it (${refusal}), the server answered ${direct.status}`);
  }
  return direct;
}

/** Starts Prism in front of `server` (a base URL), with the document `server` serves, and our front before it. */
export async function startPrismJudge(server: string): Promise<PrismJudge> {
  const port = await freePort();
  const prism: ChildProcess = spawn(
    PRISM,
    // No CORS headers of its own: the server's are the ones under test.
    ['proxy', `${server}/api/v1/openapi.json`, server, '--errors', '--cors=false', '--host', '127.0.0.1', '--port', String(port)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  const listening = new Promise<void>((resolve, reject) => {
    const read = (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-8000);
      if (log.includes('Prism is listening')) resolve();
    };
    prism.stdout?.on('data', read);
    prism.stderr?.on('data', read);
    prism.once('exit', (code) => reject(new Error(`prism exited (${code}) before listening:\n${log}`)));
  });
  await listening;
  prism.stdout?.removeAllListeners('data').resume();
  prism.stderr?.removeAllListeners('data').resume();
  // A judge that stops judging must not pass unnoticed: what follows would reach the server alone.
  let closing = false;
  prism.once('exit', (code) => {
    if (!closing) violations.push(`prism exited (${code}) while judging; the requests after it were not judged`);
  });

  const prismUrl = `http://127.0.0.1:${port}`;
  const front = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      judge(server, prismUrl, request, Buffer.concat(chunks)).then(
        (answer) => {
          const { 'transfer-encoding': _, connection: __, 'keep-alive': ___, ...headers } = answer.headers;
          response.writeHead(answer.status, { ...headers, 'content-length': answer.body.length });
          response.end(answer.body);
        },
        (error: Error) => {
          violations.push(`${request.method} ${request.url}: the judge could not forward it: ${error.message}`);
          response.writeHead(502).end(error.message);
        },
      );
    });
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(front.address() as AddressInfo).port}`,
    async close() {
      closing = true;
      front.closeAllConnections();
      await new Promise((resolve) => front.close(resolve));
      prism.kill('SIGTERM');
      if (prism.exitCode === null) await once(prism, 'exit');
    },
  };
}
