/**
 * Settings: one table drives the zod schema, the CLI flags and `--help`.
 * Portable: `parseConfig` takes a plain record; runtimes pass `process.env` or the Worker `env`.
 */
import { z } from 'zod'
import { ConfigError } from '../errors.ts'

const integer = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max)

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const

/** `7d`, `12h`, `30m`, `90s`, `500ms`; a bare number is milliseconds. */
function toMilliseconds(text: string): number {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(text)
  return Number(match?.[1]) * UNIT_MS[(match?.[2] ?? 'ms') as keyof typeof UNIT_MS]
}

const upstreamUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
  .transform((url) => url.replace(/\/+$/, ''))

/** Every setting, in the order `--help` lists them. */
export const SETTINGS = {
  KYLIN_UPSTREAM_URL: {
    flag: 'upstream',
    schema: upstreamUrl,
    default: undefined,
    help: 'Base URL of the upstream Kylin, e.g. http://kylin:7070 (required)',
  },
  PORT: { flag: 'port', schema: integer(0, 65535), default: '8080', help: 'Port to listen on' },
  HOST: { flag: 'host', schema: z.string().min(1), default: '0.0.0.0', help: 'Address to bind' },
  STORE: {
    flag: 'store',
    schema: z.enum(['fs', 'memory', 'r2', 's3']),
    default: 'fs',
    help: 'Where results are kept: fs (DATA_DIR), memory, or s3 (S3_BUCKET); r2 on Workers',
  },
  DATA_DIR: {
    flag: 'data-dir',
    schema: z.string().min(1),
    default: './data',
    help: 'Directory of the fs store',
  },
  MEMORY_STORE_MAX_BYTES: {
    flag: 'memory-store-max-bytes',
    schema: integer(1),
    default: String(512 * 1024 * 1024),
    help: 'Byte budget of the memory store; the least recently used results go first',
  },
  S3_ENDPOINT: {
    flag: 's3-endpoint',
    schema: z.union([
      z.literal(''),
      z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
    ]),
    default: '',
    help: 'S3-compatible endpoint of the s3 store, e.g. http://minio:9000 (path-style); none means AWS S3',
  },
  S3_BUCKET: {
    flag: 's3-bucket',
    schema: z.string(),
    default: '',
    help: 'Bucket of the s3 store (required with STORE=s3)',
  },
  S3_REGION: {
    flag: 's3-region',
    schema: z.string().regex(/^[a-z0-9-]+$/, 'must be a region name such as us-east-1'),
    default: 'us-east-1',
    help: 'Region the s3 store signs its requests for',
  },
  S3_PREFIX: {
    flag: 's3-prefix',
    schema: z.string(),
    default: '',
    help: 'Prepended to every key of the s3 store, e.g. results/, to share a bucket',
  },
  AWS_ACCESS_KEY_ID: {
    flag: 'aws-access-key-id',
    schema: z.string(),
    default: '',
    help: 'Access key id of the s3 store (required with STORE=s3)',
  },
  AWS_SECRET_ACCESS_KEY: {
    flag: 'aws-secret-access-key',
    schema: z.string(),
    default: '',
    help: 'Secret access key of the s3 store (required with STORE=s3); prefer the variable, flags show in ps',
  },
  AWS_SESSION_TOKEN: {
    flag: 'aws-session-token',
    schema: z.string(),
    default: '',
    help: 'Session token of temporary credentials for the s3 store',
  },
  MAX_CONCURRENT_QUERIES: {
    flag: 'max-concurrent-queries',
    schema: integer(1, 1000),
    default: '4',
    help: 'Upstream queries running at once; more wait in a queue and stay RUNNING',
  },
  MAX_CONCURRENT_PER_USER: {
    flag: 'max-concurrent-per-user',
    schema: integer(0, 1000),
    default: '0',
    help: 'Upstream queries one user may run at once; 0 means one fewer than MAX_CONCURRENT_QUERIES (at least 1)',
  },
  MAX_QUEUED_QUERIES: {
    flag: 'max-queued-queries',
    schema: integer(0),
    default: '1000',
    help: 'Queries waiting for a slot at most; past it a submit answers 429 with Retry-After',
  },
  MAX_RESULT_BYTES: {
    flag: 'max-result-bytes',
    schema: integer(1),
    default: String(50 * 1024 ** 3),
    help: 'Largest CSV result kept; a larger one ends FAILED',
  },
  SHUTDOWN_GRACE_MS: {
    flag: 'shutdown-grace-ms',
    schema: integer(0),
    default: '10000',
    help: 'On SIGTERM / SIGINT, how long running queries may finish before they are stopped',
  },
  RESULT_RETAIN: {
    flag: 'result-retain',
    schema: z
      .string()
      .regex(/^\d+(ms|s|m|h|d)?$/, 'must be a duration like 7d, 12h, 30m, 90s or 500ms')
      .transform(toMilliseconds)
      .pipe(z.number().int().min(1000, 'must be at least 1s')),
    default: '7d',
    help: 'How long finished results are kept (Kylin: 7d); older ones are deleted on a schedule',
  },
  MAX_QUERIES: {
    flag: 'max-queries',
    schema: integer(1),
    default: '10000',
    help: 'Query records kept in the registry; the least recently used finished ones go first (more than MAX_CONCURRENT_QUERIES + MAX_QUEUED_QUERIES)',
  },
  UPSTREAM_TIMEOUT_MS: {
    flag: 'upstream-timeout-ms',
    schema: integer(1),
    default: String(30 * 60 * 1000),
    help: 'Longest an upstream query may take, from request to last byte',
  },
  AUTH_CACHE_TTL_MS: {
    flag: 'auth-cache-ttl-ms',
    schema: integer(0),
    default: '30000',
    help: 'How long a verified credential is trusted before the upstream is asked again',
  },
  MAX_BODY_BYTES: {
    flag: 'max-body-bytes',
    schema: integer(1),
    default: String(1024 * 1024),
    help: 'Largest accepted async query request body',
  },
  LOG_LEVEL: {
    flag: 'log-level',
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    default: 'info',
    help: 'pino log level',
  },
  METRICS_TOKEN: {
    flag: 'metrics-token',
    schema: z.string(),
    default: '',
    help: 'When set, GET /metrics (Node) requires Authorization: Bearer <token>; prefer the variable, flags show in ps',
  },
  REGISTRY: {
    flag: 'registry',
    schema: z.enum(['memory', 'redis']),
    default: 'memory',
    help: 'Where query records, slots and the queue live: memory (one instance) or redis (shared by several, REDIS_URL; Node only)',
  },
  REDIS_URL: {
    flag: 'redis-url',
    schema: z.union([
      z.literal(''),
      z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }),
    ]),
    default: '',
    help: 'Redis of REGISTRY=redis, e.g. redis://:password@redis:6379/0 (required with it); prefer the variable, flags show in ps',
  },
  REDIS_KEY_PREFIX: {
    flag: 'redis-key-prefix',
    schema: z.string().min(1).max(100),
    default: 'kag:',
    help: 'Put before every Redis key and channel, so several gateway clusters can share one Redis',
  },
  CLUSTER_LEASE_MS: {
    flag: 'cluster-lease-ms',
    schema: integer(300, 3_600_000),
    default: '15000',
    help: 'With REGISTRY=redis: how long the queries, slots and queue places of an instance that stopped stay claimed before others take them over',
  },
} as const

