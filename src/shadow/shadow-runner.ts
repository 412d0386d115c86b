/**
 * Shadow runs: a sampled query run a second time on the new cluster (KYLIN_SHADOW_URL) once its
 * primary run has ended, on a concurrency limit of its own with a bounded queue (past it the
 * shadow is skipped and says so), compared by hash with the stored primary result; the verdict
 * goes into the record. Nothing of the shadow's answer is stored or served. Portable.
 */
import type { AppDeps, ShadowHandOff } from '../deps.ts'
import type { ShadowSettings } from '../config/shadow-settings.ts'
import type { Credentials } from '../domain/caller.ts'
import { toResultKey } from '../domain/query-id.ts'
import {
  encodingOf,
  formatOf,
  type QueryRecord,
  type ShadowVerdict,
  type UpstreamQuery,
} from '../domain/query.ts'
import { GatewayError } from '../errors.ts'
import { loadStreamDecoder } from '../export/encoding/text-decoder.ts'
import { createKylinJsonSource } from '../export/sources/kylin-json.ts'
import { createStoredCsvSource } from '../export/sources/stored-csv.ts'
import { NO_METRICS } from '../ops/metrics.ts'
import { removeFilesIfDeleted, writeRecordFile } from '../registry/record-file.ts'
import type { KylinClient } from '../upstream/types.ts'
import { toFailureText } from '../upstream/kylin-error.ts'
import { compareResults } from './compare-results.ts'
import { hasTopLevelOrderBy } from './order-by.ts'
import { createRowHashReader, type RowHashReader } from './row-hashes.ts'

/**
 * `afterPrimary` takes a query whose primary run has just ended (SUCCESSFUL or FAILED) and whose
 * record was sampled at submit (`record.shadow`); it returns at once.
 */
export interface ShadowRunner extends ShadowHandOff {
  /**
   * Shutdown: stops the shadow runs going on here (each ends FAILED with `reason`) and skips the
   * waiting ones, so that no shadow holds a shutdown up.
   */
  abortAll(reason: string): void
  /** Shadow runs going on here, and waiting for a slot. */
  readonly active: number
  readonly queued: number
}

export type ShadowRunnerDeps = Pick<
  AppDeps,
  'store' | 'registry' | 'logger' | 'defer' | 'now' | 'createHash' | 'metrics' | 'config'
> & {
  /** The client of the new cluster (KYLIN_SHADOW_URL), built like the primary's. */
  shadowKylin: KylinClient
  settings: ShadowSettings
}

interface ShadowJob {
  ended: QueryRecord
  query: UpstreamQuery
  credentials: Credentials
}

/** The verdict a sampled record starts with: RUNNING until its shadow run has ended. */
export const SHADOW_PENDING: ShadowVerdict = Object.freeze({
  status: 'RUNNING',
  match: null,
  rows: null,
  primaryRows: null,
  sha256: null,
  firstDifference: null,
})

