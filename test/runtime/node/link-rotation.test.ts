/**
 * Signed links across a rotation of LINK_SECRET on the Node gateway (fs store, restarted on the
 * same DATA_DIR): a link signed before it still downloads while the old secret is
 * LINK_SECRET_PREVIOUS, and no longer once it is dropped. The secrets never reach the log.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../../src/config/config.ts'
import { startNodeGateway, type NodeGateway } from '../../../src/runtime/node/gateway.ts'
import { BASIC, startFakeKylin, type FakeKylin } from '../../support/fake-kylin.ts'

const OLD_SECRET = 'link-secret-before-the-rotation-00000000'
const NEW_SECRET = 'link-secret-after-the-rotation-111111111'

let kylin: FakeKylin
let dataDir: string
const logs: string[] = []

beforeAll(async () => {
  kylin = await startFakeKylin()
  dataDir = await mkdtemp(join(tmpdir(), 'gateway-link-rotation-'))
})

afterAll(async () => {
  await kylin.close()
  await rm(dataDir, { recursive: true, force: true })
})

function startGateway(settings: Record<string, string>): Promise<NodeGateway> {
  const config = parseConfig({
    KYLIN_UPSTREAM_URL: kylin.url,
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'debug',
    ...settings,
  })
  const logDestination = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk))
      done()
    },
  })
  return startNodeGateway(config, { logDestination })
}

function call(gateway: NodeGateway, path: string, init: RequestInit = {}) {
  const headers = new Headers(init.headers)
  headers.set('Authorization', BASIC.ANALYST)
  headers.set('Accept-Encoding', 'identity')
  return fetch(`${gateway.url}/kylin/api/async_query${path}`, { ...init, headers })
}

/** A download by link, as curl would make it: no credentials. */
function download(url: string) {
  return fetch(url, { headers: { 'Accept-Encoding': 'identity' } })
}

describe('signed links across a LINK_SECRET rotation', () => {
  it('keep working with the old secret as LINK_SECRET_PREVIOUS, and stop once it is gone', async () => {
    const before = await startGateway({ LINK_SECRET: OLD_SECRET })
    const submitted = await call(before, '', {
      method: 'POST',
      body: JSON.stringify({ sql: 'select * from kylin_sales', project: 'learn_kylin' }),
    })
    const id = ((await submitted.json()) as { data: { queryID: string } }).data.queryID
    for (let i = 0; i < 400; i++) {
      const status = await call(before, `/${id}/status`)
      const { data } = (await status.json()) as { data: { status: string } }
      if (data.status !== 'RUNNING') break
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
    const bytes = await (await call(before, `/${id}/result`)).text()
    expect(bytes.length).toBeGreaterThan(0)
    const made = await call(before, `/${id}/link`, {
      method: 'POST',
      body: JSON.stringify({ ttl: 3600 }),
    })
    expect(made.status).toBe(200)
    const { url } = ((await made.json()) as { data: { url: string } }).data
    expect(await (await download(url)).text()).toBe(bytes)
    await before.close()

    const rotated = await startGateway({
      LINK_SECRET: NEW_SECRET,
      LINK_SECRET_PREVIOUS: OLD_SECRET,
    })
    const port = new URL(rotated.url).port
    const moved = url.replace(/:\d+\//, `:${port}/`)
    const kept = await download(moved)
    expect(kept.status).toBe(200)
    expect(await kept.text()).toBe(bytes)
    // New links are signed with the new secret, and work too.
    const fresh = await call(rotated, `/${id}/link`, { method: 'POST', body: '{"ttl":60}' })
    const freshUrl = ((await fresh.json()) as { data: { url: string } }).data.url
    expect((await download(freshUrl)).status).toBe(200)
    await rotated.close()

    const dropped = await startGateway({ LINK_SECRET: NEW_SECRET })
    const refused = await download(url.replace(/:\d+\//, `:${new URL(dropped.url).port}/`))
    expect(refused.status).toBe(403)
    const body = (await refused.json()) as { msg: string }
    expect(body.msg).toMatch(/^This link is not valid/)
    await dropped.close()

    const logged = logs.join('')
    expect(logged).toContain('"signedLinks":true')
    expect(logged).toContain('/link/')
    for (const secret of [OLD_SECRET, NEW_SECRET]) expect(logged).not.toContain(secret)
    const signature = url.split('/').at(-1)!
    expect(logged).not.toContain(signature)
  })
})