/** Settings whose value never appears in an error message (a URL may carry a password). */
const SECRET_SETTINGS: ReadonlySet<string> = new Set(['REDIS_URL'])

export type SettingName = keyof typeof SETTINGS

const configSchema = z.object({
  KYLIN_UPSTREAM_URL: SETTINGS.KYLIN_UPSTREAM_URL.schema,
  PORT: SETTINGS.PORT.schema,
  HOST: SETTINGS.HOST.schema,
  STORE: SETTINGS.STORE.schema,
  DATA_DIR: SETTINGS.DATA_DIR.schema,
  MEMORY_STORE_MAX_BYTES: SETTINGS.MEMORY_STORE_MAX_BYTES.schema,
  S3_ENDPOINT: SETTINGS.S3_ENDPOINT.schema,
  S3_BUCKET: SETTINGS.S3_BUCKET.schema,
  S3_REGION: SETTINGS.S3_REGION.schema,
  S3_PREFIX: SETTINGS.S3_PREFIX.schema,
  AWS_ACCESS_KEY_ID: SETTINGS.AWS_ACCESS_KEY_ID.schema,
  AWS_SECRET_ACCESS_KEY: SETTINGS.AWS_SECRET_ACCESS_KEY.schema,
  AWS_SESSION_TOKEN: SETTINGS.AWS_SESSION_TOKEN.schema,
  MAX_CONCURRENT_QUERIES: SETTINGS.MAX_CONCURRENT_QUERIES.schema,
  MAX_CONCURRENT_PER_USER: SETTINGS.MAX_CONCURRENT_PER_USER.schema,
  MAX_QUEUED_QUERIES: SETTINGS.MAX_QUEUED_QUERIES.schema,
  MAX_RESULT_BYTES: SETTINGS.MAX_RESULT_BYTES.schema,
  SHUTDOWN_GRACE_MS: SETTINGS.SHUTDOWN_GRACE_MS.schema,
  RESULT_RETAIN: SETTINGS.RESULT_RETAIN.schema,
  MAX_QUERIES: SETTINGS.MAX_QUERIES.schema,
  UPSTREAM_TIMEOUT_MS: SETTINGS.UPSTREAM_TIMEOUT_MS.schema,
  AUTH_CACHE_TTL_MS: SETTINGS.AUTH_CACHE_TTL_MS.schema,
  MAX_BODY_BYTES: SETTINGS.MAX_BODY_BYTES.schema,
  LOG_LEVEL: SETTINGS.LOG_LEVEL.schema,
  METRICS_TOKEN: SETTINGS.METRICS_TOKEN.schema,
  REGISTRY: SETTINGS.REGISTRY.schema,
  REDIS_URL: SETTINGS.REDIS_URL.schema,
  REDIS_KEY_PREFIX: SETTINGS.REDIS_KEY_PREFIX.schema,
  CLUSTER_LEASE_MS: SETTINGS.CLUSTER_LEASE_MS.schema,
})

