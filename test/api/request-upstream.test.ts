/** Which upstream an async-query request belongs to: body project, record, ?project=, default. */
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { createRequestUpstreams } from '../../src/api/request-upstream.ts'
import type { AppEnv } from '../../src/api/app-env.ts'
import { parseConfig } from '../../src/config/config.ts'
import type { QueryRecord } from '../../src/domain/query.ts'
import { GatewayError } from '../../src/errors.ts'
import { createMemoryRegistry } from '../../src/registry/memory.ts'
import type { KylinClient } from '../../src/upstream/types.ts'
import { createUpstreamRouter } from '../../src/upstream/upstream-router.ts'

const PATH = '/kylin/api/async_query'
const ID = '0b8e3a4c-1d2f-4e5a-9b6c-7d8e9f0a1b2c'
const OLD_ID = '1c9f4b5d-2e3a-4f6b-8c7d-8e9f0a1b2c3d'

function setUp(maxBodyBytes = 1024) {
  const upstreams = createUpstreamRouter(
    parseConfig({ KYLIN_UPSTREAMS: 'k5=http://kylin5:7070,*=http://kylin4:7070' }).upstreams,
    () => ({}) as KylinClient,
  )
  const registry = createMemoryRegistry({ maxRecords: 10 })
  const requests = createRequestUpstreams({ upstreams, registry, maxBodyBytes })
  const app = new Hono<AppEnv>()
  app.onError((error) =>
    Response.json(
      { error: error.message },
      { status: error instanceof GatewayError ? error.status : 500 },
    ),
  )
  app.all('*', async (c) => {
    const upstream = await requests.of(c)
    // The route still reads the whole body after the look.
    const body = c.req.method === 'POST' ? await c.req.text() : ''
    return c.json({ upstream: upstream.name, body })
  })
  const ask = async (path: string, init?: RequestInit) => {
    const res = await app.request(path, init)
    return { status: res.status, ...((await res.json()) as { upstream?: string; body?: string }) }
  }
  return { app, ask, registry, requests }
}

const record = (id: string, fields: Partial<QueryRecord>): QueryRecord => ({
  id,
  owner: 'ANALYST',
  project: 'k5',
  options: { separator: ',', includeHeader: false, fileName: 'result' },
  state: 'SUCCESSFUL',
  rows: 0,
  bytes: 0,
  createdAt: 1,
  updatedAt: 1,
  ...fields,
})

describe('createRequestUpstreams', () => {
  it("routes a submit by its body's project and leaves the body for the route", async () => {
    const { ask } = setUp()
    const body = JSON.stringify({ sql: 'select 1', project: 'K5' })
    expect(await ask(PATH, { method: 'POST', body })).toEqual({
      status: 200,
      upstream: 'kylin5:7070',
      body,
    })
    for (const other of ['{"sql":"select 1","project":"learn"}', 'not json', '{"project":5}']) {
      expect((await ask(`${PATH}/`, { method: 'POST', body: other })).upstream).toBe('kylin4:7070')
    }
  })

  it('refuses a submit body past MAX_BODY_BYTES before reading more', async () => {
    const { ask } = setUp(64)
    const body = JSON.stringify({ project: 'k5', sql: 'x'.repeat(100) })
    expect((await ask(PATH, { method: 'POST', body })).status).toBe(413)
    const chunked = new Request(`http://gw${PATH}`, {
      method: 'POST',
      body: new Blob([body]).stream(),
      duplex: 'half',
    } as RequestInit)
    expect((await ask(chunked.url, chunked)).status).toBe(413)
  })

  it("takes a query's upstream from its record, whatever ?project= says", async () => {
    const { ask, registry, requests } = setUp()
    await registry.create(record(ID, { upstream: 'kylin5:7070', project: 'elsewhere' }))
    // Recorded before routing: its project's upstream.
    await registry.create(record(OLD_ID, { project: 'k5' }))
    expect((await ask(`${PATH}/${ID}/status?project=learn`)).upstream).toBe('kylin5:7070')
    expect((await ask(`${PATH}/${OLD_ID}/result`)).upstream).toBe('kylin5:7070')
    expect(requests.ofRecordNow(ID)?.name).toBe('kylin5:7070')
    expect(requests.ofRecordNow('not-an-id')).toBeUndefined()
  })

  it('takes ?project= for the rest, else the default', async () => {
    const { ask } = setUp()
    expect((await ask(`${PATH}?project=k5`)).upstream).toBe('kylin5:7070')
    expect((await ask(`${PATH}/${ID}/status?project=k5`)).upstream).toBe('kylin5:7070')
    expect((await ask(`${PATH}`)).upstream).toBe('kylin4:7070')
    expect((await ask(`${PATH}?project=other`)).upstream).toBe('kylin4:7070')
  })
})
