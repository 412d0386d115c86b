/**
 * The Limiter a query's Durable Object runs under: a slot of the limiter object
 * (limiter-object.ts), taken before the upstream call and given back after. Workers only.
 */
import type { Limiter } from '../../queries/limiter.ts'
import type { LimiterObjectApi } from './deps.ts'

/** Held at most `leaseMs`, should the query's object vanish without giving it back. */
export function createLimiterClient(
  limiter: LimiterObjectApi,
  id: string,
  leaseMs: number,
): Limiter {
  return {
    async run(task, signal, key = '') {
      signal?.throwIfAborted()
      const withdraw = () => void limiter.withdraw(id).catch(() => {})
      signal?.addEventListener('abort', withdraw, { once: true })
      try {
        await limiter.acquire(id, key, leaseMs)
      } catch (error) {
        // Withdrawn because this query was stopped: the stop's own reason says why.
        signal?.throwIfAborted()
        throw error
      } finally {
        signal?.removeEventListener('abort', withdraw)
      }
      try {
        signal?.throwIfAborted()
        return await task()
      } finally {
        await limiter.release(id).catch(() => {})
      }
    },
    // Counted in the limiter object, across isolates; see `countQueued`.
    active: 0,
    queued: 0,
  }
}
