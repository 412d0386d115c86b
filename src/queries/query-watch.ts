/**
 * Waiting on a query's record: for completion (`?wait=`, `Prefer: wait`) and for live events, over
 * the registry's change notification, with bounded watchers per query and per instance. Portable.
 */
import type { AppDeps } from '../deps.ts'
import { versionOf, type QueryRecord } from '../domain/query.ts'
import { GatewayError } from '../errors.ts'

/** Watchers (waits and event streams) one query may have on this instance, and all of them. */
export const MAX_WATCHERS_PER_QUERY = 64
export const MAX_WATCHERS = 4096

export interface QueryWatch {
  /** Whether the registry tells of changes; without it nothing waits and answers come at once. */
  readonly canWait: boolean
  /** Takes a watcher's place for `id` until the returned release (429 past a bound). */
  hold(id: string): () => void
  /** The record once it changed (`null`: deleted), or as it is after `timeoutMs` or an abort. */
  next(record: QueryRecord, timeoutMs: number, signal?: AbortSignal): Promise<QueryRecord | null>
  /**
   * The record once it is no longer RUNNING (`null`: deleted), or as it is after `timeoutMs` (or
   * as last read, should the registry fail to wait).
   */
  untilFinished(
    record: QueryRecord,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<QueryRecord | null>
  /** Watchers held now on this instance. */
  readonly watchers: number
}

export function createQueryWatch(deps: Pick<AppDeps, 'registry'>): QueryWatch {
  const { registry } = deps
  const byQuery = new Map<string, number>()
  let watchers = 0

  async function next(record: QueryRecord, timeoutMs: number, signal?: AbortSignal) {
    if (!registry.waitForChange) return record
    return registry.waitForChange(record.id, versionOf(record), timeoutMs, signal)
  }

  return {
    canWait: registry.waitForChange !== undefined,
    hold(id) {
      const held = byQuery.get(id) ?? 0
      if (held >= MAX_WATCHERS_PER_QUERY || watchers >= MAX_WATCHERS) {
        throw new GatewayError(
          429,
          {
            id: 'TOO_MANY_WATCHERS',
            args: [held >= MAX_WATCHERS_PER_QUERY ? MAX_WATCHERS_PER_QUERY : MAX_WATCHERS],
          },
          { headers: { 'Retry-After': '5' } },
        )
      }
      byQuery.set(id, held + 1)
      watchers++
      let released = false
      return () => {
        if (released) return
        released = true
        watchers--
        const left = (byQuery.get(id) ?? 1) - 1
        if (left > 0) byQuery.set(id, left)
        else byQuery.delete(id)
      }
    },
    next,
    async untilFinished(record, timeoutMs, signal) {
      // A monotonic clock: the time limit is real time, whatever the wall clock does.
      const deadline = performance.now() + timeoutMs
      let current: QueryRecord | null = record
      while (current?.state === 'RUNNING' && !signal?.aborted) {
        const left = deadline - performance.now()
        if (left <= 0 || !registry.waitForChange) break
        try {
          current = await next(current, left, signal)
        } catch {
          // A wait is a courtesy: a registry that cannot wait now (Redis reconnecting, an object
          // refusing more waiters) leaves the answer as it was last read.
          break
        }
      }
      return current
    },
    get watchers() {
      return watchers
    },
  }
}
