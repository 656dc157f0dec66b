// A CSV request body saved by saveUpload, behind a real Koa server: the file waits and loads readable by the
// service's user only.
import fs from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import Koa from 'koa';
import { saveUpload } from '../../../src/http/upload.js';

describe('saveUpload', () => {
  let dataDir: string;
  let server: Server;
  let saved: { name: string; mode: number; text: string } | undefined;

  before(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sales-upload-'));
    const app = new Koa().use(async (ctx) => {
      const name = await saveUpload(ctx, dataDir, 1_000_000);
      const file = path.join(dataDir, name);
      saved = { name, mode: (await fs.stat(file)).mode & 0o777, text: await fs.readFile(file, 'utf8') };
      ctx.status = 204;
    });
    server = await new Promise((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('writes the body under uploads/ with mode 0600', async () => {
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: 'a,b\n1,2\n' });
    expect(response.status).to.equal(204);
    expect(saved?.name).to.match(/^uploads\/[\w-]+\.csv$/);
    expect(saved).to.include({ mode: 0o600, text: 'a,b\n1,2\n' });
  });
});
