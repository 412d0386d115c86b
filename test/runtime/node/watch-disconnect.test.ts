/**
 * Waits and event streams over real sockets on the Node server: a client that goes away gives its
 * watcher's place back at once (the bound per query would otherwise stay taken).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_WATCHERS_PER_QUERY } from '../../../src/queries/query-watch.ts'
import { startNodeTarget } from '../../conformance/node-target.ts'
import { BASIC } from '../../support/fake-kylin.ts'
import { holdQueries } from '../../support/held-queries.ts'

let target: Awaited<ReturnType<typeof startNodeTarget>>
let held: ReturnType<typeof holdQueries>

beforeAll(async () => {
  target = await startNodeTarget()
  held = holdQueries(target.kylin)
})
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

/** Opens a new event stream until one is let in (the server learns of closed sockets async). */
async function expectStreamLetIn(id: string) {
  const deadline = Date.now() + 5000
  for (;;) {
    const res = await call(`/${id}/events`)
    if (res.status === 200 || Date.now() > deadline) {
      expect(res.status).toBe(200)
      await res.body?.cancel()
      return
    }
    await res.arrayBuffer()
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('watchers over real sockets', () => {
  it('frees the places of event streams whose clients went away', async () => {
    const id = await submitHeld()
    const controllers = Array.from({ length: MAX_WATCHERS_PER_QUERY }, () => new AbortController())
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

  it('frees the places of waits whose clients went away', async () => {
    const id = await submitHeld()
    const controllers = Array.from({ length: MAX_WATCHERS_PER_QUERY }, () => new AbortController())
    const waits = controllers.map((c) =>
      call(`/${id}/status?wait=60`, c.signal).catch((error: unknown) => error),
    )
    // Every wait has its place once a stream is refused.
    const deadline = Date.now() + 5000
    let status = 0
    while (Date.now() < deadline) {
      const res = await call(`/${id}/events`)
      status = res.status
      await res.body?.cancel()
      if (status === 429) break
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    expect(status).toBe(429)
    for (const controller of controllers) controller.abort()
    await Promise.all(waits)
    await expectStreamLetIn(id)
  })
})
