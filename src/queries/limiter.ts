/**
 * A fair concurrency limiter: at most `max` tasks run at once and at most `maxPerKey` of one key
 * (one user), so nobody can take every slot. A freed slot goes to the longest-waiting task whose
 * key has the fewest tasks running. Portable; hand-written because queued tasks can be withdrawn.
 */

export interface Limiter {
  /**
   * Runs `task` when a slot is free for `key`. A `signal` aborted while queued withdraws it
   * (the promise rejects with the signal's reason and the task never runs).
   */
  run<T>(task: () => Promise<T>, signal?: AbortSignal, key?: string): Promise<T>
  readonly active: number
  readonly queued: number
}

interface Waiter {
  key: string
  start: () => void
}

export function createLimiter(max: number, maxPerKey = max): Limiter {
  let active = 0
  const activeByKey = new Map<string, number>()
  const waiting: Waiter[] = []

  const countOf = (key: string) => activeByKey.get(key) ?? 0
  const hasRoom = (key: string) => active < max && countOf(key) < maxPerKey

  const take = (key: string) => {
    active++
    activeByKey.set(key, countOf(key) + 1)
  }

  const release = (key: string) => {
    active--
    const left = countOf(key) - 1
    if (left > 0) activeByKey.set(key, left)
    else activeByKey.delete(key)
    // The fewest running first, then the longest waiting (waiters are in arrival order).
    let pick = -1
    for (let i = 0; i < waiting.length; i++) {
      const candidate = waiting[i]!
      if (!hasRoom(candidate.key)) continue
      if (pick < 0 || countOf(candidate.key) < countOf(waiting[pick]!.key)) pick = i
    }
    if (pick >= 0) waiting.splice(pick, 1)[0]!.start()
  }

  const acquire = (key: string, signal?: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason)
      // Queued tasks go first, unless each is blocked by its own key's limit: this one's key
      // may still have room then, and starts at once.
      if (hasRoom(key) && waiting.every((w) => !hasRoom(w.key))) {
        take(key)
        return resolve()
      }
      const waiter: Waiter = {
        key,
        start: () => {
          signal?.removeEventListener('abort', withdraw)
          take(key)
          resolve()
        },
      }
      const withdraw = () => {
        const index = waiting.indexOf(waiter)
        if (index >= 0) waiting.splice(index, 1)
        reject(signal?.reason)
      }
      signal?.addEventListener('abort', withdraw, { once: true })
      waiting.push(waiter)
    })

  return {
    async run(task, signal, key = '') {
      await acquire(key, signal)
      try {
        return await task()
      } finally {
        release(key)
      }
    },
    get active() {
      return active
    },
    get queued() {
      return waiting.length
    },
  }
}