export interface Config {
  upstreamUrl: string
  port: number
  host: string
  store: 'fs' | 'memory' | 'r2' | 's3'
  dataDir: string
  memoryStoreMaxBytes: number
  /** Present when `store` is `s3`. */
  s3?: S3Settings
  maxConcurrentQueries: number
  maxConcurrentPerUser: number
  maxQueuedQueries: number
  maxResultBytes: number
  shutdownGraceMs: number
  resultRetainMs: number
  maxQueries: number
  upstreamTimeoutMs: number
  authCacheTtlMs: number
  maxBodyBytes: number
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
  /** Bearer token for /metrics; `''` leaves it open. */
  metricsToken: string
  registry: 'memory' | 'redis'
  /** Present when `registry` is `redis`. */
  redis?: RedisSettings
}

export interface RedisSettings {
  /** May carry a password: never log it as is. */
  url: string
  keyPrefix: string
  /** Lease of a running query, a slot or a queue place; renewed well before it lapses. */
  leaseMs: number
}

export interface S3Settings {
  /** `undefined`: AWS S3 itself. */
  endpoint?: string
  bucket: string
  region: string
  prefix: string
  /** Under `credentials`, a path the Node logger redacts, should a config object ever be logged. */
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
}

/** The s3 store's settings, or a one-line error naming what STORE=s3 is missing. */
function toS3Settings(c: z.infer<typeof configSchema>): S3Settings {
  if (c.S3_BUCKET === '') throw new ConfigError('S3_BUCKET (--s3-bucket) is required with STORE=s3')
  if (c.AWS_ACCESS_KEY_ID === '' || c.AWS_SECRET_ACCESS_KEY === '') {
    throw new ConfigError(
      'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (--aws-access-key-id, --aws-secret-access-key) are required with STORE=s3',
    )
  }
  return {
    ...(c.S3_ENDPOINT === '' ? {} : { endpoint: c.S3_ENDPOINT }),
    bucket: c.S3_BUCKET,
    region: c.S3_REGION,
    prefix: c.S3_PREFIX,
    credentials: {
      accessKeyId: c.AWS_ACCESS_KEY_ID,
      secretAccessKey: c.AWS_SECRET_ACCESS_KEY,
      ...(c.AWS_SESSION_TOKEN === '' ? {} : { sessionToken: c.AWS_SESSION_TOKEN }),
    },
  }
}

/**
 * Reads settings from a plain record (unknown keys ignored, empty strings count as unset).
 * Throws a `ConfigError` whose message is one line naming the setting and what is wrong.
 */
