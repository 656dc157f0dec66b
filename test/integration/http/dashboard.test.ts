// The dashboard's files as the server hands them out: the page under a strict CSP, every file it loads
// (the modules they import included) from this process with its type, Chart.js from the chart.js package.
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { expect } from 'chai';
import { useTestDatabase } from '../../support/database.js';
import { startTestServer, type TestServer } from '../../support/server.js';

/** The CSP as directive -> values. */
function policy(header: string | null): Record<string, string[]> {
  return Object.fromEntries(
    (header ?? '')
      .split(';')
      .map((directive) => directive.trim().split(/\s+/))
      .filter(([name]) => name)
      .map(([name, ...values]) => [name, values]),
  );
}

describe('dashboard files', () => {
  const db = useTestDatabase();
  let server: TestServer;
  before(async () => {
    server = await startTestServer(db());
  });
  after(() => server.close());

  it('answers GET / with the HTML page under a CSP that allows no inline or evaluated script', async () => {
    const response = await fetch(`${server.url}/`);
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.equal('text/html; charset=utf-8');
    const csp = policy(response.headers.get('content-security-policy'));
    expect(csp['script-src']).to.deep.equal(["'self'"]);
    expect(csp['script-src-attr']).to.deep.equal(["'none'"]);
    expect(csp['style-src']).to.deep.equal(["'self'"]);
    expect(csp['connect-src']).to.deep.equal(["'self'"]);
    expect(csp['object-src']).to.deep.equal(["'none'"]);
    const html = await response.text();
    expect(html).to.match(/^<!doctype html>/);
    expect(html, 'no inline script').to.not.match(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html, 'no inline event handler').to.not.match(/\son[a-z]+=/);
    expect(html, 'no style attribute').to.not.match(/\sstyle=/);
  });

  it('serves every file the page loads from this process with its content type, none allowing unsafe-eval', async () => {
    const html = await (await fetch(`${server.url}/`)).text();
    const pending = [...html.matchAll(/(?:src|href)="(\/dashboard\/[^"]+)"/g)].map(([, url]) => url);
    const types: Record<string, string> = {};
    const seen = new Set<string>();
    while (pending.length > 0) {
      const url = pending.shift()!;
      if (seen.has(url)) continue;
      seen.add(url);
      const response = await fetch(`${server.url}${url}`);
      expect(response.status, url).to.equal(200);
      types[url] = response.headers.get('content-type')!;
      expect(response.headers.get('content-security-policy'), url).to.not.contain('unsafe-eval');
      const text = await response.text();
      // The modules' own imports, resolved against the importing file.
      if (url.endsWith('.js') && !url.endsWith('.umd.min.js')) {
        for (const [, specifier] of text.matchAll(/^import .* from '([^']+)';$/gm))
          pending.push(new URL(specifier, `http://x${url}`).pathname);
      }
    }
    expect(types).to.deep.equal({
      '/dashboard/dashboard.css': 'text/css; charset=utf-8',
      '/dashboard/icon.svg': 'image/svg+xml',
      '/dashboard/chart.umd.min.js': 'text/javascript; charset=utf-8',
      '/dashboard/dashboard.js': 'text/javascript; charset=utf-8',
      '/dashboard/api.js': 'text/javascript; charset=utf-8',
      '/dashboard/format.js': 'text/javascript; charset=utf-8',
      '/dashboard/periods.js': 'text/javascript; charset=utf-8',
      '/dashboard/refresh.js': 'text/javascript; charset=utf-8',
    });
    for (const response of [await fetch(`${server.url}/`), await fetch(`${server.url}/docs`)]) {
      expect(response.headers.get('content-security-policy')).to.not.contain('unsafe-eval');
    }
  });

  it('serves the UMD build of the installed chart.js byte for byte', async () => {
    const entry = createRequire(import.meta.url).resolve('chart.js');
    const expected = await fs.readFile(path.join(path.dirname(entry), 'chart.umd.min.js'), 'utf8');
    const served = await (await fetch(`${server.url}/dashboard/chart.umd.min.js`)).text();
    expect(served).to.equal(expected);
    expect(served).to.match(/^\/\*!\n \* Chart\.js v4\./);
  });

  it('answers 404 for a file that is not one of the dashboard files', async () => {
    for (const url of ['/dashboard/nothing.js', '/dashboard/..%2Fpackage.json', '/dashboard/index.html.bak']) {
      expect((await fetch(`${server.url}${url}`)).status, url).to.equal(404);
    }
  });
});
