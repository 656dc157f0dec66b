// The one place that reads the environment: validated once, exported as a typed, frozen object.
import path from 'node:path';

export interface Config {
  /** External PostgreSQL; when absent an embedded server is started. */
  databaseUrl: string | undefined;
  embeddedPostgres: { dataDir: string; port: number };
  http: { host: string; port: number };
  /** Directory that refresh sources and the bundled sample live in. */
  dataDir: string;
  log: { level: string; dir: string };
  /** Load the bundled sample at start-up when the database holds no sales. */
  seedOnStart: boolean;
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
      port: integer(env, 'EMBEDDED_PG_PORT', 54329, 1024, 65535),
    },
    http: { host: env.HOST || '127.0.0.1', port: integer(env, 'PORT', 3000, 0, 65535) },
    dataDir: path.resolve(env.DATA_DIR || 'data'),
    log: { level: logLevel, dir: path.resolve(env.LOG_DIR || 'logs') },
    seedOnStart: flag(env, 'SEED_ON_START', true),
  });
}
