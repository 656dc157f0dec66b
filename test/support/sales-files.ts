// Test inputs: files written from generated or hand-made lines, and an independent, exact fold over them.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Pool } from 'pg';
import { type GeneratedLine, type GeneratorOptions, salesCsvLine, salesHeader } from '../../src/generate/sales-generator.js';
import type { LoadMode } from '../../src/load/index.js';
import { createLogger } from '../../src/logger.js';
import { type RefreshOutcome, runRefresh } from '../../src/refresh/refresh.js';
import { analyticsDirOf, replicaCaughtUp } from './database.js';
import { testFilesFolder } from './temp-files.js';

/** DuckDB's share of the test machine, per snapshot. */
export const TEST_ANALYTICS_LIMITS = { threads: 1, memoryLimit: '256MB', queries: 2 };

export const quietLogger = createLogger('silent').logger;

let fileCounter = 0;
export async function writeFile(content: string | Uint8Array, extension = 'csv'): Promise<string> {
  const file = path.join(await testFilesFolder(), `input-${++fileCounter}.${extension}`);
  await fs.writeFile(file, content);
  return file;
}

export function csvOf(
  lines: GeneratedLine[],
  options: Pick<GeneratorOptions, 'style' | 'extraColumns'> = { style: 'standard', extraColumns: false },
): string {
  return `${salesHeader(options.extraColumns).join(',')}\n${lines.map((line) => salesCsvLine(line, options)).join('')}`;
}

/** Loads a file as the CLI does; `partBytes` sorts a file larger than that into parts (the loader's default otherwise). */
export async function load(pool: Pool, file: string, mode: LoadMode = 'append', partBytes?: number): Promise<RefreshOutcome> {
  const outcome = await runRefresh(pool, quietLogger, {
    file,
    source: path.basename(file),
    mode,
    trigger: 'cli',
    partBytes,
    // In the replica pass the test servers build their snapshots from the replica, as a server reading
    // replicas on another machine does; elsewhere the load publishes it, as the loading process does.
    analytics: process.env.TEST_REPLICA_URL ? undefined : { directory: analyticsDirOf(pool), limits: TEST_ANALYTICS_LIMITS },
  });
  // What a test loads, it reads next: in the replica pass, from the replica once it has replayed the load.
  await replicaCaughtUp();
  return outcome;
}

/** Decimal text -> integer count of 1e-`scale` units. */
function units(text: string, scale: number): bigint {
  const [whole, fraction = ''] = text.split('.');
  return BigInt(whole || '0') * 10n ** BigInt(scale) + BigInt(fraction.padEnd(scale, '0').slice(0, scale) || '0');
}

/** Exact money figures in 1e-4 units (prices have 2 decimals, discounts 2 at most). */
export function lineMoney(line: GeneratedLine): { gross: bigint; discount: bigint; revenue: bigint; shipping: bigint } {
  const gross = BigInt(line.quantity) * units(line.unitPrice, 2) * 100n;
  const discount = (gross * units(line.discount, 2)) / 100n;
  return { gross, discount, revenue: gross - discount, shipping: units(line.shippingCost, 4) };
}

/** A 1e-4 unit amount as the numeric text PostgreSQL prints after round(x, 2). */
export function money(amount: bigint): string {
  const negative = amount < 0n;
  const abs = negative ? -amount : amount;
  const cents = (abs + 50n) / 100n; // half away from zero
  const text = `${cents / 100n}.${String(cents % 100n).padStart(2, '0')}`;
  return negative ? `-${text}` : text;
}

export function sum<T>(items: T[], value: (item: T) => bigint): bigint {
  return items.reduce((total, item) => total + value(item), 0n);
}
