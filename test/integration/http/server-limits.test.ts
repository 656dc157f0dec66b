// What a slow or greedy client can hold: the header and request timeouts, the connection limit, and bodies
// over their limits, which are answered 413 as soon as they pass it rather than read to their end.
import http from 'node:http';
import net from 'node:net';
import { expect } from 'chai';
import { ConfigError, readConfig } from '../../../src/config.js';
import { useTestDatabase } from '../../support/database.js';
import { startTestServer, TEST_TOKEN, type TestServer } from '../../support/server.js';

const AUTH = { Authorization: `Bearer ${TEST_TOKEN}` };

/** Everything the server sends on a raw connection until it closes it, or null if it is still open after `ms`. */
function untilClosed(socket: net.Socket, ms: number): Promise<string | null> {
  return new Promise((resolve) => {
    let received = '';
    const timer = setTimeout(() => resolve(null), ms);
    socket.on('data', (chunk) => {
      received += chunk;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
    socket.on('error', () => {});
  });
}

const connect = (server: TestServer) =>
  new Promise<net.Socket>((resolve) => {
    const socket = net.connect(Number(new URL(server.origin).port), '127.0.0.1', () => resolve(socket));
  });

describe('server limits', () => {
  const db = useTestDatabase();
  let server: TestServer;
  const sockets: net.Socket[] = [];
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await server.close();
  });

  it('answers 408 and closes a connection whose headers take longer than HTTP_HEADERS_TIMEOUT_MS', async () => {
    server = await startTestServer(db(), { HTTP_HEADERS_TIMEOUT_MS: '1000', HTTP_REQUEST_TIMEOUT_MS: '60000' });
    const socket = await connect(server);
    sockets.push(socket);
    socket.write(`GET /health HTTP/1.1\r\nHost: ${new URL(server.origin).host}\r\n`);
    const received = await untilClosed(socket, 4_000);
    expect(received).to.match(/^HTTP\/1\.1 408 /);
  });

  it('answers 408 and closes a connection whose request takes longer than HTTP_REQUEST_TIMEOUT_MS', async () => {
    server = await startTestServer(db(), { HTTP_HEADERS_TIMEOUT_MS: '1000', HTTP_REQUEST_TIMEOUT_MS: '2000' });
    const socket = await connect(server);
    sockets.push(socket);
    socket.write(
      `POST /api/v1/refreshes HTTP/1.1\r\nHost: ${new URL(server.origin).host}\r\nAuthorization: Bearer ${TEST_TOKEN}\r\n` +
        'Content-Type: text/csv\r\nContent-Length: 100000\r\n\r\nOrder ID,',
    );
    const received = await untilClosed(socket, 5_000);
    expect(received).to.match(/^HTTP\/1\.1 408 /);
  });

  it('closes connections past HTTP_MAX_CONNECTIONS on arrival and keeps serving the others', async () => {
    server = await startTestServer(db(), { HTTP_MAX_CONNECTIONS: '2' });
    const host = new URL(server.origin).host;
    const open = [await connect(server), await connect(server)];
    sockets.push(...open);
    const extra = await connect(server);
    sockets.push(extra);
    extra.write(`GET /health HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    expect(await untilClosed(extra, 3_000)).to.equal('');
    const answer = new Promise<string>((resolve) => open[0].once('data', (chunk) => resolve(String(chunk))));
    open[0].write(`GET /health HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    expect(await answer).to.match(/^HTTP\/1\.1 200 /);
  });

  it('answers 413 to an upload as soon as it passes MAX_UPLOAD_BYTES, before the client has finished sending', async () => {
    server = await startTestServer(db(), { MAX_UPLOAD_BYTES: '1000' });
    const response = await new Promise<http.IncomingMessage | null>((resolve) => {
      const request = http.request(`${server.origin}/api/v1/refreshes`, {
        method: 'POST',
        headers: { ...AUTH, 'Content-Type': 'text/csv', 'Transfer-Encoding': 'chunked' },
      });
      request.on('response', resolve);
      request.on('error', () => {});
      // 5 KB sent, and the body never ended: only an early answer arrives.
      request.write('x'.repeat(5_000));
      setTimeout(() => {
        resolve(null);
        request.destroy();
      }, 5_000);
    });
    expect(response?.statusCode).to.equal(413);
    expect(response?.headers.connection).to.equal('close');
  });

  it('answers 413, not 400, to a JSON body over 64 KB', async () => {
    server = await startTestServer(db());
    const response = await fetch(`${server.url}/api/v1/refreshes`, {
      method: 'POST',
      headers: { ...AUTH, 'Content-Type': 'application/json' },
      body: JSON.stringify({ source: 'x'.repeat(70_000) }),
    });
    expect(response.status).to.equal(413);
    expect(await response.json()).to.include({ status: 413, detail: 'the JSON body is larger than 65536 bytes' });
  });

  it('answers 401 to a caller without the token before looking at its parameters or body', async () => {
    server = await startTestServer(db());
    const response = await fetch(`${server.url}/api/v1/refreshes?mode=sideways`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"sauce": 1}',
    });
    expect(response.status).to.equal(401);
  });
});

describe('HTTP timeouts configuration', () => {
  it('refuses a headers timeout longer than the request timeout', () => {
    expect(() => readConfig({ HTTP_HEADERS_TIMEOUT_MS: '30000', HTTP_REQUEST_TIMEOUT_MS: '10000' })).to.throw(
      ConfigError,
      'HTTP_HEADERS_TIMEOUT_MS (30000) must not be more than HTTP_REQUEST_TIMEOUT_MS (10000)',
    );
  });
});
