// A CSV request body streamed to a file under DATA_DIR/uploads, never held in memory, refused (413) past the
// configured size. Reading stops as soon as the body passes the limit: the 413 closes the connection, so
// the rest of the body is never read.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Context } from 'koa';
import { HttpProblem } from './problem.js';

function tooLarge(maxBytes: number): HttpProblem {
  return new HttpProblem(413, `the upload is larger than MAX_UPLOAD_BYTES (${maxBytes} bytes)`, {}, { Connection: 'close' });
}

/** Saves the body; answers the file's path relative to dataDir. */
export async function saveUpload(ctx: Context, dataDir: string, maxBytes: number): Promise<string> {
  const declared = Number(ctx.get('Content-Length') || Number.NaN);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const name = path.join('uploads', `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}.csv`);
  const file = path.join(dataDir, name);
  await fs.mkdir(path.dirname(file), { recursive: true });
  // Readable by this process's user alone while it waits and loads (it may hold anyone's data).
  const out = createWriteStream(file, { flags: 'wx', mode: 0o600 });
  let bytes = 0;
  try {
    // Leaving the loop early must not destroy the request: its socket still has the 413 to carry.
    for await (const chunk of ctx.req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      if (bytes > maxBytes) break;
      if (!out.write(chunk)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
  } catch {
    out.destroy();
    await fs.rm(file, { force: true });
    throw new HttpProblem(400, 'the upload was interrupted before the body was complete');
  }
  if (bytes > maxBytes || bytes === 0) {
    await fs.rm(file, { force: true });
    throw bytes === 0 ? new HttpProblem(400, 'the request body is empty: send the CSV file as the body') : tooLarge(maxBytes);
  }
  return name;
}
