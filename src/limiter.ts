/**
 * A concurrency limiter: at most `max` tasks run at once, the rest wait in FIFO order.
 * Portable. Small and specific (queued tasks can be withdrawn), so hand-written.
 */

export interface Limiter {
  /** Runs `task` when a slot is free. A `signal` aborted while queued withdraws it (rejects). */
  run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T>
  readonly active: number
  readonly queued: number
}

export function createLimiter(max: number): Limiter {
  let active = 0
  const waiting: Array<() => void> = []

  const release = () => {
    active--
    waiting.shift()?.()
  }

  const acquire = (signal?: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason)
      if (active < max) {
        active++
        return resolve()
      }
      const start = () => {
        signal?.removeEventListener('abort', withdraw)
        active++
        resolve()
      }
      const withdraw = () => {
        const index = waiting.indexOf(start)
        if (index >= 0) waiting.splice(index, 1)
        reject(signal?.reason)
      }
      signal?.addEventListener('abort', withdraw, { once: true })
      waiting.push(start)
    })

  return {
    async run(task, signal) {
      await acquire(signal)
      try {
        return await task()
      } finally {
        release()
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