export function createShadowRunner(deps: ShadowRunnerDeps): ShadowRunner {
  const { settings } = deps
  const metrics = deps.metrics ?? NO_METRICS
  const queue: ShadowJob[] = []
  let active = 0
  const running = new Set<AbortController>()
  /** Set by `abortAll`: later hand-offs are skipped with it. */
  let closedReason: string | undefined

  function pump(): void {
    while (active < settings.maxConcurrent && queue.length > 0) {
      const job = queue.shift()!
      active++
      deps.defer(() =>
        run(job)
          .catch((error: unknown) =>
            deps.logger.error(
              { queryId: job.ended.id, error: String(error).slice(0, 200) },
              'shadow run could not record its verdict',
            ),
          )
          .finally(() => {
            active--
            pump()
          }),
      )
    }
  }

  /** Writes the verdict; `false` when the query was deleted meanwhile (nothing to tell then). */
  async function record(ended: QueryRecord, verdict: ShadowVerdict): Promise<boolean> {
    const updated = await deps.registry.updateShadow?.(ended.id, verdict)
    if (!updated) return false
    await writeRecordFile(deps, updated)
    return removeFilesIfDeleted(deps, ended.id)
  }

  async function skip(ended: QueryRecord, message: string): Promise<void> {
    const verdict: ShadowVerdict = {
      ...SHADOW_PENDING,
      status: 'SKIPPED',
      message,
      finishedAt: deps.now(),
    }
    if (!(await record(ended, verdict))) return
    metrics.countShadowVerdict('skipped')
    deps.logger.info({ queryId: ended.id, project: ended.project }, 'shadow run skipped')
  }

  async function run(job: ShadowJob): Promise<void> {
    const { ended, query, credentials } = job
    const started = performance.now()
    const ordered = hasTopLevelOrderBy(query.sql)
    let verdict: ShadowVerdict
    let shadowReader: RowHashReader | undefined
    let primary: RowHashReader | null = null
    const stop = new AbortController()
    running.add(stop)
    try {
      const signal = AbortSignal.any([
        stop.signal,
        AbortSignal.timeout(deps.config.upstreamTimeoutMs),
      ])
      const body = await deps.shadowKylin.query(query, credentials, signal)
      shadowReader = createRowHashReader(body, (sink) => createKylinJsonSource(sink))
      primary = await openPrimary(ended)
      const comparison = await compareResults({
        primary: primary ?? emptyReader(),
        primaryColumns: ended.metadata ?? { names: [], types: [] },
        shadow: shadowReader,
        ordered,
        createHash: deps.createHash,
      })
      verdict = {
        status: 'SUCCESSFUL',
        match: primary !== null && comparison.match,
        rows: comparison.shadowRows,
        primaryRows: primary ? comparison.primaryRows : null,
        sha256: comparison.shadowSha256,
        firstDifference: primary
          ? comparison.firstDifference
          : `the primary run failed; the shadow answered ${comparison.shadowRows} rows`,
        finishedAt: deps.now(),
      }
    } catch (error) {
      // Neither body is left open: a stored file's handle, the shadow's connection.
      await Promise.all([shadowReader?.cancel(error), primary?.cancel(error)])
      const reason: unknown = stop.signal.reason
      const stopped = stop.signal.aborted && reason instanceof Error
      const message = stopped ? reason.message : toFailureText(error, 'The shadow run')
      const bothFailed = ended.state === 'FAILED'
      verdict = {
        status: 'FAILED',
        // Both runs failing is the same answer: the new cluster refuses what the old one did.
        // Stopped by a shutdown: no answer of the new cluster, so no verdict either way.
        match: stopped ? null : bothFailed,
        rows: null,
        primaryRows: bothFailed ? null : ended.rows,
        sha256: null,
        firstDifference:
          stopped || bothFailed
            ? null
            : `the shadow run failed where the primary answered ${ended.rows} rows`,
        message,
        finishedAt: deps.now(),
      }
    } finally {
      running.delete(stop)
    }
    // A query deleted meanwhile gets no verdict, and counts for nothing.
    if (!(await record(ended, verdict))) return
    metrics.countShadowVerdict(
      verdict.match === null ? 'skipped' : verdict.match ? 'match' : 'mismatch',
    )
    if (verdict.match === false) {
      // Counts only: never the rows, the SQL or the message (Kylin's quote the SQL).
      deps.logger.warn(
        {
          queryId: ended.id,
          project: ended.project,
          primaryRows: verdict.primaryRows,
          shadowRows: verdict.rows,
          shadowStatus: verdict.status,
          ms: Math.round(performance.now() - started),
        },
        'shadow mismatch',
      )
    }
  }

  /** The stored primary result read back as row hashes; `null` when the primary failed. */
  async function openPrimary(ended: QueryRecord): Promise<RowHashReader | null> {
    if (ended.state !== 'SUCCESSFUL') return null
    const blob = await deps.store.get(toResultKey(ended.id))
    if (!blob) {
      throw new GatewayError(404, {
        text: 'The primary result was deleted before the shadow run could compare it.',
      })
    }
    const encode = encodingOf(ended.options)
    const decode = encode === 'utf-8' ? undefined : await loadStreamDecoder(encode)
    return createRowHashReader(blob.body, (sink) =>
      createStoredCsvSource(
        {
          separator: ended.options.separator,
          header: ended.options.includeHeader,
          ...(ended.metadata ? { metadata: ended.metadata } : {}),
          encode,
        },
        sink,
        decode,
      ),
    )
  }

  /** Records a skipped verdict in the background; a failure to record it loses nothing else. */
  const skipLater = (ended: QueryRecord, message: string) =>
    deps.defer(() => skip(ended, message).catch(() => {}))

  return {
    afterPrimary(ended, query, credentials, stopped) {
      if (!ended.shadow) return
      if (closedReason !== undefined || stopped) {
        const reason =
          closedReason ??
          'Skipped: the query was stopped before it ended, so there is no answer to compare.'
        skipLater(ended, reason)
        return
      }
      if (ended.state === 'SUCCESSFUL' && formatOf(ended.options) !== 'csv') {
        skipLater(
          ended,
          `Only results stored as csv are compared; this one is ${formatOf(ended.options)}.`,
        )
        return
      }
      if (active >= settings.maxConcurrent && queue.length >= settings.maxQueued) {
        skipLater(
          ended,
          `Skipped: ${settings.maxConcurrent} shadow runs were going on and ${settings.maxQueued} waiting (SHADOW_MAX_CONCURRENT, SHADOW_MAX_QUEUED).`,
        )
        return
      }
      queue.push({ ended, query, credentials })
      pump()
    },
    abortAll(reason) {
      closedReason = reason
      for (const job of queue.splice(0)) skipLater(job.ended, reason)
      for (const stop of running) stop.abort(new Error(reason))
    },
    get active() {
      return active
    },
    get queued() {
      return queue.length
    },
  }
}

function emptyReader(): RowHashReader {
  return { columns: [], next: async () => null, cancel: async () => {} }
}

/**
 * Whether a submit to `project` is shadowed: a project the settings name (or any, when they name
 * none), drawn with `random` (sample 0: never, 1: always).
 */
export function isShadowSampled(
  settings: Pick<ShadowSettings, 'sample' | 'projects'>,
  project: string,
  random: () => number = Math.random,
): boolean {
  if (settings.projects.length > 0 && !settings.projects.includes(project)) return false
  return settings.sample >= 1 || (settings.sample > 0 && random() < settings.sample)
}
