/**
 * Runs one query: upstream sync call → export (Kylin JSON → CSV) → store → registry.
 * Portable. Bounded by a limiter; a failure of any step ends FAILED with no blob left behind.
 */
import type { AppDeps } from '../deps.ts'
import { GatewayError } from '../errors.ts'
import type { Limiter } from './limiter.ts'
import { NO_METRICS, toUpstreamErrorKind } from '../ops/metrics.ts'
import { toResultKey } from '../domain/query-id.ts'
import { removeFilesIfDeleted, writeRecordFile } from '../registry/record-file.ts'
import type { QueryRecord, UpstreamQuery } from '../domain/query.ts'
import { toFailureText } from '../upstream/kylin-error.ts'
import {
  exportResult,
  toExportEncoding,
  toExportFormat,
  type Exporter,
} from '../export/export-result.ts'
import type { Credentials } from '../domain/caller.ts'
import type { KylinClient } from '../upstream/types.ts'
import {
  createLiveResults,
  FollowAbortedError,
  type FollowResult,
  type LiveResults,
} from './live-results.ts'

/** How often progress (rows, bytes) is written to the registry while a query runs. */
const PROGRESS_INTERVAL_MS = 500

/**
 * Where queries run. On Node, in this process (`createQueryRunner`); on Workers, in the query's
 * Durable Object, so a query outlives the request that submitted it.
 */
export interface QueryRunner {
  /** Hands the query to the background; resolves once it is queued, not when it ends. */
  start(record: QueryRecord, query: UpstreamQuery, credentials: Credentials): Promise<void>
  /** Aborts a queued or running query (its late result is discarded); `false` if not running. */
  abort(id: string, reason: string): Promise<boolean>
  /** Stops every query of this runner (shutdown); each ends FAILED with `reason`. */
  abortAll(reason: string): Promise<void>
  /** Queries running upstream here, and waiting for a slot (0 where not known). */
  readonly active: number
  readonly queued: number
  /** Queries waiting for a slot, asked now, where the queue is shared by several instances. */
  countQueued?(): Promise<number>
  /** The live bytes of a query running here (see live-results.ts); `null` where it runs elsewhere. */
  follow?(id: string): Promise<FollowResult>
}

export type RunnerDeps = Pick<
  AppDeps,
  | 'kylin'
  | 'store'
  | 'registry'
  | 'logger'
  | 'defer'
  | 'now'
  | 'config'
  | 'createHash'
  | 'metrics'
  | 'webhooks'
  | 'shadow'
  | 'upstreams'
> & {
  /** Runs the export: on threads of its own on Node; `exportResult`, in this thread, when absent. */
  exporter?: Exporter
  /** Where followers find the bytes of running exports; one of its own when absent. */
  live?: LiveResults
}

