/**
 * Node wiring: config → pino, undici, store driver, registry, app, HTTP server. Node only.
 * `startNodeGateway` is what the CLI entry and the end-to-end tests start.
 */
import { createHash, hash, randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { pino, type Logger as PinoLogger } from 'pino'
import { createGateway, type GatewayApp } from '../../app.ts'
import type { Config } from '../../config/config.ts'
import type { AppDeps } from '../../deps.ts'
import type { IncrementalHash } from '../../sha256.ts'
import type { Logger } from '../../logger.ts'
import { toRecordKey, toResultKey } from '../../domain/query-id.ts'
import { toRedactedUrl } from '../../redact-url.ts'
import { ConfigError } from '../../errors.ts'
import { probeStore } from '../../ops/readiness.ts'
import { createMemoryRegistry } from '../../registry/memory.ts'
import { rebuildRegistry } from '../../registry/rebuild.ts'
import { messageOf } from '../../store/streams.ts'
import type { BlobStore } from '../../store/types.ts'
import { toOneLine } from '../../upstream/kylin-error.ts'
import { createKylinClient } from '../../upstream/client.ts'
import { createShadowRunner } from '../../shadow/shadow-runner.ts'
import { toUpstreamRouter } from '../../upstream/upstream-router.ts'
import { createNodeDocsAssets, findSwaggerUiDist } from './docs-assets.ts'
import { preferKylinCsvKernel } from '../../export/kylin-csv/kernel-choice.ts'
import { createExportThreads } from './export-thread/export-threads.ts'
import { createThreadedExporter } from './export-thread/threaded-exporter.ts'
import { startHttpServer } from './http-server.ts'
import { createPollListener } from './poll-listener.ts'
import { createMetricsHandler, createPrometheusMetrics } from './metrics.ts'
import { createNodeStore, describeS3Store } from './store.ts'
import { createUndiciFetch } from './undici-fetch.ts'
import type { NodeWebhookOptions, NodeWebhooks } from './webhooks.ts'

export const SHUTDOWN_MESSAGE =
  'The gateway shut down before the query finished; no result was kept. Please submit it again.'

const SHADOW_SHUTDOWN_MESSAGE =
  'The gateway shut down before the shadow run ended; it is not run again, so there is no verdict.'

/** package.json's version; the file sits two levels up from both src/runtime and dist/runtime. */
export const GATEWAY_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string
  }
).version

/** The upstream, or with KYLIN_UPSTREAMS each project's and the default (`*`); no user:password. */
function describeUpstreams(config: Config): string {
  const { targets, projects } = config.upstreams
  if (targets.length === 1) return toRedactedUrl(config.upstreamUrl)
  const urlOf = new Map(targets.map((target) => [target.name, toRedactedUrl(target.url)]))
  const routes = Object.entries(projects).map(([project, name]) => `${project}=${urlOf.get(name)}`)
  return [...routes, `*=${toRedactedUrl(config.upstreamUrl)}`].join(',')
}

/** Which store, and where its results go; never its credentials. */
function describeStore(config: Config, store: BlobStore): string {
  if (store.name === 'fs') return `fs (${resolve(config.dataDir)})`
  if (store.name === 'memory') return `memory (${config.memoryStoreMaxBytes} bytes)`
  if (store.name === 's3' && config.s3) return describeS3Store(config.s3)
  return store.name
}

export interface NodeGateway {
  /** e.g. http://127.0.0.1:8080 */
  url: string
  gateway: GatewayApp
  store: BlobStore
  logger: PinoLogger
  /**
   * Shuts down: no new queries, up to `graceMs` for running ones to finish, the rest stopped
   * (FAILED), then sockets and the upstream pool closed.
   */
  close(graceMs?: number): Promise<void>
}

export interface NodeGatewayOptions {
  /** Where logs go (default stdout); tests pass a stream to read them. */
  logDestination?: NodeJS.WritableStream
  /**
   * A store built by the caller instead of the one STORE names; tests use it to run a Node
   * gateway on an R2 bucket (Miniflare), which STORE=r2 alone cannot reach from Node.
   */
  store?: BlobStore
  /** Tests: a resolver standing in for DNS in the webhook sender's address checks. */
  resolveWebhookHost?: NodeWebhookOptions['resolve']
}

export function createNodeLogger(config: Config, destination?: NodeJS.WritableStream): PinoLogger {
  return pino(
    {
      level: config.logLevel,
      base: { service: 'kylin-async-gateway' },
      // Credentials must never reach a log, whatever object a caller passes.
      redact: {
        paths: [
          'authorization',
          'cookie',
          '*.authorization',
          '*.cookie',
          'headers.authorization',
          'headers.cookie',
          'credentials',
          '*.credentials',
        ],
        censor: '[redacted]',
      },
    },
    destination ?? pino.destination({ sync: false }),
  )
}

