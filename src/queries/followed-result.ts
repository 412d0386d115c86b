/**
 * Following a RUNNING query (`?follow=1`): its bytes as they are written where it runs here (the
 * runner's live results), else its stored file once it ends, woken by the registry's change
 * notification (re-read every `pollMs` where there is none). Either stream closes only on a whole
 * result and errors on any other end. Portable.
 */
import type { AppDeps } from '../deps.ts'
import { GatewayError } from '../errors.ts'
import { toResultKey } from '../domain/query-id.ts'
import { versionOf, type QueryRecord } from '../domain/query.ts'
import type { Registry } from '../registry/types.ts'
import { FOLLOW_LIMITS, FOLLOWERS_FULL, FollowAbortedError } from './live-results.ts'
import type { QueryRunner } from './runner.ts'

/** How often a follower whose query runs elsewhere re-reads its record, where it cannot wait. */
export const FOLLOW_POLL_MS = 500

export interface FollowingOptions {
  pollMs?: number
  /** Followers of one query that wait here for its stored file. */
  maxWaiters?: number
}

/** The bytes of a RUNNING query, live or once stored; 429 past the followers' bound. */
export type FollowQuery = (record: QueryRecord) => Promise<ReadableStream<Uint8Array>>

export function createFollowing(
  deps: Pick<AppDeps, 'registry' | 'store'>,
  runner: Pick<QueryRunner, 'follow'>,
  options: FollowingOptions = {},
): FollowQuery {
  const pollMs = options.pollMs ?? FOLLOW_POLL_MS
  const maxWaiters = options.maxWaiters ?? FOLLOW_LIMITS.maxFollowers
  /** Followers waiting here, per query: bounded per query, and gone when they are. */
  const waiting = new Map<string, number>()

  return async (record) => {
    const live = runner.follow ? await runner.follow(record.id) : null
    if (live === FOLLOWERS_FULL) throw toFollowersFull(FOLLOW_LIMITS.maxFollowers)
    if (live) return live
    const count = waiting.get(record.id) ?? 0
    if (count >= maxWaiters) throw toFollowersFull(maxWaiters)
    waiting.set(record.id, count + 1)
    let left = false
    const leave = () => {
      if (left) return
      left = true
      const rest = (waiting.get(record.id) ?? 1) - 1
      if (rest > 0) waiting.set(record.id, rest)
      else waiting.delete(record.id)
    }
    return readStoredAfterEnd(deps, record.id, pollMs, leave)
  }
}

function toFollowersFull(max: number): GatewayError {
  return new GatewayError(
    429,
    { id: 'FOLLOWERS_FULL', args: [max] },
    { headers: { 'Retry-After': '5' } },
  )
}

/**
 * The stored file of query `id` once its record leaves RUNNING: streamed if SUCCESSFUL, an error
 * if it failed, was stopped or deleted. Nothing is read before the client reads.
 */
function readStoredAfterEnd(
  deps: Pick<AppDeps, 'registry' | 'store'>,
  id: string,
  pollMs: number,
  leave: () => void,
): ReadableStream<Uint8Array> {
  const gone = new AbortController()
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          if (!reader) {
            const record = await awaitEnd(deps.registry, id, pollMs, gone.signal)
            if (record?.state !== 'SUCCESSFUL') throw new FollowAbortedError()
            const blob = record.bytes === 0 ? null : await deps.store.get(toResultKey(id))
            if (record.bytes !== 0 && !blob) throw new FollowAbortedError()
            reader = (blob?.body ?? new Blob([]).stream()).getReader()
          }
          const next = await reader.read()
          if (next.done) {
            leave()
            controller.close()
          } else controller.enqueue(next.value)
        } catch (error) {
          leave()
          throw error instanceof FollowAbortedError ? error : new FollowAbortedError()
        }
      },
      async cancel(reason) {
        leave()
        gone.abort()
        await reader?.cancel(reason)
      },
    },
    { highWaterMark: 0 },
  )
}

/** The longest one wait on the registry's change notification lasts (a Durable Object's cap). */
const WAIT_SLICE_MS = 60_000

/**
 * The record once it is no longer RUNNING (`null`: deleted): woken by the registry's change
 * notification where it has one, else (or while it cannot wait) re-read every `pollMs`.
 */
async function awaitEnd(
  registry: Registry,
  id: string,
  pollMs: number,
  signal: AbortSignal,
): Promise<QueryRecord | null> {
  let record = await registry.get(id)
  while (record?.state === 'RUNNING') {
    if (signal.aborted) throw new FollowAbortedError()
    if (registry.waitForChange) {
      try {
        record = await registry.waitForChange(id, versionOf(record), WAIT_SLICE_MS, signal)
        continue
      } catch {
        // A registry that cannot wait now (Redis reconnecting) is read again after a pause.
      }
    }
    await sleep(pollMs, signal)
    record = await registry.get(id)
  }
  return record
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new FollowAbortedError())
    const onAbort = () => {
      clearTimeout(timer)
      reject(new FollowAbortedError())
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
