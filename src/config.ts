// The one place that reads the environment: validated once, exported as a typed, frozen object.
import path from 'node:path';

export interface Config {
  /** External PostgreSQL; when absent an embedded server is started. */
  databaseUrl: string | undefined;
  /** Streaming replicas of DATABASE_URL that analytics answers are read from (docs/replicas.md); empty: none. */
  readReplicaUrls: readonly string[];
  /** dataDirIsDefault: EMBEDDED_PG_DIR is unset (as root, the default may move where the server's user can reach). */
  embeddedPostgres: { dataDir: string; dataDirIsDefault: boolean; port: number };
  /** allowedHosts: Host header values answered besides the loopback names (a reverse proxy's name). */
  http: {
    host: string;
    port: number;
    allowedHosts: readonly string[];
    /** How long a client may take to send its headers, and its whole request (an upload included). */
    headersTimeoutMs: number;
    requestTimeoutMs: number;
    /** Connections served at once; more are closed on arrival. */
    maxConnections: number;
  };
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
  /** Bearer token that every read of /api needs when set (rejected rows need REFRESH_TOKEN); unset: reads are open. */
  apiToken: string | undefined;
  /**
   * The analytics snapshots (DuckDB files, one per data version) and what DuckDB may use to build and read
   * them: its threads and its memory limit per open snapshot, and how many questions a server asks at once.
   */
  analytics: { directory: string; limits: { threads: number; memoryLimit: string; queries: number } };
  /** Keep analytics answers in memory until the data version changes, up to maxBytes of their JSON. */
  analyticsCache: { enabled: boolean; maxBytes: number };
  /** Allowed CORS origin ('*' for any); unset: no CORS headers. */
  corsOrigin: string | undefined;
  /** GET /metrics (docs/operations.md): served unless disabled; with a token set, to its bearer only. */
  metrics: { enabled: boolean; token: string | undefined };
}

export class ConfigError extends Error {}

/** A Host header value: `name` or `name:port`, the name a DNS name, an IPv4 address or a bracketed IPv6 address. */
export const HOST_AND_PORT = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/i;

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max} (got '${raw}')`);
  }
  return Number(raw);
}

/** The size of libuv's thread pool, as Node reads it at start-up (default 4). */
function libuvThreads(env: NodeJS.ProcessEnv): number {
  const size = Number(env.UV_THREADPOOL_SIZE);
  return Number.isInteger(size) && size >= 1 ? Math.min(size, 1024) : 4;
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

function timeouts(env: NodeJS.ProcessEnv): { headersTimeoutMs: number; requestTimeoutMs: number } {
  const headersTimeoutMs = integer(env, 'HTTP_HEADERS_TIMEOUT_MS', 20_000, 1_000, 3_600_000);
  const requestTimeoutMs = integer(env, 'HTTP_REQUEST_TIMEOUT_MS', 600_000, 1_000, 86_400_000);
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new ConfigError(
      `HTTP_HEADERS_TIMEOUT_MS (${headersTimeoutMs}) must not be more than HTTP_REQUEST_TIMEOUT_MS (${requestTimeoutMs})`,
    );
  }
  return { headersTimeoutMs, requestTimeoutMs };
}

function allowedHosts(list: string): string[] {
  const hosts = list
    .split(',')
    .map((host) => host.trim())
    .filter(Boolean);
  const bad = hosts.find((host) => !HOST_AND_PORT.test(host));
  if (bad) throw new ConfigError(`ALLOWED_HOSTS must list host or host:port names, comma-separated (got '${bad}')`);
  return hosts;
}

const POSTGRES_URL = /^postgres(ql)?:\/\//;

/** A URL as it may appear in an error message: its password replaced by ***. */
function withoutPassword(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}

function readReplicaUrls(list: string, databaseUrl: string | undefined): string[] {
  const urls = list
    .split(',')
    .map((url) => url.trim())
    .filter(Boolean);
  const bad = urls.find((url) => !POSTGRES_URL.test(url) || !URL.canParse(url) || !new URL(url).hostname);
  if (bad !== undefined) {
    throw new ConfigError(
      `DATABASE_READ_URLS must list postgres:// or postgresql:// URLs, comma-separated (got '${withoutPassword(bad)}')`,
    );
  }
  if (urls.length > 0 && !databaseUrl) {
    throw new ConfigError(
      'DATABASE_READ_URLS needs DATABASE_URL (the primary, which takes every write and answers when no replica can)',
    );
  }
  return urls;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const logLevel = env.LOG_LEVEL || 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got '${logLevel}')`);
  }
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !POSTGRES_URL.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  return Object.freeze({
    databaseUrl,
    readReplicaUrls: readReplicaUrls(env.DATABASE_READ_URLS ?? '', databaseUrl),
    embeddedPostgres: {
      dataDir: path.resolve(env.EMBEDDED_PG_DIR || 'data/postgres'),
      dataDirIsDefault: !env.EMBEDDED_PG_DIR,
      port: integer(env, 'EMBEDDED_PG_PORT', 54329, 1024, 65535),
    },
    http: {
      host: env.HOST || '127.0.0.1',
      port: integer(env, 'PORT', 3000, 0, 65535),
      allowedHosts: allowedHosts(env.ALLOWED_HOSTS ?? ''),
      ...timeouts(env),
      maxConnections: integer(env, 'HTTP_MAX_CONNECTIONS', 1000, 1, 1_000_000),
    },
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
    apiToken: env.API_TOKEN || undefined,
    analytics: {
      directory: path.resolve(env.ANALYTICS_DIR || 'data/analytics'),
      limits: {
        threads: integer(env, 'ANALYTICS_THREADS', 2, 1, 256),
        memoryLimit: `${integer(env, 'ANALYTICS_MEMORY_MB', 1024, 64, 1_048_576)}MB`,
        // DuckDB's node client runs each query on a thread of libuv's pool, which file and DNS work share: the
        // questions answered at once stay below its size, so that neither starves while long ones run.
        queries: integer(env, 'ANALYTICS_QUERIES', Math.max(1, libuvThreads(env) - 2), 1, Math.max(1, libuvThreads(env) - 1)),
      },
    },
    analyticsCache: {
      enabled: flag(env, 'ANALYTICS_CACHE', true),
      maxBytes: integer(env, 'ANALYTICS_CACHE_MB', 64, 1, 65_536) * 1024 ** 2,
    },
    corsOrigin: env.CORS_ORIGIN || undefined,
    metrics: { enabled: flag(env, 'METRICS', true), token: env.METRICS_TOKEN || undefined },
  });
}
