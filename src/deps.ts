/**
 * AppDeps: everything the portable app needs from its runtime, passed in so tests and each
 * runtime (Node, Workers) wire their own. Nothing here imports a runtime.
 */
import type { Config } from './config/config.ts'
import type { Logger } from './logger.ts'
import type { IncrementalHash } from './sha256.ts'
import type { GatewayMetrics } from './ops/metrics.ts'
import type { Registry } from './registry/types.ts'
import type { BlobStore, ByteRange } from './store/types.ts'
import type { KylinClient } from './upstream/types.ts'
import type { UpstreamRouter } from './upstream/upstream-router.ts'
import type { WebhookNotifier } from './webhooks/types.ts'
import type { Credentials } from './domain/caller.ts'
import type { QueryRecord, UpstreamQuery } from './domain/query.ts'

/** Where a query sampled for a shadow run goes once its primary run has ended (shadow/). */
export interface ShadowHandOff {
  /**
   * Returns at once: the shadow runs later, on its own limit, never delaying the query. A query
   * `stopped` (by its user, a delete or a shutdown) is not shadowed: its verdict says so.
   */
  afterPrimary(
    ended: QueryRecord,
    query: UpstreamQuery,
    credentials: Credentials,
    stopped?: boolean,
  ): void
}

/**
 * Node with the fs store: a stored result written to the client's connection with Node streams,
 * past the web stream the HTTP adapter would otherwise copy from. Absent on Workers.
 */
export interface StoredFileSender {
  /** Whether `env`, the runtime's bindings of one request, holds a connection this can write to. */
  reaches(env: unknown): boolean
  /**
   * Writes the status and headers of `answer()`, then `range` of the blob `key`, to that
   * connection, and answers the Response the app returns instead (one that says it is sent
   * already); `null`, with nothing written and `answer` not called, when the blob does not exist.
   * A blob that ends before `range` does, or fails to read, resets the connection: a client never
   * takes a cut-off file for a whole one.
   */
  send(
    env: unknown,
    key: string,
    range: ByteRange,
    answer: () => Response,
    countBytes?: (bytes: number) => void,
  ): Promise<Response | null>
}

export interface AppDeps {
  config: Config
  store: BlobStore
  registry: Registry
  /** The (default) upstream Kylin's query and identity calls. */
  kylin: KylinClient
  /**
   * The upstreams of KYLIN_UPSTREAMS with their clients; the app builds it from the config when
   * absent (`toUpstreamRouter`). Runners take it from here.
   */
  upstreams?: UpstreamRouter
  /** fetch used to pass other /kylin/* requests through to the upstream. */
  fetch: typeof fetch
  /**
   * fetch of the readiness check's call to each upstream; `fetch` when absent. Node passes the
   * Kylin client's own, so a probe does not load the pass-through's HTTP parser (~9 MiB of RSS).
   */
  upstreamCheckFetch?: typeof fetch
  logger: Logger
  /**
   * Runs background work past the request that started it: a tracked promise on Node,
   * `ctx.waitUntil` or a Durable Object on Workers. Must not throw; failures are the task's own.
   */
  defer: (task: () => Promise<void>) => void
  /** Milliseconds since the epoch. */
  now: () => number
  /** A new SHA-256 hasher: results are hashed on their way into the store. */
  createHash: () => IncrementalHash
  /** SHA-256 hex of a short text in one synchronous call, where the runtime has one (Node). */
  hashText?: (text: string) => string
  /** A new query id (a random UUID). */
  newId: () => string
  /** Operational counts (Prometheus on Node); nothing is counted when absent. */
  metrics?: GatewayMetrics
  /**
   * Queues the signed webhook of a query that ended with a callback URL (durably: files, Redis,
   * Durable Object storage); callback URLs are refused at submit when absent or webhooks are off.
   */
  webhooks?: WebhookNotifier
  /** Shadow runs (KYLIN_SHADOW_URL); absent: none, even for records sampled at submit. */
  shadow?: ShadowHandOff
  /** Whole and ranged downloads of stored results sent by the runtime; absent: web streams. */
  sendStoredFile?: StoredFileSender
}
