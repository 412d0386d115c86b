/**
 * Three gateway processes as one: a shared Redis (registry, slots, queue, leases) and a shared
 * S3 store (s3rver behind a loopback front). Submit on one, poll on another, download from the
 * third; a killed instance's query ends FAILED; the cluster-wide cap holds under 200 submits.
 */
import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { INSTANCE_LOST_MESSAGE } from '../../src/cluster/dead-instance-sweeper.ts'
import { encodeCsvRow } from '../../src/export/csv/encode.ts'
import { BASIC, startFakeKylin, toGeneratedRow, type FakeKylin } from '../support/fake-kylin.ts'
import { startGatewayProcess, type GatewayProcess as Gateway } from '../support/gateway-process.ts'
import { startRedisServer, type RedisServer } from '../support/redis-server.ts'
import { startS3Proxy, type S3Proxy } from '../support/s3-proxy.ts'
import { S3RVER_CREDENTIALS, startS3TestServer, type S3TestServer } from '../support/s3-server.ts'

const LEASE_MS = 1500
const MAX_CONCURRENT = 8
const USERS = [BASIC.ADMIN, BASIC.ANALYST, BASIC.MODELER]

let kylin: FakeKylin
let redis: RedisServer
let s3: S3TestServer
let proxy: S3Proxy
const gateways: Gateway[] = []

function startGateway(): Promise<Gateway> {
  return startGatewayProcess({
    KYLIN_UPSTREAM_URL: kylin.url,
    REGISTRY: 'redis',
    REDIS_URL: redis.url,
    CLUSTER_LEASE_MS: String(LEASE_MS),
    STORE: 's3',
    S3_ENDPOINT: proxy.endpoint,
    S3_BUCKET: s3.bucket,
    AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    MAX_CONCURRENT_QUERIES: String(MAX_CONCURRENT),
    SHUTDOWN_GRACE_MS: '0',
    LOG_LEVEL: 'info',
  })
}

async function api(gateway: Gateway, path: string, init: RequestInit & { auth?: string } = {}) {
  const headers = new Headers(init.headers)
  headers.set('Authorization', init.auth ?? BASIC.ANALYST)
  headers.set('Accept-Encoding', 'identity')
  return fetch(`${gateway.url}/kylin/api/async_query${path}`, { ...init, headers })
}

async function submit(gateway: Gateway, sql: string, auth?: string): Promise<string> {
  const res = await api(gateway, '', {
    method: 'POST',
    auth,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ sql, project: 'learn_kylin' }),
  })
  expect(res.status).toBe(200)
  return ((await res.json()) as { data: { queryID: string } }).data.queryID
}

async function statusOf(gateway: Gateway, id: string, auth?: string) {
  const res = await api(gateway, `/${id}/status`, { auth })
  return ((await res.json()) as { data: { status: string; info: string } }).data
}

