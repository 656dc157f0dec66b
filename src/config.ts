// The one place that reads the environment: validated once, exported as a typed, frozen object.
import path from 'node:path';

export interface Config {
  /** External PostgreSQL; when absent an embedded server is started. */
  databaseUrl: string | undefined;
  /** dataDirIsDefault: EMBEDDED_PG_DIR is unset (as root, the default may move where the server's user can reach). */
  embeddedPostgres: { dataDir: string; dataDirIsDefault: boolean; port: number };
  http: { host: string; port: number };
  /** Directory that refresh sources and the bundled sample live in. */
  dataDir: string;
  log: { level: string; dir: string };
  /** Load the bundled sample at start-up when the database holds no sales. */
  seedOnStart: boolean;
  refresh: {
    /** Cron expression (5 fields, or 6 with seconds first); empty disables the schedule. */
    cron: string;
    timezone: string;
    /** The scheduled run's source: a file name inside dataDir. */
    source: string;
    mode: 'append' | 'replace';
    /** Bearer token for POST /api/v1/refreshes; generated at start-up when unset. */
    token: string | undefined;
    maxUploadBytes: number;
    /** On SIGTERM, how long a running refresh may take to finish before it is rolled back. */
    shutdownGraceMs: number;
  };
  /** Keep analytics answers in memory until the data version changes. */
  analyticsCache: boolean;
  /** Allowed CORS origin ('*' for any); unset: no CORS headers. */
  corsOrigin: string | undefined;
}

export class ConfigError extends Error {}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max} (got '${raw}')`);
  }
  return Number(raw);
}

function flag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name]?.toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false (got '${env[name]}')`);
}

function timezone(name: string): string {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return name;
  } catch {
    throw new ConfigError(`REFRESH_TZ must be an IANA time zone such as UTC or Europe/Paris (got '${name}')`);
  }
}

function loadMode(mode: string): 'append' | 'replace' {
  if (mode !== 'append' && mode !== 'replace') throw new ConfigError(`REFRESH_MODE must be append or replace (got '${mode}')`);
  return mode;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const logLevel = env.LOG_LEVEL || 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got '${logLevel}')`);
  }
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  return Object.freeze({
    databaseUrl,
    embeddedPostgres: {
      dataDir: path.resolve(env.EMBEDDED_PG_DIR || 'data/postgres'),
      dataDirIsDefault: !env.EMBEDDED_PG_DIR,
      port: integer(env, 'EMBEDDED_PG_PORT', 54329, 1024, 65535),
    },
    http: { host: env.HOST || '127.0.0.1', port: integer(env, 'PORT', 3000, 0, 65535) },
    dataDir: path.resolve(env.DATA_DIR || 'data'),
    log: { level: logLevel, dir: path.resolve(env.LOG_DIR || 'logs') },
    seedOnStart: flag(env, 'SEED_ON_START', true),
    refresh: {
      cron: env.REFRESH_CRON ?? '0 2 * * *',
      timezone: timezone(env.REFRESH_TZ || 'UTC'),
      source: env.REFRESH_SOURCE || 'sales.csv',
      mode: loadMode(env.REFRESH_MODE || 'append'),
      token: env.REFRESH_TOKEN || undefined,
      maxUploadBytes: integer(env, 'MAX_UPLOAD_BYTES', 2 * 1024 ** 3, 1, Number.MAX_SAFE_INTEGER),
      shutdownGraceMs: integer(env, 'SHUTDOWN_GRACE_MS', 30_000, 0, 3_600_000),
    },
    analyticsCache: flag(env, 'ANALYTICS_CACHE', true),
    corsOrigin: env.CORS_ORIGIN || undefined,
  });
}
