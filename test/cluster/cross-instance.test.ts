/**
 * Several gateway instances in one test process, sharing a real Redis and one store: stop and
 * delete reach the instance that runs the query, and a dead instance's queries end FAILED.
 */
import type { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createGateway, type GatewayApp } from '../../src/app.ts'
import type { ClusterRunner } from '../../src/cluster/cluster-runner.ts'
import {
  INSTANCE_LOST_MESSAGE,
  startDeadInstanceSweeper,
} from '../../src/cluster/dead-instance-sweeper.ts'
import type { RedisLimiter } from '../../src/cluster/redis-limiter.ts'
import { toRecordKey, toResultKey } from '../../src/domain/query-id.ts'
import { createRedisRegistry, type RedisRegistry } from '../../src/cluster/redis-registry.ts'
import { createClusterInstance } from '../../src/runtime/node/cluster.ts'
import { createMemoryStore } from '../../src/store/memory.ts'
import type { BlobStore } from '../../src/store/types.ts'
import {
  ANALYST,
  makeTestDeps,
  toSqlResponse,
  toStream,
  type TestDeps,
} from '../support/test-deps.ts'
import { startRedisServer, type RedisServer } from '../support/redis-server.ts'

let server: RedisServer
let namespaces = 0
const closers: (() => Promise<void>)[] = []

beforeAll(async () => {
  server = await startRedisServer()
})
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})
afterAll(() => server?.stop())

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

interface Instance {
  deps: TestDeps
  gateway: GatewayApp
  runner: ClusterRunner
  limiter: RedisLimiter
  registry: RedisRegistry
  redis: Redis
  /** Upstream calls this instance made, by SQL, with the signal it passed. */
  calls: Map<string, AbortSignal>
  /** Lets the held upstream call of `sql` answer. */
  finish(sql: string): void
  /** Stops heartbeats as a killed process would: nothing released, nothing renewed. */
  die(): Promise<void>
}

/** An instance whose upstream holds every `slow…` query until `finish` or an abort. */
function startInstance(
  prefix: string,
  store: BlobStore,
  options: { leaseMs?: number; heartbeatMs?: number; max?: number } = {},
): Instance {
  const leaseMs = options.leaseMs ?? 30_000
  const heartbeatMs = options.heartbeatMs ?? 100
  const deps = makeTestDeps({ maxConcurrentQueries: options.max ?? 4, maxConcurrentPerUser: 4 })
  const redis = server.connect()
  const subscriber = server.connect()
  const registry = createRedisRegistry({
    redis,
    prefix,
    maxRecords: 100,
    recordTtlMs: 60_000,
    leaseMs,
  })
  deps.store = store
  deps.registry = registry
  // Ids are global across instances, as randomUUID makes them in a real gateway.
  deps.newId = () => crypto.randomUUID()
  const calls = new Map<string, AbortSignal>()
  const held = new Map<string, () => void>()
  deps.setQueryHandler(async (query, _credentials, signal) => {
    calls.set(query.sql, signal!)
    if (query.sql.startsWith('slow')) {
      await new Promise<void>((resolve, reject) => {
        held.set(query.sql, resolve)
        signal!.addEventListener('abort', () => reject(signal!.reason), { once: true })
      })
    }
    return toStream(toSqlResponse([{ name: 'X', type: 'INTEGER' }], [['1']]))
  })
  const { limiter, createRunner } = createClusterInstance({
    redis,
    subscriber,
    registry,
    prefix,
    max: deps.config.maxConcurrentQueries,
    maxPerKey: deps.config.maxConcurrentPerUser,
    leaseMs,
    heartbeatMs,
    instanceId: `instance-${Math.random().toString(36).slice(2)}`,
  })
  const runner = createRunner(deps)
  const gateway = createGateway(deps, { runner })
  let dead = false
  const die = async () => {
    if (dead) return
    dead = true
    await runner.close()
    await limiter.close()
  }
  closers.push(async () => {
    await gateway.stopAll('The test is over.')
    await deps.settle()
    await die()
  })
  return {
    deps,
    gateway,
    runner,
    limiter,
    registry,
    redis,
    calls,
    finish: (sql) => held.get(sql)?.(),
    die,
  }
}

