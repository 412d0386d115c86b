/**
 * Waits and event streams over real sockets: a client that goes away gives its watcher's place
 * back (the bound per query would otherwise stay taken). Run against the Node server and workerd.
 * Tests only, Node only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_WATCHERS_PER_QUERY } from '../../src/queries/query-watch.ts'
import { BASIC, type FakeKylin } from './fake-kylin.ts'
import { holdQueries } from './held-queries.ts'

export interface WatchTarget {
  url: string
  kylin: FakeKylin
  stop(): Promise<void>
}

export interface DepartedWaits {
  /** The `?wait=` of the waits whose clients go away. */
  seconds: number
  /** How soon after they go their places must be free again. */
  freedWithinMs: number
}

export function describeWatchDisconnect(
  name: string,
  start: () => Promise<WatchTarget>,
  departedWaits: DepartedWaits,
) {
  describe(`watchers over real sockets: ${name}`, () => {
    let target: WatchTarget
    let held: ReturnType<typeof holdQueries>

    beforeAll(async () => {
      target = await start()
      held = holdQueries(target.kylin)
    }, 120_000)
    afterAll(async () => {
      held?.restore()
      await target?.stop()
    })

    const call = (path: string, signal?: AbortSignal) =>
      fetch(`${target.url}/kylin/api/async_query${path}`, {
        headers: { Authorization: BASIC.ANALYST, 'Content-Type': 'application/json' },
        signal,
      })

    async function submitHeld(): Promise<string> {
      const res = await fetch(`${target.url}/kylin/api/async_query`, {
        method: 'POST',
        headers: { Authorization: BASIC.ANALYST, 'Content-Type': 'application/json' },
        body: JSON.stringify({ sql: 'select n from held', project: 'learn_kylin' }),
      })
      return ((await res.json()) as { data: { queryID: string } }).data.queryID
    }

    /** The status of a new event stream, which is closed at once. */
    async function tryStream(id: string): Promise<number> {
      const res = await call(`/${id}/events`)
      await res.body?.cancel()
      return res.status
    }

    /** Opens new event streams until one is let in (a closed socket is learnt of asynchronously). */
    async function expectStreamLetIn(id: string, withinMs = 10_000) {
      const deadline = Date.now() + withinMs
      let status = await tryStream(id)
      while (status !== 200 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100))
        status = await tryStream(id)
      }
      expect(status).toBe(200)
    }

    it('frees the places of event streams whose clients went away', async () => {
      const id = await submitHeld()
      const controllers = Array.from(
        { length: MAX_WATCHERS_PER_QUERY },
        () => new AbortController(),
      )
      const open = await Promise.all(controllers.map((c) => call(`/${id}/events`, c.signal)))
      expect(open.map((res) => res.status)).toEqual(open.map(() => 200))
      const refused = await call(`/${id}/events`)
      expect(refused.status).toBe(429)
      expect(refused.headers.get('retry-after')).toBe('5')
      expect(((await refused.json()) as { msg: string }).msg).toContain(
        `at most ${MAX_WATCHERS_PER_QUERY} at once`,
      )
      for (const controller of controllers) controller.abort()
      await expectStreamLetIn(id)
    })

    it('frees the places of waits whose clients went away', { timeout: 60_000 }, async () => {
      const id = await submitHeld()
      const controllers = Array.from(
        { length: MAX_WATCHERS_PER_QUERY },
        () => new AbortController(),
      )
      const waits = controllers.map((c) =>
        call(`/${id}/status?wait=${departedWaits.seconds}`, c.signal).catch(
          (error: unknown) => error,
        ),
      )
      // Every wait holds its place once a stream is refused.
      const deadline = Date.now() + 10_000
      let status = await tryStream(id)
      while (status !== 429 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50))
        status = await tryStream(id)
      }
      expect(status).toBe(429)
      for (const controller of controllers) controller.abort()
      await Promise.all(waits)
      await expectStreamLetIn(id, departedWaits.freedWithinMs)
    })
  })
}
