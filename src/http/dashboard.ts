// The dashboard at `/`: plain ES modules and a stylesheet from public/dashboard/ (no build step), and Chart.js's
// UMD build from the chart.js package, all served by this process. The page reads only the public /api/v1.
import { createReadStream, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type Router from '@koa/router';
import { projectRoot } from '../paths.js';

export const dashboardDir = path.join(projectRoot, 'public', 'dashboard');
/** The chart.js package exports no path to its UMD build; it sits next to the CommonJS entry. */
export const chartJsFile = path.join(path.dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js');

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * Stricter than the API's default policy (helmet's): the page sets no inline styles, so style-src has no
 * 'unsafe-inline' (Swagger UI at /docs needs it; Chart.js sizes its canvas through the CSSOM, which CSP allows).
 */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "script-src-attr 'none'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'self'",
].join('; ');

export function mountDashboard(router: Router): void {
  // The files are fixed at start-up: a name not in the folder then is a 404, never a path to resolve.
  const assets = new Map(
    readdirSync(dashboardDir)
      .filter((name) => TYPES[path.extname(name)])
      .map((name) => [name, { file: path.join(dashboardDir, name), type: TYPES[path.extname(name)] }]),
  );
  assets.set('chart.umd.min.js', { file: chartJsFile, type: TYPES['.js'] });

  router.get('/', (ctx) => {
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('Content-Security-Policy', DASHBOARD_CSP);
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = createReadStream(path.join(dashboardDir, 'index.html'));
  });
  router.get('/dashboard/:asset', (ctx) => {
    const asset = assets.get(ctx.params.asset);
    if (!asset) return; // 404
    ctx.type = asset.type;
    ctx.set('Content-Security-Policy', DASHBOARD_CSP);
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = createReadStream(asset.file);
  });
}
