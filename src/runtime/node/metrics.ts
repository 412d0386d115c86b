/**
 * GatewayMetrics on prom-client, and the GET /metrics handler with its optional bearer token.
 * Node only. Per-request counts are plain numbers read at scrape time, so they cost an increment.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { Context } from 'hono'
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { AppEnv } from '../../api/app-env.ts'
import { GatewayError } from '../../errors.ts'
import type {
  GatewayMetrics,
  StatusCallKind,
  UpstreamCall,
  UpstreamErrorKind,
} from '../../ops/metrics.ts'

export interface QueueSource {
  readonly activeQueries: number
  readonly queuedQueries: number
}

export interface PrometheusMetrics {
  metrics: GatewayMetrics
  registry: Registry
  /** Where the running and queued gauges read from, once the gateway exists. */
  watchQueue(source: QueueSource): void
}

const CALLS: UpstreamCall[] = ['query', 'authentication']
const ERROR_KINDS: UpstreamErrorKind[] = ['timeout', 'network', 'status', 'invalid_answer']
const STATUS_CALL_KINDS: StatusCallKind[] = ['poll', 'wait', 'events']

/** Upstream answers take from milliseconds (identity) to half an hour (a large export). */
const DURATION_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800,
]

/** A registry of its own (not prom-client's global one), so each gateway counts alone. */
export interface PrometheusMetricsOptions {
  /**
   * The upstreams' names (KYLIN_UPSTREAMS: their hosts), the values of the `upstream` label, the
   * default first; a name not listed (or none: a record from before routing) counts as the
   * default's, so the label stays bounded whatever a caller passes (`other` only without names).
   */
  upstreams?: readonly string[]
}

export function createPrometheusMetrics(options: PrometheusMetricsOptions = {}): PrometheusMetrics {
  const upstreamNames = options.upstreams ?? []
  const known = new Set(upstreamNames)
  const toUpstreamLabel = (name: string | undefined) =>
    name !== undefined && known.has(name) ? name : (upstreamNames[0] ?? 'other')
  const registry = new Registry()
  const registers = [registry]
  collectDefaultMetrics({ register: registry })

  let queue: QueueSource = { activeQueries: 0, queuedQueries: 0 }
  let identityLookups = 0
  let identityMisses = 0
  const statusCalls: Record<StatusCallKind, number> = { poll: 0, wait: 0, events: 0 }

  const finished = new Counter({
    name: 'kylin_gateway_queries_finished_total',
    help: 'Queries that ended, by final state and upstream',
    labelNames: ['state', 'upstream'],
    registers,
  })
  new Gauge({
    name: 'kylin_gateway_queries_running',
    help: 'Queries running upstream now',
    registers,
    collect() {
      this.set(queue.activeQueries)
    },
  })
  new Gauge({
    name: 'kylin_gateway_queries_queued',
    help: 'Queries waiting for a slot (queue depth)',
    registers,
    collect() {
      this.set(queue.queuedQueries)
    },
  })
  const upstreamDuration = new Histogram({
    name: 'kylin_gateway_upstream_duration_seconds',
    help: 'Time from an upstream call to its answer headers or its failure, by call and upstream',
    labelNames: ['call', 'upstream'],
    buckets: DURATION_BUCKETS,
    registers,
  })
  const upstreamErrors = new Counter({
    name: 'kylin_gateway_upstream_errors_total',
    help: 'Failed upstream calls, by call, kind (timeout, network, status, invalid_answer) and upstream',
    labelNames: ['call', 'kind', 'upstream'],
    registers,
  })
  // Every series exists from the start, at 0: a rate over a fresh gateway is 0, not missing.
  for (const upstream of upstreamNames.length > 0 ? upstreamNames : ['other']) {
    for (const state of ['SUCCESSFUL', 'FAILED']) finished.inc({ state, upstream }, 0)
    for (const call of CALLS) {
      for (const kind of ERROR_KINDS) upstreamErrors.inc({ call, kind, upstream }, 0)
    }
  }
  const exportedRows = new Counter({
    name: 'kylin_gateway_exported_rows_total',
    help: 'Rows of results kept in the store',
    registers,
  })
  const exportedBytes = new Counter({
    name: 'kylin_gateway_exported_bytes_total',
    help: 'CSV bytes of results kept in the store',
    registers,
  })
  const downloadBytes = new Counter({
    name: 'kylin_gateway_download_bytes_total',
    help: 'Bytes of result downloads sent to clients (after gzip)',
    registers,
  })
  const shadowVerdicts = new Counter({
    name: 'kylin_gateway_shadow_verdicts_total',
    help: 'Shadow runs (KYLIN_SHADOW_URL) by outcome: match, mismatch (another answer, or one run failed), skipped',
    labelNames: ['outcome'],
    registers,
  })
  for (const outcome of ['match', 'mismatch', 'skipped']) shadowVerdicts.inc({ outcome }, 0)
  new Counter({
    name: 'kylin_gateway_identity_cache_hits_total',
    help: 'Identity look-ups answered from the cache',
    registers,
    collect() {
      this.reset()
      this.inc(identityLookups - identityMisses)
    },
  })
  new Counter({
    name: 'kylin_gateway_identity_cache_misses_total',
    help: 'Identity look-ups that asked the upstream',
    registers,
    collect() {
      this.reset()
      this.inc(identityMisses)
    },
  })

  new Counter({
    name: 'kylin_gateway_status_calls_total',
    help: 'Status calls answered, by kind (poll, wait, events)',
    labelNames: ['kind'],
    registers,
    collect() {
      this.reset()
      for (const kind of STATUS_CALL_KINDS) this.inc({ kind }, statusCalls[kind])
    },
  })

  const metrics: GatewayMetrics = {
    countFinishedQuery: (state, upstream) =>
      finished.inc({ state, upstream: toUpstreamLabel(upstream) }),
    observeUpstreamCall: (call, seconds, upstream) =>
      upstreamDuration.observe({ call, upstream: toUpstreamLabel(upstream) }, seconds),
    countUpstreamError: (call, kind, upstream) =>
      upstreamErrors.inc({ call, kind, upstream: toUpstreamLabel(upstream) }),
    countExport(rows, bytes) {
      exportedRows.inc(rows)
      exportedBytes.inc(bytes)
    },
    countDownloadBytes: (bytes) => downloadBytes.inc(bytes),
    countIdentityLookup: () => void identityLookups++,
    countIdentityMiss: () => void identityMisses++,
    countShadowVerdict: (outcome) => shadowVerdicts.inc({ outcome }),
    countStatusCall: (kind) => void statusCalls[kind]++,
  }
  return {
    metrics,
    registry,
    watchQueue(source) {
      queue = source
    },
  }
}

/** GET /metrics: the registry in Prometheus text; with a token, only for `Bearer <token>`. */
export function createMetricsHandler(registry: Registry, token: string) {
  const expected = token ? digest(token) : undefined
  return async (c: Context<AppEnv>) => {
    if (expected && !hasToken(c.req.header('authorization'), expected)) {
      throw new GatewayError(
        401,
        { id: 'METRICS_TOKEN_REQUIRED' },
        { headers: { 'WWW-Authenticate': 'Bearer realm="metrics"' } },
      )
    }
    return c.body(await registry.metrics(), 200, { 'Content-Type': registry.contentType })
  }
}

function hasToken(header: string | undefined, expected: Buffer): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')
  // Digests have one length whatever was sent, so the comparison time says nothing about it.
  return match !== null && timingSafeEqual(digest(match[1]!), expected)
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest()
}
