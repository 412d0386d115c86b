/**
 * Signed links across a rotation of LINK_SECRET in workerd: the Worker restarted with new
 * bindings, its Durable Objects and R2 kept on disk as Cloudflare keeps them. A link signed
 * before the rotation works while the old secret is LINK_SECRET_PREVIOUS, and not once it is gone.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Miniflare, type MiniflareOptions } from 'miniflare'
import { afterAll, describe, expect, it } from 'vitest'
import { BASIC, startFakeKylin, type FakeKylin } from '../../support/fake-kylin.ts'
import { buildWorker, toWorkerOptions } from '../../support/worker-build.ts'

const OLD_SECRET = 'link-secret-before-the-rotation-00000000'
const NEW_SECRET = 'link-secret-after-the-rotation-111111111'

describe('signed links across a LINK_SECRET rotation in workerd', () => {
  let kylin: FakeKylin | undefined
  let mf: Miniflare | undefined
  const dirs: string[] = []

  afterAll(async () => {
    await mf?.dispose()
    await kylin?.close()
    for (const dir of dirs) await rm(dir, { recursive: true, force: true })
  })

  it('keep working with the old secret as LINK_SECRET_PREVIOUS, and stop once it is gone', async () => {
    kylin = await startFakeKylin()
    const outdir = await mkdtemp(join(tmpdir(), 'worker-links-'))
    const state = await mkdtemp(join(tmpdir(), 'worker-links-state-'))
    dirs.push(outdir, state)
    const scriptPath = await buildWorker(outdir)
    const optionsWith = (secrets: Record<string, string>): MiniflareOptions => ({
      ...toWorkerOptions(scriptPath, {
        KYLIN_UPSTREAM_URL: kylin!.url,
        LOG_LEVEL: 'warn',
        ...secrets,
      }),
      durableObjectsPersist: join(state, 'do'),
      r2Persist: join(state, 'r2'),
    })
    mf = new Miniflare(optionsWith({ LINK_SECRET: OLD_SECRET }))
    let base = (await mf.ready).toString().replace(/\/$/, '')
    const call = (path: string, init: RequestInit = {}) =>
      fetch(`${base}/kylin/api/async_query${path}`, {
        ...init,
        headers: { Authorization: BASIC.ANALYST, 'Accept-Encoding': 'identity' },
      })
    /** The link's path on whatever port the restarted Worker took. */
    const onCurrentPort = (url: string) => `${base}${new URL(url).pathname}`

    const submitted = await call('', {
      method: 'POST',
      body: JSON.stringify({ sql: 'select * from kylin_sales', project: 'learn_kylin' }),
    })
    const id = ((await submitted.json()) as { data: { queryID: string } }).data.queryID
    for (let i = 0; i < 400; i++) {
      const { data } = (await (await call(`/${id}/status`)).json()) as { data: { status: string } }
      if (data.status !== 'RUNNING') break
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
    const bytes = await (await call(`/${id}/result`)).text()
    expect(bytes.length).toBeGreaterThan(0)
    const made = await call(`/${id}/link`, { method: 'POST', body: '{"ttl":3600}' })
    expect(made.status).toBe(200)
    const { url } = ((await made.json()) as { data: { url: string } }).data
    expect(await (await fetch(url)).text()).toBe(bytes)

    await mf.setOptions(optionsWith({ LINK_SECRET: NEW_SECRET, LINK_SECRET_PREVIOUS: OLD_SECRET }))
    base = (await mf.ready).toString().replace(/\/$/, '')
    const kept = await fetch(onCurrentPort(url))
    expect(kept.status).toBe(200)
    expect(await kept.text()).toBe(bytes)

    await mf.setOptions(optionsWith({ LINK_SECRET: NEW_SECRET }))
    base = (await mf.ready).toString().replace(/\/$/, '')
    const refused = await fetch(onCurrentPort(url))
    expect(refused.status).toBe(403)
    expect(((await refused.json()) as { msg: string }).msg).toMatch(/^This link is not valid/)
    // Its result is still there for its owner: only the link lost its key.
    expect((await call(`/${id}/result`)).status).toBe(200)
  }, 120_000)
})
