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

export interface HoldOptions {
  /** The longest the place is kept: the wait or the stream's own bound, and a margin. */
  maxMs: number
  signal?: AbortSignal
}

/** Past its own bound, how long a place is kept before it lapses. */
export const LAPSE_MARGIN_MS = 5000

export interface QueryWatch {
  /** Whether the registry tells of changes; without it nothing waits and answers come at once. */
  readonly canWait: boolean
  /**
   * Takes a watcher's place for `id` until the returned release, until `signal` (the client's
   * request) aborts, or at the latest after `maxMs`: where a departed client's request is torn
   * down before it answers (workerd), neither its release nor its signal may ever come, so a place
   * also lapses on its own (429 past a bound).
   */
  hold(id: string, options: HoldOptions): () => void
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

export interface QueryWatchDeps extends Pick<AppDeps, 'registry'> {
  /** A monotonic clock in ms for the lapse of places (performance.now by default). */
  clock?: () => number
}

export function createQueryWatch(deps: QueryWatchDeps): QueryWatch {
  const { registry } = deps
  const clock = deps.clock ?? (() => performance.now())
  /** Per query, each place held and when it lapses (monotonic ms). */
  const byQuery = new Map<string, Map<symbol, number>>()
  let watchers = 0

  function drop(id: string, places: Map<symbol, number>, place: symbol): void {
    if (!places.delete(place)) return
    watchers--
    if (places.size === 0 && byQuery.get(id) === places) byQuery.delete(id)
  }

  /** Forgets the places whose time is up, of one query or (at the instance's bound) of all. */
  function dropLapsed(now: number, only?: string): void {
    const ids = only === undefined ? [...byQuery.keys()] : [only]
    for (const id of ids) {
      const places = byQuery.get(id)
      if (!places) continue
      for (const [place, lapsesAt] of places) if (lapsesAt <= now) drop(id, places, place)
    }
  }

  async function next(record: QueryRecord, timeoutMs: number, signal?: AbortSignal) {
    if (!registry.waitForChange) return record
    return registry.waitForChange(record.id, versionOf(record), timeoutMs, signal)
  }

  return {
    canWait: registry.waitForChange !== undefined,
    hold(id, { maxMs, signal }) {
      const now = clock()
      dropLapsed(now, id)
      if (watchers >= MAX_WATCHERS) dropLapsed(now)
      const held = byQuery.get(id)?.size ?? 0
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
      let places = byQuery.get(id)
      if (!places) byQuery.set(id, (places = new Map()))
      const place = Symbol(id)
      places.set(place, now + maxMs + LAPSE_MARGIN_MS)
      watchers++
      const release = () => {
        signal?.removeEventListener('abort', release)
        drop(id, places, place)
      }
      if (signal?.aborted) release()
      else signal?.addEventListener('abort', release)
      return release
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