export function createQueryRunner(deps: RunnerDeps, limiter: Limiter): QueryRunner {
  const running = new Map<string, AbortController>()
  const metrics = deps.metrics ?? NO_METRICS
  const liveResults = deps.live ?? createLiveResults()

  async function execute(record: QueryRecord, query: UpstreamQuery, credentials: Credentials) {
    const { id } = record
    const controller = new AbortController()
    // Open while the query waits for a slot too, so a follower then gets every byte.
    const live = liveResults.open(id)
    // Started when the upstream call starts, not while the query waits in the queue.
    let timeout: AbortSignal | undefined
    running.set(id, controller)
    const log = deps.logger.child({ queryId: id })
    // The upstream chosen at submit (a record of before routing: its project's), by name only.
    const upstream = toRecordUpstream(deps, record, query)
    const started = deps.now()
    // One webhook per query, for the record it ended with (or, deleted, the reason it ended).
    let notified = false
    const notify = async (ended: QueryRecord) => {
      if (notified || !record.callbackUrl || !deps.webhooks) return
      notified = true
      await deps.webhooks.queryEnded(ended, record.callbackUrl)
    }
    const notifyDeleted = (message: string) =>
      notify({ ...record, state: 'FAILED', error: message, finishedAt: deps.now() })
    try {
      await limiter.run(
        async () => {
          if (!(await deps.registry.get(id)))
            throw new Error('The query was deleted before it ran.')
          timeout = AbortSignal.timeout(deps.config.upstreamTimeoutMs)
          const signal = AbortSignal.any([controller.signal, timeout])
          // A monotonic clock for a duration; deps.now is wall time (and fixed in tests).
          const called = performance.now()
          // A thread to export on starts while the upstream answers, not after.
          deps.exporter?.warm?.()
          let body: ReadableStream<Uint8Array>
          try {
            body = await upstream.kylin.query(query, credentials, signal)
          } finally {
            metrics.observeUpstreamCall('query', (performance.now() - called) / 1000, upstream.name)
          }
          let lastProgress = deps.now()
          // A store that says when it has written a chunk lets the export reuse its buffers.
          const recycle = deps.store.givesBack === true
          const exported = (deps.exporter ?? exportResult)(body, {
            source: { kind: 'kylin-json' },
            format: toExportFormat(record.options),
            hash: true,
            recycle,
            encode: toExportEncoding(record.options),
            onProgress: (rows, bytes) => {
              const now = deps.now()
              if (now - lastProgress < PROGRESS_INTERVAL_MS) return
              lastProgress = now
              // Progress is a hint: a registry that misses one (Redis reconnecting) loses nothing.
              deps.registry.update(id, { rows, bytes, updatedAt: now }).catch(() => {})
            },
          })
          // Hashed here unless the exporter hashes as it writes (an export thread on Node).
          const hash = exported.sha256 ? undefined : deps.createHash()
          const maxBytes = deps.config.maxResultBytes
          let size = 0
          const hashed = exported.stream.pipeThrough(
            new TransformStream<Uint8Array, Uint8Array>({
              transform(chunk, controller) {
                size += chunk.byteLength
                if (size > maxBytes) {
                  throw new GatewayError(413, {
                    text: `The result is larger than MAX_RESULT_BYTES (${maxBytes} bytes); no result was kept. Narrow the query or ask the operator to raise the limit.`,
                  })
                }
                hash?.update(chunk)
                // One check a chunk when nobody follows; a full follower holds the export back.
                // Followers keep what they get: a copy where the store gives chunks back, taken
                // before the store sees the chunk (enqueue may run its write at once).
                const followed = live.wanted
                  ? live.push(recycle ? chunk.slice() : chunk)
                  : undefined
                controller.enqueue(chunk)
                return followed
              },
            }),
          )
          const giveBack = recycle ? exported.giveBack : undefined
          const stored = await deps.store.put(toResultKey(id), hashed, { signal, giveBack })
          const summary = await exported.summary
          const sha256 = await (exported.sha256 ?? hash!.digest())
          const finishedAt = deps.now()
          const done = await deps.registry.update(id, {
            state: 'SUCCESSFUL',
            metadata: summary.metadata,
            rows: summary.rows,
            bytes: stored.size,
            partial: summary.partial,
            sha256,
            updatedAt: finishedAt,
            finishedAt,
          })
          if (!done || controller.signal.aborted) {
            // Deleted while it ran: the late result must not reappear.
            await deps.store.delete(toResultKey(id))
            const reason = controller.signal.reason
            await notifyDeleted(
              reason instanceof Error
                ? reason.message
                : 'The query was deleted before it finished.',
            )
            return
          }
          await notify(done)
          await writeRecordFile(deps, done)
          if (!(await removeFilesIfDeleted(deps, id))) return
          // After the result is kept and recorded: the shadow reads it back, never delays it.
          deps.shadow?.afterPrimary(done, query, credentials)
          // Followers end cleanly only now: the result is recorded and still there.
          live.end()
          metrics.countExport(summary.rows, stored.size)
          metrics.countFinishedQuery('SUCCESSFUL', upstream.name)
          log.info(
            { rows: summary.rows, bytes: stored.size, ms: finishedAt - started },
            'query succeeded',
          )
        },
        controller.signal,
        record.owner,
      )
    } catch (error) {
      // Followers learn at once: their streams error, never end as if whole.
      live.abort(new FollowAbortedError())
      await deps.store.delete(toResultKey(id)).catch(() => {})
      const message = toFailureMessage(
        error,
        controller.signal,
        timeout,
        deps.config.upstreamTimeoutMs,
      )
      const finishedAt = deps.now()
      const failed = await deps.registry.update(id, {
        state: 'FAILED',
        error: message,
        updatedAt: finishedAt,
        finishedAt,
      })
      if (failed) {
        await writeRecordFile(deps, failed)
          .then(() => removeFilesIfDeleted(deps, id))
          .catch(() => {})
        metrics.countFinishedQuery('FAILED', upstream.name)
        await notify(failed)
        // A stop or a shutdown is ours, not an answer of the old cluster: nothing to compare.
        deps.shadow?.afterPrimary(failed, query, credentials, controller.signal.aborted)
      } else {
        await removeFilesIfDeleted(deps, id).catch(() => {})
        await notifyDeleted(message)
      }
      // A stop, a delete or a shutdown is ours, not the upstream's; our own timeout is its.
      const kind = timeout?.aborted
        ? 'timeout'
        : controller.signal.aborted
          ? null
          : toUpstreamErrorKind(error)
      if (kind) metrics.countUpstreamError('query', kind, upstream.name)
      // Kylin's messages quote the SQL ("while executing SQL: …"), and SQL stays out of info logs.
      log.info({ ms: finishedAt - started }, 'query failed')
      log.debug({ error: message }, 'query failure')
    } finally {
      // Deleted as it ended, or ended any other way than recorded SUCCESSFUL: no clean end.
      live.abort(new FollowAbortedError())
      running.delete(id)
    }
  }

  return {
    async start(record, query, credentials) {
      deps.defer(() => execute(record, query, credentials))
    },
    async abortAll(reason) {
      for (const controller of running.values()) controller.abort(new Error(reason))
    },
    async abort(id, reason) {
      const controller = running.get(id)
      if (!controller) return false
      controller.abort(new Error(reason))
      return true
    },
    get active() {
      return limiter.active
    },
    get queued() {
      return limiter.queued
    },
    follow: async (id) => liveResults.follow(id),
  }
}

function toFailureMessage(
  error: unknown,
  stopped: AbortSignal,
  timeout: AbortSignal | undefined,
  timeoutMs: number,
): string {
  if (stopped.aborted && stopped.reason instanceof Error) return stopped.reason.message
  if (timeout?.aborted) {
    return `The query did not finish within ${timeoutMs} ms (UPSTREAM_TIMEOUT_MS), so the gateway stopped it; no result was kept.`
  }
  return toFailureText(error, 'The query')
}

/**
 * The upstream that runs a record's query: the one it names, else its project's (a record written
 * before routing, or naming an upstream since removed), else the one client the runtime gave.
 */
function toRecordUpstream(
  deps: Pick<AppDeps, 'kylin' | 'upstreams'>,
  record: QueryRecord,
  query: UpstreamQuery,
): { name: string | undefined; kylin: KylinClient } {
  const router = deps.upstreams
  if (!router) return { name: undefined, kylin: deps.kylin }
  return router.forRecord({ upstream: record.upstream, project: query.project })
}