function twoInstances(options: { leaseMs?: number; heartbeatMs?: number; max?: number } = {}) {
  const prefix = `c${++namespaces}:`
  const store = createMemoryStore({ maxBytes: 1024 * 1024 })
  return {
    store,
    prefix,
    a: startInstance(prefix, store, options),
    b: startInstance(prefix, store, options),
  }
}

/** A dead-instance sweeper run by `instance`, stopped after the test. */
function startSweeper(instance: Instance, store: BlobStore, intervalMs: number) {
  const sweeper = startDeadInstanceSweeper({
    registry: instance.registry,
    store,
    logger: instance.deps.logger,
    now: instance.deps.now,
    intervalMs,
  })
  closers.push(async () => sweeper.stop())
  return sweeper
}

async function call(instance: Instance, method: string, path: string, body?: unknown) {
  const res = await instance.gateway.app.request(`/kylin/api/async_query${path}`, {
    method,
    headers: { Authorization: ANALYST, 'Content-Type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  })
  return { status: res.status, json: (await res.json()) as { data: Record<string, string> } }
}

async function submit(instance: Instance, sql: string): Promise<string> {
  const { json } = await call(instance, 'POST', '', { sql, project: 'learn_kylin' })
  return json.data.queryID!
}

async function statusOn(instance: Instance, id: string) {
  return (await call(instance, 'GET', `/${id}/status`)).json.data
}

async function waitFor<T>(read: () => Promise<T> | T, done: (value: T) => boolean, ms = 5000) {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await read()
    if (done(value)) return value
    if (Date.now() > deadline) throw new Error(`still ${JSON.stringify(value)}`)
    await sleep(20)
  }
}

async function storeKeys(store: BlobStore): Promise<string[]> {
  const keys: string[] = []
  for await (const key of store.list()) keys.push(key)
  return keys.sort()
}

describe('several instances on one Redis', () => {
  it('stops a query from another instance with the same FAILED result as a local stop', async () => {
    const { a, b } = twoInstances()
    const local = await submit(a, 'slow local')
    const remote = await submit(a, 'slow remote')
    await waitFor(
      () => a.calls.size,
      (n) => n === 2,
    )

    expect((await call(a, 'DELETE', `/stop/${local}`)).status).toBe(200)
    const stop = await call(b, 'DELETE', `/stop/${remote}`)
    expect(stop.status).toBe(200)
    expect(stop.json).toMatchObject({ code: '000', data: '' })

    // The upstream call on a, which b never held, is aborted.
    await waitFor(() => a.calls.get('slow remote')!.aborted, Boolean)
    const stopped = await waitFor(
      () => statusOn(b, remote),
      (s) => s.status !== 'RUNNING',
    )
    const stoppedHere = await waitFor(
      () => statusOn(a, local),
      (s) => s.status !== 'RUNNING',
    )
    expect(stopped).toEqual({ ...stoppedHere, queryID: remote })
    expect(stopped).toMatchObject({
      status: 'FAILED',
      info: 'The query was stopped by ANALYST before it finished.',
    })
    // A query that is not running any more cannot be stopped from anywhere.
    expect((await call(b, 'DELETE', `/stop/${remote}`)).status).toBe(409)
  })

  it('deletes a query running on another instance: its upstream call stops and nothing is left', async () => {
    const { a, b, store } = twoInstances()
    const id = await submit(a, 'slow delete')
    await waitFor(
      () => a.calls.size,
      (n) => n === 1,
    )
    expect((await call(b, 'DELETE', `/${id}`)).status).toBe(200)
    await waitFor(() => a.calls.get('slow delete')!.aborted, Boolean)
    await a.deps.settle()
    expect(await statusOn(a, id)).toMatchObject({ status: 'MISSING' })
    expect(await storeKeys(store)).toEqual([])
  })

  it('leaves no file behind when a delete on one instance races the end of the query on another', async () => {
    const { a, b, store } = twoInstances()
    const ids: string[] = []
    for (let i = 0; i < 10; i++) ids.push(await submit(a, `slow race ${i}`))
    await waitFor(
      () => a.calls.size,
      (n) => n === 4,
    )
    // Each query finishes on a while b deletes it; whichever wins, no CSV or record file stays.
    for (let i = 0; i < 10; i++) {
      await waitFor(() => a.calls.has(`slow race ${i}`), Boolean)
      a.finish(`slow race ${i}`)
      await sleep(i % 3)
      await call(b, 'DELETE', `/${ids[i]}`)
    }
    await a.deps.settle()
    await sleep(50)
    expect(await storeKeys(store)).toEqual([])
  })

  it('ends the queries of a dead instance FAILED once their lease lapses, and frees their slot', async () => {
    const { a, b, store } = twoInstances({ leaseMs: 500, max: 1 })
    startSweeper(b, store, 100)
    const orphan = await submit(a, 'slow orphan')
    await waitFor(
      () => a.calls.size,
      (n) => n === 1,
    )
    const queued = await submit(b, 'select 1')
    // Alive, a renews its leases: two leases later the query still runs and b's still waits.
    await sleep(1000)
    expect(await statusOn(b, orphan)).toMatchObject({ status: 'RUNNING' })
    expect(b.calls.size).toBe(0)

    await a.die()
    const failed = await waitFor(
      () => statusOn(b, orphan),
      (s) => s.status !== 'RUNNING',
    )
    expect(failed).toEqual({ queryID: orphan, status: 'FAILED', info: INSTANCE_LOST_MESSAGE })
    // The slot it held came back: b's query ran.
    expect(
      await waitFor(
        () => statusOn(b, queued),
        (s) => s.status !== 'RUNNING',
      ),
    ).toMatchObject({
      status: 'SUCCESSFUL',
    })
    // Should the "dead" instance still finish, its late result does not replace the failure.
    a.finish('slow orphan')
    await a.deps.settle()
    expect(await statusOn(b, orphan)).toEqual(failed)
    expect(await storeKeys(store)).toEqual(
      [toResultKey(queued), toRecordKey(queued), toRecordKey(orphan)].sort(),
    )
  })

  it('stops a query here when its lease was lost while this instance was silent', async () => {
    const { a, b, store } = twoInstances({ leaseMs: 300, heartbeatMs: 3_600_000 })
    const sweeper = startSweeper(b, store, 3_600_000)
    const id = await submit(a, 'slow silent')
    await waitFor(
      () => a.calls.size,
      (n) => n === 1,
    )
    await sleep(400)
    expect(await sweeper.sweep()).toBe(1)
    await a.runner.renew()
    expect(a.calls.get('slow silent')!.aborted).toBe(true)
    await a.deps.settle()
    expect(await statusOn(a, id)).toEqual({
      queryID: id,
      status: 'FAILED',
      info: INSTANCE_LOST_MESSAGE,
    })
    expect(await storeKeys(store)).toEqual([toRecordKey(id)])
  })

  it('answers 429 once the queue shared by all instances is full', async () => {
    const { a, b } = twoInstances({ max: 1 })
    a.deps.config.maxQueuedQueries = 2
    b.deps.config.maxQueuedQueries = 2
    await submit(a, 'slow first')
    await waitFor(
      () => a.calls.size,
      (n) => n === 1,
    )
    await submit(a, 'slow second')
    await submit(a, 'slow third')
    await waitFor(
      () => a.limiter.countQueued(),
      (n) => n === 2,
    )
    // b queued nothing itself, yet the cluster's queue is full.
    const refused = await call(b, 'POST', '', { sql: 'select 1', project: 'learn_kylin' })
    expect(refused.status).toBe(429)
  })
})
