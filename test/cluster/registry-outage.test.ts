/**
 * No record stuck RUNNING when Redis goes away mid-query: the query ends, SUCCESSFUL or FAILED,
 * once Redis is back. A real redis-server, stopped and started again on its append-only file,
 * under a real Node gateway (REGISTRY=redis) and the loopback fake Kylin.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/config.ts'
import { startNodeGateway, type NodeGateway } from '../../src/runtime/node/gateway.ts'
import { BASIC, startFakeKylin, type FakeKylin } from '../support/fake-kylin.ts'
import { startRedisServer, type RedisServer } from '../support/redis-server.ts'
import { collectUnhandledRejections } from '../support/unhandled-rejections.ts'

const unhandled = collectUnhandledRejections()
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

let kylin: FakeKylin
let redis: RedisServer
let redisDir: string
let gateway: NodeGateway

beforeAll(async () => {
  redisDir = await mkdtemp(join(tmpdir(), 'redis-outage-'))
  ;[redis, kylin] = await Promise.all([startRedisServer({ dataDir: redisDir }), startFakeKylin()])
  gateway = await startNodeGateway(
    parseConfig({
      KYLIN_UPSTREAM_URL: kylin.url,
      PORT: '0',
      HOST: '127.0.0.1',
      STORE: 'memory',
      REGISTRY: 'redis',
      REDIS_URL: redis.url,
      CLUSTER_LEASE_MS: '15000',
      LOG_LEVEL: 'silent',
    }),
  )
}, 30_000)

afterAll(async () => {
  await gateway?.close()
  await kylin?.close()
  await redis?.stop()
  await rm(redisDir, { recursive: true, force: true })
})

async function status(id: string): Promise<string | undefined> {
  const res = await fetch(`${gateway.url}/kylin/api/async_query/${id}/status`, {
    headers: { Authorization: BASIC.ANALYST },
  })
  if (res.status !== 200) return undefined
  return ((await res.json()) as { data: { status: string } }).data.status
}

describe('a Redis outage mid-query', () => {
  it('ends the query once Redis is back, instead of leaving it RUNNING', async () => {
    const res = await fetch(`${gateway.url}/kylin/api/async_query`, {
      method: 'POST',
      headers: { Authorization: BASIC.ANALYST, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        sql: 'select * from kylin_sales /* sleep_ms_1500 */',
        project: 'learn_kylin',
      }),
    })
    expect(res.status).toBe(200)
    const id = ((await res.json()) as { data: { queryID: string } }).data.queryID
    expect(await status(id)).toBe('RUNNING')

    // Down while the query runs, through its end (progress and the final write fail), ...
    await redis.stop()
    await sleep(8_000)
    // ... then back with what it had.
    redis = await startRedisServer({ port: redis.port, dataDir: redisDir })

    const deadline = Date.now() + 20_000
    let last = await status(id)
    while ((last === 'RUNNING' || last === undefined) && Date.now() < deadline) {
      await sleep(200)
      last = await status(id)
    }
    expect(['SUCCESSFUL', 'FAILED']).toContain(last)
    expect(unhandled).toEqual([])
  }, 60_000)
})