/** node:crypto's SHA-256 runs at native speed, well above the export's wire speed. */
export function createSha256(): IncrementalHash {
  const hash = createHash('sha256')
  return {
    update: (chunk) => void hash.update(chunk),
    digest: async () => hash.digest('hex'),
  }
}

/** How long start-up waits for the store to take its probe write. */
const STORE_CHECK_TIMEOUT_MS = 15_000

/**
 * A store that cannot take a write is a setting to change, said in one line before anything
 * serves: a DATA_DIR that cannot be created or written, a bucket that refuses the credentials.
 */
async function checkStoreAtStart(config: Config, store: BlobStore): Promise<void> {
  try {
    await probeStore(store, AbortSignal.timeout(STORE_CHECK_TIMEOUT_MS))
  } catch (error) {
    const timedOut = error instanceof Error && error.name === 'TimeoutError'
    const reason = timedOut
      ? `no answer within ${STORE_CHECK_TIMEOUT_MS} ms`
      : toRedactedUrl(toOneLine(messageOf(error)))
    const what =
      store.name === 'fs'
        ? `DATA_DIR (--data-dir) ${resolve(config.dataDir)} does not take a write (${reason}); make it a directory the gateway's user can write`
        : store.name === 's3' && config.s3
          ? `STORE (--store) s3: ${describeS3Store(config.s3)} does not take a write (${reason}); check S3_ENDPOINT, S3_BUCKET and the credentials`
          : `STORE (--store) ${store.name} does not take a write (${reason})`
    throw new ConfigError(what)
  }
}

