/**
 * Workers-only behaviour, in workerd: a query whose Durable Object lost its runner (the runtime
 * restarted mid-query) ends FAILED through the object's alarm, not RUNNING forever.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Miniflare, type MiniflareOptions } from 'miniflare'
import { afterAll, describe, expect, it } from 'vitest'
import { BASIC, startFakeKylin, type FakeKylin } from '../../support/fake-kylin.ts'
import { buildWorker, toWorkerOptions } from '../../support/worker-build.ts'

describe('worker runtime', () => {
  let kylin: FakeKylin | undefined
  let mf: Miniflare | undefined
  const dirs: string[] = []

  afterAll(async () => {
    await mf?.dispose()
    await kylin?.close()
    for (const dir of dirs) await rm(dir, { recursive: true, force: true })
  })

  it('ends a query FAILED when its runner vanished with a restart', async () => {
    kylin = await startFakeKylin()
    const outdir = await mkdtemp(join(tmpdir(), 'worker-restart-'))
    const state = await mkdtemp(join(tmpdir(), 'worker-state-'))
    dirs.push(outdir, state)
    const scriptPath = await buildWorker(outdir)
    const options: MiniflareOptions = {
      ...toWorkerOptions(scriptPath, {
        KYLIN_UPSTREAM_URL: kylin.url,
        // The alarm fires at twice this: long enough for a restart on a busy machine.
        UPSTREAM_TIMEOUT_MS: '4000',
        LOG_LEVEL: 'warn',
      }),
      // On disk, so records and alarms survive the restart as they would on Cloudflare.
      durableObjectsPersist: join(state, 'do'),
      r2Persist: join(state, 'r2'),
    }
    mf = new Miniflare(options)
    let url = (await mf.ready).toString()
    const submit = await fetch(`${url}kylin/api/async_query`, {
      method: 'POST',
      headers: { Authorization: BASIC.ADMIN },
      body: JSON.stringify({ sql: 'select * from kylin_sales /* sleep_ms_20000 */', project: 'p' }),
    })
    const id = ((await submit.json()) as { data: { queryID: string } }).data.queryID
    const status = async () => {
      const res = await fetch(`${url}kylin/api/async_query/${id}/status`, {
        headers: { Authorization: BASIC.ADMIN },
      })
      return ((await res.json()) as { data: { status: string; info: string } }).data
    }
    expect((await status()).status).toBe('RUNNING')

    // A restart drops every in-memory runner; storage and the alarm stay.
    await mf.setOptions(options)
    url = (await mf.ready).toString()
    expect((await status()).status).toBe('RUNNING')

    const deadline = Date.now() + 15_000
    let last = await status()
    while (last.status === 'RUNNING' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200))
      last = await status()
    }
    expect(last.status).toBe('FAILED')
    expect(last.info).toContain('lost this query before it finished')
  }, 60_000)
})
