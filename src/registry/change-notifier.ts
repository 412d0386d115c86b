/**
 * The change notification of the registries that learn of changes in this process (memory: its
 * own writes; Redis: its subscription): waiters by query id, woken to read the record again.
 * Portable.
 */
import { versionOf, type QueryRecord } from '../domain/query.ts'

export interface ChangeNotifier {
  /** Wakes the waiters of `id`; each reads the record again. */
  notify(id: string): void
  /** Wakes every waiter: after a (re)subscribe, when a message may have been missed. */
  notifyAll(): void
  /** `Registry#waitForChange` over `read`: reads first, then waits for `notify`. */
  waitForChange(
    id: string,
    afterVersion: number,
    timeoutMs: number,
    read: (id: string) => Promise<QueryRecord | null>,
    signal?: AbortSignal,
  ): Promise<QueryRecord | null>
  /** Waiters held now (their bound is the caller's: see queries/query-watch.ts). */
  readonly waiting: number
}

export interface ChangeNotifierOptions {
  /** Resolves once notifications flow (a subscription confirmed); waiters read after it. */
  ready?: () => Promise<void>
}

export function createChangeNotifier(options: ChangeNotifierOptions = {}): ChangeNotifier {
  const waitersOf = new Map<string, Set<() => void>>()
  let waiting = 0

  function listen(id: string, wake: () => void): () => void {
    let waiters = waitersOf.get(id)
    if (!waiters) waitersOf.set(id, (waiters = new Set()))
    waiters.add(wake)
    waiting++
    return () => {
      if (!waiters.delete(wake)) return
      waiting--
      if (waiters.size === 0 && waitersOf.get(id) === waiters) waitersOf.delete(id)
    }
  }

  const wakeAll = (waiters: Set<() => void> | undefined) => {
    if (waiters) for (const wake of [...waiters]) wake()
  }

  return {
    notify: (id) => wakeAll(waitersOf.get(id)),
    notifyAll() {
      for (const waiters of [...waitersOf.values()]) wakeAll(waiters)
    },
    async waitForChange(id, afterVersion, timeoutMs, read, signal) {
      // Listening before the first read: a change between the read and the wait still wakes it.
      let changed = false
      let over = false
      let resume: (() => void) | undefined
      const stopListening = listen(id, () => {
        changed = true
        resume?.()
      })
      const end = () => {
        over = true
        resume?.()
      }
      const timer = setTimeout(end, Math.max(0, timeoutMs))
      signal?.addEventListener('abort', end)
      try {
        await options.ready?.()
        for (;;) {
          changed = false
          const record = await read(id)
          if (!record || versionOf(record) !== afterVersion) return record
          if (over || signal?.aborted) return record
          if (!changed) {
            await new Promise<void>((resolve) => (resume = resolve))
            resume = undefined
          }
          // Woken by a change (or a resubscribe): read again; by the time limit: answer as is.
          if (!changed) return record
        }
      } finally {
        stopListening()
        clearTimeout(timer)
        signal?.removeEventListener('abort', end)
      }
    },
    get waiting() {
      return waiting
    },
  }
}
