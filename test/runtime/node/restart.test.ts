/**
 * The Node gateway across process lifetimes (fs store): a killed process's finished results
 * come back with the same id, owner, metadata and size (in the query list and for reuse too),
 * its unfinished queries end FAILED, and SIGTERM lets running queries finish within
 * SHUTDOWN_GRACE_MS, then stops the rest.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RESTART_MESSAGE } from '../../../src/registry/rebuild.ts'
import { SHUTDOWN_MESSAGE } from '../../../src/runtime/node/gateway.ts'
import { BASIC, startFakeKylin, type FakeKylin } from '../../support/fake-kylin.ts'
import {
  startGatewayProcess,
  type GatewayProcess as Gateway,
} from '../../support/gateway-process.ts'

function startGateway(dataDir: string, upstream: string, graceMs = '1000'): Promise<Gateway> {
  return startGatewayProcess({
    KYLIN_UPSTREAM_URL: upstream,
    DATA_DIR: dataDir,
    SHUTDOWN_GRACE_MS: graceMs,
  })
}

async function call(gateway: Gateway, path: string, init: RequestInit = {}) {
  const headers = new Headers(init.headers)
  if (!headers.has('Authorization')) headers.set('Authorization', BASIC.ANALYST)
  headers.set('Accept-Encoding', 'identity')
  return fetch(`${gateway.url}/kylin/api/async_query${path}`, { ...init, headers })
}

async function submit(gateway: Gateway, sql: string): Promise<string> {
  const res = await call(gateway, '', {
    method: 'POST',
    body: JSON.stringify({ sql, project: 'p' }),
  })
  return ((await res.json()) as { data: { queryID: string } }).data.queryID
}

async function statusOf(gateway: Gateway, id: string) {
  const res = await call(gateway, `/${id}/status`)
  return ((await res.json()) as { data: { status: string; info: string } }).data
}

async function waitForEnd(gateway: Gateway, id: string) {
  for (let i = 0; i < 400; i++) {
    const status = await statusOf(gateway, id)
    if (status.status !== 'RUNNING') return status
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error('still RUNNING')
}

describe('restart and shutdown', () => {
  let kylin: FakeKylin
  let dataDir: string

  beforeAll(async () => {
    kylin = await startFakeKylin()
    dataDir = await mkdtemp(join(tmpdir(), 'gateway-restart-'))
  })

  afterAll(async () => {
    await kylin.close()
    await rm(dataDir, { recursive: true, force: true })
  })

  it('rebuilds the registry after a crash: results stay, unfinished queries end FAILED', async () => {
    const first = await startGateway(dataDir, kylin.url)
    const done = await submit(first, 'select * from kylin_sales')
    expect((await waitForEnd(first, done)).status).toBe('SUCCESSFUL')
    const metadata = await (await call(first, `/${done}/metadata`)).json()
    const csv = await (await call(first, `/${done}/result`)).text()
    const unfinished = await submit(first, 'select * from kylin_sales /* sleep_ms_30000 */')
    expect((await statusOf(first, unfinished)).status).toBe('RUNNING')

    first.child.kill('SIGKILL')
    await first.exited
    const second = await startGateway(dataDir, kylin.url)
    try {
      expect(await statusOf(second, done)).toMatchObject({ status: 'SUCCESSFUL' })
      expect(await (await call(second, `/${done}/metadata`)).json()).toEqual(metadata)
      expect(await (await call(second, `/${done}/result`)).text()).toBe(csv)
      // The owner survives the restart: another user is still refused.
      const other = await call(second, `/${done}/result`, {
        headers: { Authorization: BASIC.MODELER },
      })
      expect(other.status).toBe(403)
      expect(await statusOf(second, unfinished)).toEqual({
        queryID: unfinished,
        status: 'FAILED',
        info: RESTART_MESSAGE,
      })
      // The query list and result reuse come back too, from the records beside the results.
      const listed = (await (await call(second, '?project=p')).json()) as {
        data: { queries: { queryID: string; status: string }[] }
      }
      expect(listed.data.queries.map((q) => [q.queryID, q.status])).toEqual([
        [unfinished, 'FAILED'],
        [done, 'SUCCESSFUL'],
      ])
      const reused = await call(second, '', {
        method: 'POST',
        body: JSON.stringify({
          sql: 'select *  from kylin_sales',
          project: 'p',
          reuse_max_age: 60,
        }),
      })
      expect(((await reused.json()) as { data: unknown }).data).toMatchObject({
        queryID: done,
        reused: true,
      })
      const files = await readdir(dataDir)
      expect(files).not.toContain(`${unfinished}.csv`)
      expect(files.filter((f) => f.startsWith('.'))).toEqual([])
    } finally {
      second.child.kill('SIGKILL')
      await second.exited
    }
  }, 60_000)

  it('on SIGTERM lets queries finish within the grace period, then stops the rest', async () => {
    const gateway = await startGateway(dataDir, kylin.url, '1500')
    const quick = await submit(gateway, 'select * from kylin_sales /* sleep_ms_300 */')
    const slow = await submit(gateway, 'select * from kylin_sales /* sleep_ms_30000 */')
    await new Promise((resolve) => setTimeout(resolve, 100))
    gateway.child.kill('SIGTERM')
    expect(await gateway.exited).toBe(0)
    const record = async (id: string) =>
      JSON.parse(await readFile(join(dataDir, `${id}.json`), 'utf8'))
    expect(await record(quick)).toMatchObject({ state: 'SUCCESSFUL' })
    expect(await record(slow)).toMatchObject({ state: 'FAILED', error: SHUTDOWN_MESSAGE })
    expect(await readdir(dataDir)).not.toContain(`${slow}.csv`)
  }, 60_000)
})