async function waitForEnd(gateway: Gateway, id: string, auth?: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const status = await statusOf(gateway, id, auth)
    if (status.status !== 'RUNNING') return status
    if (Date.now() > deadline) throw new Error(`${id} still RUNNING`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

beforeAll(async () => {
  ;[kylin, redis, s3] = await Promise.all([
    startFakeKylin(),
    startRedisServer(),
    startS3TestServer(),
  ])
  proxy = await startS3Proxy(s3)
  gateways.push(...(await Promise.all([startGateway(), startGateway(), startGateway()])))
}, 60_000)

afterAll(async () => {
  for (const gateway of gateways) {
    if (gateway.child.exitCode === null && gateway.child.signalCode === null) {
      gateway.child.kill('SIGTERM')
    }
    await gateway.exited
  }
  await proxy?.close()
  await s3?.close()
  await redis?.stop()
  await kylin?.close()
}, 60_000)

describe('three gateway processes sharing Redis and S3', () => {
  it('submits on one, polls on another and downloads the same bytes from the third', async () => {
    const [one, two, three] = gateways as [Gateway, Gateway, Gateway]
    const id = await submit(one, 'select * from rows_2000')
    const expected = Array.from({ length: 2000 }, (_, i) =>
      encodeCsvRow(toGeneratedRow(i + 1), ','),
    ).join('')
    expect(await waitForEnd(two, id)).toEqual({
      queryID: id,
      status: 'SUCCESSFUL',
      info: 'await fetching results',
      rows: 2000,
      bytes: Buffer.byteLength(expected),
      sha256: createHash('sha256').update(expected).digest('hex'),
    })
    const res = await api(three, `/${id}/result`)
    expect(res.status).toBe(200)
    const bytes = new Uint8Array(await res.arrayBuffer())
    expect(Buffer.from(bytes).equals(Buffer.from(expected, 'utf8'))).toBe(true)
    // The owner holds across instances: another user is refused on any of them.
    expect((await api(two, `/${id}/result`, { auth: BASIC.MODELER })).status).toBe(403)
    // Deleted on one, gone on all.
    expect((await api(three, `/${id}`, { method: 'DELETE' })).status).toBe(200)
    expect(await statusOf(one, id)).toMatchObject({ status: 'MISSING' })
  })

  it(`holds MAX_CONCURRENT_QUERIES=${MAX_CONCURRENT} across the cluster under 200 concurrent submits`, async () => {
    const started = performance.now()
    const submits = Array.from({ length: 200 }, (_, i) => {
      const auth = USERS[i % USERS.length]!
      const gateway = gateways[i % 3]!
      return submit(gateway, `select * from rows_200 /* sleep_ms_200 q${i} */`, auth).then(
        (id) => ({
          id,
          auth,
          i,
        }),
      )
    })
    const queries = await Promise.all(submits)
    const submitted = (performance.now() - started) / 1000
    const statuses = await Promise.all(
      queries.map(({ id, auth, i }) => waitForEnd(gateways[(i + 1) % 3]!, id, auth, 60_000)),
    )
    const seconds = (performance.now() - started) / 1000
    const successful = statuses.filter((s) => s.status === 'SUCCESSFUL').length
    console.log(
      `multi-instance: 200 submits over 3 instances (all answered in ${submitted.toFixed(2)} s), ` +
        `${successful} SUCCESSFUL in ${seconds.toFixed(2)} s; ` +
        `upstream queries at once at most ${kylin.maxInFlight} (MAX_CONCURRENT_QUERIES=${MAX_CONCURRENT})`,
    )
    // What the others ended as, should any not succeed.
    if (successful < 200) console.log([...new Set(statuses.map((s) => `${s.status} ${s.info}`))])
    expect(successful).toBe(200)
    expect(kylin.maxInFlight).toBeLessThanOrEqual(MAX_CONCURRENT)
    // Not one instance's share: the slots are used by the three together.
    expect(kylin.maxInFlight).toBeGreaterThan(MAX_CONCURRENT / 2)
  }, 120_000)

  it('ends a query FAILED when the instance running it is killed, as seen from a survivor', async () => {
    const [one, two] = gateways as [Gateway, Gateway, Gateway]
    const id = await submit(one, 'select * from kylin_sales /* sleep_ms_60000 */')
    const upstreamBefore = kylin.inFlight
    for (let i = 0; i < 100 && kylin.inFlight === upstreamBefore; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect(kylin.inFlight).toBe(upstreamBefore + 1)
    expect(await statusOf(two, id)).toMatchObject({ status: 'RUNNING' })
    const killedAt = Date.now()
    one.child.kill('SIGKILL')
    await one.exited
    const status = await waitForEnd(two, id, undefined, 20_000)
    console.log(
      `multi-instance: query of the killed instance FAILED ${Date.now() - killedAt} ms after SIGKILL (CLUSTER_LEASE_MS=${LEASE_MS})`,
    )
    expect(status).toEqual({ queryID: id, status: 'FAILED', info: INSTANCE_LOST_MESSAGE })
    expect(await s3.listAllKeys()).not.toContain(`${id}.csv`)
    // Its slot came back too: a new query runs to the end on the survivors.
    const next = await submit(two, 'select * from kylin_sales')
    expect(await waitForEnd(gateways[2]!, next)).toMatchObject({ status: 'SUCCESSFUL' })
  }, 60_000)
})