export async function startNodeGateway(
  config: Config,
  options: NodeGatewayOptions = {},
): Promise<NodeGateway> {
  // First: a store setting it cannot use stops start-up before anything else is opened.
  const results = options.store
    ? { store: options.store, close: async () => {} }
    : await createNodeStore(config)
  const store = results.store
  await checkStoreAtStart(config, store).catch(async (error: unknown) => {
    await results.close()
    throw error
  })
  const logger = createNodeLogger(config, options.logDestination)
  const upstream = createUndiciFetch({
    connectTimeoutMs: 10_000,
    headersTimeoutMs: config.upstreamTimeoutMs,
    bodyTimeoutMs: config.upstreamTimeoutMs,
  })
  // Whichever registry pushes a record out, its files in the store go with it.
  const removeEvicted = (id: string) => {
    void Promise.all([store.delete(toResultKey(id)), store.delete(toRecordKey(id))]).catch(
      (err: unknown) => logger.warn({ err, queryId: id }, 'evicted result not removed'),
    )
  }
  // Redis, when shared by several instances, is the source of truth for records and slots.
  const cluster = config.redis
    ? // Loaded only with Redis configured: ioredis alone is ~25 MB of RSS.
      await (
        await import('./cluster.ts')
      ).startNodeCluster(config, config.redis, {
        store,
        logger,
        now: Date.now,
        onEvict: removeEvicted,
      })
    : null
  const registry = cluster
    ? cluster.registry
    : createMemoryRegistry({
        maxRecords: config.maxQueries,
        onEvict: (record) => removeEvicted(record.id),
      })

  // CSV_KERNEL: WebAssembly by default on Node, where it measurably pays (README, Performance).
  preferKylinCsvKernel(config.csvKernel)
  // Exports run on threads of their own, each with a small capped heap (EXPORT_THREADS).
  const exportThreads =
    config.exportThreads > 0
      ? createExportThreads({
          threads: config.exportThreads,
          heapMb: config.exportThreadHeapMb,
          csvKernel: config.csvKernel,
        })
      : null

  // Signed webhooks when queries end: pending ones in Redis with several instances, else files.
  // Loaded only with WEBHOOK_* set: their sender is undici's fetch, the whole of undici's index.
  let webhooks: NodeWebhooks | null = null
  if (config.webhooks) {
    const { startNodeWebhooks } = await import('./webhooks.ts')
    webhooks = await startNodeWebhooks(config, config.webhooks, {
      logger: logger as unknown as Logger,
      now: Date.now,
      pending: cluster?.webhookDeliveries(config.webhooks.maxPending),
      resolve: options.resolveWebhookHost,
    }).catch(async (error: unknown) => {
      await cluster?.close()
      await results.close()
      throw new ConfigError(
        `DATA_DIR (--data-dir) ${resolve(config.dataDir)}: pending webhooks cannot be kept in its webhooks folder (${toOneLine(messageOf(error))})`,
      )
    })
  }
  if (webhooks) cluster?.useWebhooks(webhooks.dispatcher)

  const swaggerUiDist = findSwaggerUiDist()
  if (!swaggerUiDist) logger.warn('swagger-ui-dist is not installed; /docs only links the document')
  const prometheus = createPrometheusMetrics({
    upstreams: config.upstreams.targets.map((target) => target.name),
  })
  const background = new Set<Promise<void>>()
  // Every upstream's client shares the one undici pool and its timeouts.
  const kylinClientFor = (baseUrl: string) =>
    createKylinClient({ baseUrl, fetch: upstream.kylinFetch })
  const kylin = kylinClientFor(config.upstreamUrl)
  const deps: AppDeps = {
    config,
    store,
    registry,
    kylin,
    upstreams: toUpstreamRouter(config.upstreams, kylin, kylinClientFor),
    fetch: upstream.fetch,
    upstreamCheckFetch: upstream.kylinFetch,
    logger: logger as unknown as Logger,
    defer: (task) => {
      const promise = task().catch((err: unknown) =>
        logger.error({ err }, 'background task failed'),
      )
      background.add(promise)
      void promise.finally(() => background.delete(promise))
    },
    now: Date.now,
    newId: randomUUID,
    createHash: createSha256,
    hashText: (text) => hash('sha256', text, 'hex'),
    metrics: prometheus.metrics,
    ...(webhooks ? { webhooks: webhooks.dispatcher } : {}),
    sendStoredFile: results.sendStoredFile,
  }
  const shadowRunner = config.shadow
    ? createShadowRunner({
        ...deps,
        shadowKylin: kylinClientFor(config.shadow.url),
        settings: config.shadow,
      })
    : undefined
  // Per instance: its own limit and queue; the verdict goes into the shared record.
  if (shadowRunner) deps.shadow = shadowRunner
  const exporter = exportThreads ? createThreadedExporter(exportThreads) : undefined
  const gateway = createGateway(deps, {
    docsAssets: swaggerUiDist ? createNodeDocsAssets(swaggerUiDist) : undefined,
    // REGISTRY=redis: queries run here under cluster-wide limits, with leases and remote stops.
    ...(cluster ? { runner: cluster.createRunner({ ...deps, exporter }) } : {}),
    exporter,
  })

  prometheus.watchQueue(gateway)
  // Node only: Workers have no process to describe, and each isolate would count alone.
  gateway.app.get('/metrics', createMetricsHandler(prometheus.registry, config.metricsToken))

  // Before serving: results of an earlier process come back, its unfinished queries end FAILED.
  // (Not with Redis: its records outlive any one process, and leases fail what a process left.)
  const rebuilt = cluster
    ? null
    : await rebuildRegistry({
        store,
        registry,
        now: Date.now,
        // A query the restart ended sends its FAILED event like any other.
        onInterrupted: async (record) => {
          if (record.callbackUrl) await webhooks?.dispatcher.queryEnded(record, record.callbackUrl)
        },
      })
  if (rebuilt && rebuilt.restored + rebuilt.interrupted + rebuilt.dropped > 0) {
    logger.info(rebuilt, 'registry rebuilt from the store')
  }

  // Retention: Kylin deletes results older than its retain days on a schedule; so do we.
  const sweep = setInterval(
    () => {
      gateway
        .removeExpired()
        .then((removed) => removed > 0 && logger.info({ removed }, 'expired results removed'))
        .catch((err: unknown) => logger.warn({ err }, 'retention sweep failed'))
    },
    Math.min(config.resultRetainMs, 3_600_000),
  )
  sweep.unref()

  const answerPoll = gateway.answerPoll
  const server = await startHttpServer(
    gateway.app.fetch,
    config,
    answerPoll && createPollListener(answerPoll),
  )
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : config.port
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
  const upstreamShown = describeUpstreams(config)
  const storeShown = describeStore(config, store)
  logger.info(
    {
      version: GATEWAY_VERSION,
      listen: `${config.host}:${port}`,
      upstream: upstreamShown,
      store: storeShown,
      metricsToken: config.metricsToken !== '',
      // Whether, never which: the secrets sign links and stay out of every log.
      signedLinks: config.links !== undefined,
      ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
    },
    `kylin-async-gateway ${GATEWAY_VERSION} listening on ${url}, upstream ${upstreamShown}, store ${storeShown}`,
  )

  return {
    url,
    gateway,
    store,
    logger,
    async close(graceMs = 0) {
      clearInterval(sweep)
      gateway.drain()
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      if (graceMs > 0 && background.size > 0) {
        await Promise.race([
          Promise.allSettled([...background]),
          new Promise((resolve) => setTimeout(resolve, graceMs).unref()),
        ])
      }
      // What did not finish in the grace period ends FAILED (recorded beside its blob), not lost.
      await gateway.stopAll(SHUTDOWN_MESSAGE)
      // A stopped query hands no shadow on; those still running or waiting end now.
      shadowRunner?.abortAll(SHADOW_SHUTDOWN_MESSAGE)
      await Promise.allSettled([...background])
      // After the queries: a query stopped above has queued its event, kept for the next start.
      await webhooks?.close()
      // Idle keep-alive sockets would otherwise hold server.close() open.
      if ('closeAllConnections' in server) server.closeAllConnections()
      await closed
      await upstream.close()
      await exportThreads?.close()
      await cluster?.close()
      await results.close()
      logger.flush()
    },
  }
}
