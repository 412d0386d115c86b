/**
 * No record stuck when the result store goes away: an S3-compatible bucket (s3rver) that stops
 * answering mid-query ends the query FAILED, a submit while it is away answers 503 and queues
 * nothing, and once it is back queries run as before. A real Node gateway and fake Kylin.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/config.ts'
import { startNodeGateway, type NodeGateway } from '../../src/runtime/node/gateway.ts'
import { createS3Store } from '../../src/store/s3.ts'
import { BASIC, startFakeKylin, type FakeKylin } from '../support/fake-kylin.ts'
import { S3RVER_CREDENTIALS, startS3TestServer, type S3TestServer } from '../support/s3-server.ts'
import { collectUnhandledRejections } from '../support/unhandled-rejections.ts'

const unhandled = collectUnhandledRejections()
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

let kylin: FakeKylin
let s3: S3TestServer
let gateway: NodeGateway
/** While set, every request to the bucket fails as an unreachable host does. */
let down = false

beforeAll(async () => {
  ;[kylin, s3] = await Promise.all([startFakeKylin(), startS3TestServer()])
  const store = createS3Store({
    endpoint: s3.endpoint,
    bucket: s3.bucket,
    credentials: S3RVER_CREDENTIALS,
    maxRetries: 1,
    fetch: s3.fetchWith(() => {
      if (!down) return undefined
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      })
    }),
  })
  gateway = await startNodeGateway(
    parseConfig({
      KYLIN_UPSTREAM_URL: kylin.url,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
    }),
    { store },
  )
}, 30_000)

afterAll(async () => {
  await gateway?.close()
  await kylin?.close()
  await s3?.close()
})

function submit(sql: string): Promise<Response> {
  return fetch(`${gateway.url}/kylin/api/async_query`, {
    method: 'POST',
    headers: { Authorization: BASIC.ANALYST, 'Content-Type': 'application/json' },
    body: JSON.stringify({ sql, project: 'learn_kylin' }),
  })
}

async function waitForEnd(id: string): Promise<{ status: string; info: string }> {
  const deadline = Date.now() + 20_000
  for (;;) {
    const res = await fetch(`${gateway.url}/kylin/api/async_query/${id}/status`, {
      headers: { Authorization: BASIC.ANALYST },
    })
    const { data } = (await res.json()) as { data: { status: string; info: string } }
    if (data.status !== 'RUNNING' || Date.now() > deadline) return data
    await sleep(50)
  }
}

describe('a result store outage', () => {
  it('ends a running query FAILED, refuses submits with 503, and serves again once back', async () => {
    const res = await submit('select * from kylin_sales /* sleep_ms_800 */')
    const id = ((await res.json()) as { data: { queryID: string } }).data.queryID
    down = true
    const ended = await waitForEnd(id)
    expect(ended.status).toBe('FAILED')
    expect(ended.info).toMatch(/ECONNREFUSED|fetch failed|s3/i)

    const refused = await submit('select * from kylin_sales')
    expect(refused.status).toBe(503)
    expect(((await refused.json()) as { msg: string }).msg).toContain(
      'its result store refused a write',
    )
    expect(gateway.gateway.queuedQueries + gateway.gateway.activeQueries).toBe(0)

    down = false
    expect(await s3.listAllKeys()).not.toContain(`${id}.csv`)
    const again = await submit('select * from kylin_sales')
    expect(again.status).toBe(200)
    const next = ((await again.json()) as { data: { queryID: string } }).data.queryID
    expect((await waitForEnd(next)).status).toBe('SUCCESSFUL')
    expect(unhandled).toEqual([])
  }, 60_000)
})
