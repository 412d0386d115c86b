/**
 * The cluster-wide cap on Workers, in workerd: every query's Durable Object takes a slot of the
 * one limiter object, so MAX_CONCURRENT_QUERIES holds across objects and isolates, one user
 * cannot take every slot, and MAX_QUEUED_QUERIES refuses what the queue cannot hold.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BASIC, startFakeKylin, type FakeKylin } from '../../support/fake-kylin.ts'
import { buildWorker, toWorkerOptions } from '../../support/worker-build.ts'

let kylin: FakeKylin
let mf: Miniflare
let url: string
let outdir: string

beforeAll(async () => {
  kylin = await startFakeKylin()
  outdir = await mkdtemp(join(tmpdir(), 'worker-limiter-'))
  mf = new Miniflare(
    toWorkerOptions(await buildWorker(outdir), {
      KYLIN_UPSTREAM_URL: kylin.url,
      MAX_CONCURRENT_QUERIES: '2',
      MAX_CONCURRENT_PER_USER: '1',
      MAX_QUEUED_QUERIES: '3',
      LOG_LEVEL: 'warn',
    }),
  )
  url = (await mf.ready).toString().replace(/\/$/, '')
}, 120_000)

afterAll(async () => {
  await mf?.dispose()
  await kylin?.close()
  await rm(outdir, { recursive: true, force: true })
})

async function submit(auth: string, sql: string): Promise<Response> {
  return fetch(`${url}/kylin/api/async_query`, {
    method: 'POST',
    headers: { Authorization: auth, 'Content-Type': 'application/json' },
    body: JSON.stringify({ sql, project: 'learn_kylin' }),
  })
}

async function waitForEnd(id: string, auth: string): Promise<string> {
  const deadline = Date.now() + 30_000
  for (;;) {
    const res = await fetch(`${url}/kylin/api/async_query/${id}/status`, {
      headers: { Authorization: auth },
    })
    const { data } = (await res.json()) as { data: { status: string } }
    if (data.status !== 'RUNNING' || Date.now() > deadline) return data.status
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('limiter object (workerd)', () => {
  it('runs at most MAX_CONCURRENT_QUERIES upstream, shares slots fairly, bounds the queue', async () => {
    const sql = 'select * from kylin_sales /* sleep_ms_1500 */'
    const submitted: [string, string][] = []
    // Two users, five queries: with one slot a user, one of each runs at once, never more.
    for (const auth of [
      BASIC.ANALYST,
      BASIC.ANALYST,
      BASIC.ANALYST,
      BASIC.MODELER,
      BASIC.MODELER,
    ]) {
      const res = await submit(auth, sql)
      expect(res.status).toBe(200)
      const { data } = (await res.json()) as { data: { queryID: string } }
      submitted.push([data.queryID, auth])
    }
    // Two running and three waiting: the queue is full.
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(kylin.inFlight).toBe(2)
    const refused = await submit(BASIC.ADMIN, sql)
    expect(refused.status).toBe(429)
    expect(refused.headers.get('Retry-After')).toBe('5')

    const states = await Promise.all(submitted.map(([id, auth]) => waitForEnd(id, auth)))
    expect(states).toEqual(Array(submitted.length).fill('SUCCESSFUL'))
    expect(kylin.maxInFlight).toBe(2)
  }, 60_000)

  it('gives a stopped query’s place in the queue back', async () => {
    const sql = 'select * from kylin_sales /* sleep_ms_1000 */'
    const ids: string[] = []
    for (let i = 0; i < 3; i++) {
      const res = await submit(BASIC.ANALYST, sql)
      ids.push(((await res.json()) as { data: { queryID: string } }).data.queryID)
    }
    // The third waits behind the first (one slot a user); stop it while it waits.
    await new Promise((resolve) => setTimeout(resolve, 300))
    const stop = await fetch(`${url}/kylin/api/async_query/stop/${ids[2]}`, {
      method: 'DELETE',
      headers: { Authorization: BASIC.ANALYST },
    })
    expect(stop.status).toBe(200)
    expect(await waitForEnd(ids[2]!, BASIC.ANALYST)).toBe('FAILED')
    expect(await waitForEnd(ids[0]!, BASIC.ANALYST)).toBe('SUCCESSFUL')
    expect(await waitForEnd(ids[1]!, BASIC.ANALYST)).toBe('SUCCESSFUL')
  }, 60_000)
})
