/**
 * The gateway's configuration: every setting parsed and checked together, one line per mistake.
 * Portable: `parseConfig` takes a plain record; runtimes pass `process.env` or the Worker `env`.
 */
import { ConfigError } from '../errors.ts'
import { toRedactedUrl } from '../redact-url.ts'
import { toRedisSettings, type RedisSettings } from './cluster-settings.ts'
import { toLinkSettings, type LinkSettings } from './link-settings.ts'
import { flagOf, SECRET_SETTINGS, SETTINGS, settingsSchema } from './settings.ts'
import { toShadowSettings, type ShadowSettings } from './shadow-settings.ts'
import { toS3Settings, type S3Settings } from './store-settings.ts'
import { toUpstreamRoutes, type UpstreamRoutes } from './upstream-settings.ts'
import { toWebhookSettings, type WebhookSettings } from './webhook-settings.ts'

export interface Config {
  /** The default upstream's base URL (the only one without KYLIN_UPSTREAMS). */
  upstreamUrl: string
  /** Every upstream and the projects routed to each (KYLIN_UPSTREAMS). */
  upstreams: UpstreamRoutes
  port: number
  host: string
  /** The Node server's idle keep-alive, header and request timeouts. */
  keepAliveTimeoutMs: number
  headersTimeoutMs: number
  requestTimeoutMs: number
  /** Where clients reach the gateway, without a trailing slash; absent: each request's origin. */
  publicUrl?: string
  store: 'fs' | 'memory' | 'r2' | 's3'
  dataDir: string
  memoryStoreMaxBytes: number
  /** Present when `store` is `s3`. */
  s3?: S3Settings
  maxConcurrentQueries: number
  maxConcurrentPerUser: number
  maxQueuedQueries: number
  maxResultBytes: number
  /** Node: the CSV kernel's fast path (the same bytes either way). */
  csvKernel: 'wasm' | 'js'
  /** Node: exports at once on threads of their own (0: all on the main thread). */
  exportThreads: number
  /** Node: one export thread's old-generation heap, MiB. */
  exportThreadHeapMb: number
  shutdownGraceMs: number
  resultRetainMs: number
  maxQueries: number
  upstreamTimeoutMs: number
  authCacheTtlMs: number
  maxBodyBytes: number
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
  /** Bearer token for /metrics; `''` leaves it open. */
  metricsToken: string
  /** Signed links; absent when LINK_SECRET is unset (links are off). */
  links?: LinkSettings
  registry: 'memory' | 'redis'
  /** Present when `registry` is `redis`. */
  redis?: RedisSettings
  /** Present when WEBHOOK_SECRET and WEBHOOK_ALLOWED_HOSTS are both set: webhooks are on. */
  webhooks?: WebhookSettings
  /** Present when KYLIN_SHADOW_URL is set: sampled queries run again there and are compared. */
  shadow?: ShadowSettings
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
  const parsed = settingsSchema.safeParse(input)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const name = String(issue?.path[0] ?? 'configuration')
    const given = input[name]
    const what =
      given === undefined
        ? 'is required'
        : SECRET_SETTINGS.has(name)
          ? `has a bad value: ${issue?.message}`
          : `has a bad value ${JSON.stringify(toRedactedUrl(given))}: ${issue?.message}`
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
  // Node refuses to start a server whose header timeout outlasts its request timeout.
  if (c.REQUEST_TIMEOUT_MS > 0 && c.HEADERS_TIMEOUT_MS > c.REQUEST_TIMEOUT_MS) {
    throw new ConfigError(
      `HEADERS_TIMEOUT_MS (--headers-timeout-ms) has a bad value ${JSON.stringify(input.HEADERS_TIMEOUT_MS)}: ` +
        `must be at most REQUEST_TIMEOUT_MS (${c.REQUEST_TIMEOUT_MS})`,
    )
  }
  const links = toLinkSettings(c)
  const webhooks = toWebhookSettings(c)
  const shadow = toShadowSettings(c)
  const upstream = toUpstreamRoutes(c)
  return {
    upstreamUrl: upstream.defaultUrl,
    upstreams: upstream.routes,
    port: c.PORT,
    host: c.HOST,
    keepAliveTimeoutMs: c.KEEP_ALIVE_TIMEOUT_MS,
    headersTimeoutMs: c.HEADERS_TIMEOUT_MS,
    requestTimeoutMs: c.REQUEST_TIMEOUT_MS,
    ...(c.PUBLIC_URL ? { publicUrl: c.PUBLIC_URL } : {}),
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
    csvKernel: c.CSV_KERNEL,
    exportThreads: c.EXPORT_THREADS,
    exportThreadHeapMb: c.EXPORT_THREAD_HEAP_MB,
    shutdownGraceMs: c.SHUTDOWN_GRACE_MS,
    resultRetainMs: c.RESULT_RETAIN,
    maxQueries: c.MAX_QUERIES,
    upstreamTimeoutMs: c.UPSTREAM_TIMEOUT_MS,
    authCacheTtlMs: c.AUTH_CACHE_TTL_MS,
    maxBodyBytes: c.MAX_BODY_BYTES,
    logLevel: c.LOG_LEVEL,
    metricsToken: c.METRICS_TOKEN,
    ...(links ? { links } : {}),
    registry: c.REGISTRY,
    ...(c.REGISTRY === 'redis' ? { redis: toRedisSettings(c) } : {}),
    ...(webhooks ? { webhooks } : {}),
    ...(shadow ? { shadow } : {}),
  }
}