export function parseConfig(vars: Record<string, string | undefined>): Config {
  const input: Record<string, string | undefined> = {}
  for (const [name, setting] of Object.entries(SETTINGS)) {
    const value = vars[name]
    input[name] = value === undefined || value.trim() === '' ? setting.default : value.trim()
  }
  const parsed = configSchema.safeParse(input)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const name = String(issue?.path[0] ?? 'configuration')
    const given = input[name]
    const what =
      given === undefined
        ? 'is required'
        : SECRET_SETTINGS.has(name)
          ? `has a bad value: ${issue?.message}`
          : `has a bad value ${JSON.stringify(given)}: ${issue?.message}`
    throw new ConfigError(`${name} (--${flagOf(name)}) ${what}`)
  }
  const c = parsed.data
  // Every queued or running query holds a record that cannot be evicted; a registry no larger
  // than that could fill up with them and refuse submits the queue would have taken.
  const inFlight = c.MAX_CONCURRENT_QUERIES + c.MAX_QUEUED_QUERIES
  if (c.MAX_QUERIES <= inFlight) {
    throw new ConfigError(
      `MAX_QUERIES (--max-queries) has a bad value ${JSON.stringify(input.MAX_QUERIES)}: ` +
        `must be more than MAX_CONCURRENT_QUERIES + MAX_QUEUED_QUERIES (${inFlight})`,
    )
  }
  return {
    upstreamUrl: c.KYLIN_UPSTREAM_URL,
    port: c.PORT,
    host: c.HOST,
    store: c.STORE,
    dataDir: c.DATA_DIR,
    memoryStoreMaxBytes: c.MEMORY_STORE_MAX_BYTES,
    ...(c.STORE === 's3' ? { s3: toS3Settings(c) } : {}),
    maxConcurrentQueries: c.MAX_CONCURRENT_QUERIES,
    maxConcurrentPerUser:
      c.MAX_CONCURRENT_PER_USER > 0
        ? Math.min(c.MAX_CONCURRENT_PER_USER, c.MAX_CONCURRENT_QUERIES)
        : Math.max(1, c.MAX_CONCURRENT_QUERIES - 1),
    maxQueuedQueries: c.MAX_QUEUED_QUERIES,
    maxResultBytes: c.MAX_RESULT_BYTES,
    shutdownGraceMs: c.SHUTDOWN_GRACE_MS,
    resultRetainMs: c.RESULT_RETAIN,
    maxQueries: c.MAX_QUERIES,
    upstreamTimeoutMs: c.UPSTREAM_TIMEOUT_MS,
    authCacheTtlMs: c.AUTH_CACHE_TTL_MS,
    maxBodyBytes: c.MAX_BODY_BYTES,
    logLevel: c.LOG_LEVEL,
    metricsToken: c.METRICS_TOKEN,
    registry: c.REGISTRY,
    ...(c.REGISTRY === 'redis' ? { redis: toRedisSettings(c) } : {}),
  }
}

function toRedisSettings(c: z.infer<typeof configSchema>): RedisSettings {
  if (c.REDIS_URL === '') {
    throw new ConfigError('REDIS_URL (--redis-url) is required with REGISTRY=redis')
  }
  return { url: c.REDIS_URL, keyPrefix: c.REDIS_KEY_PREFIX, leaseMs: c.CLUSTER_LEASE_MS }
}

function flagOf(name: string): string {
  return name in SETTINGS ? SETTINGS[name as SettingName].flag : name.toLowerCase()
}

/** The `--help` text: every setting with its flag, default and meaning. */
export function formatHelp(command: string): string {
  const lines = [
    `Usage: ${command} [--flag value …]`,
    '',
    'Every flag can also be set by its environment variable.',
    '',
  ]
  for (const [name, s] of Object.entries(SETTINGS)) {
    const def =
      s.default === undefined
        ? '(required)'
        : s.default === ''
          ? '(default none)'
          : `(default ${s.default})`
    lines.push(`  --${s.flag.padEnd(24)} ${name.padEnd(24)} ${s.help} ${def}`)
  }
  lines.push(`  --${'help'.padEnd(24)} ${''.padEnd(24)} Print this help`)
  lines.push(`  --${'version'.padEnd(24)} ${''.padEnd(24)} Print the version`)
  return lines.join('\n')
}
