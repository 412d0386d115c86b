/**
 * The Redis registry against a real redis-server: the shared contract, plus what only a shared
 * registry has — record TTLs, leases of running queries, and failing those whose lease expired.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Redis } from 'ioredis'
import { createRedisRegistry, type RedisRegistryOptions } from '../../src/cluster/redis-registry.ts'
import { startRedisServer, type RedisServer } from '../support/redis-server.ts'
import { describeRegistryContract, makeRecord } from '../registry/contract.ts'
import { describeChangeContract } from '../registry/change-contract.ts'

let server: RedisServer
let redis: Redis
let namespaces = 0

beforeAll(async () => {
  server = await startRedisServer()
  redis = server.connect()
})
afterAll(() => server?.stop())

/** A registry in a namespace of its own, so cases never see each other's keys. */
function makeRegistry(overrides: Partial<RedisRegistryOptions> = {}) {
  const evicted: string[] = []
  const prefix = `t${++namespaces}:`
  const registry = createRedisRegistry({
    redis,
    prefix,
    maxRecords: 100,
    recordTtlMs: 60_000,
    leaseMs: 60_000,
    onEvict: (id) => evicted.push(id),
    ...overrides,
  })
  return { registry, evicted, prefix }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Another instance's registry on the same keys. */
function sameNamespace(prefix: string, overrides: Partial<RedisRegistryOptions> = {}) {
  return createRedisRegistry({
    redis: server.connect(),
    prefix,
    maxRecords: 100,
    recordTtlMs: 60_000,
    leaseMs: 60_000,
    ...overrides,
  })
}

describeRegistryContract('redis', async (maxRecords) => makeRegistry({ maxRecords }))

describe('createRedisRegistry', () => {
  it('keeps a running record without TTL and a finished one for recordTtlMs after its last change', async () => {
    const { registry, prefix } = makeRegistry({ recordTtlMs: 30_000 })
    await registry.create(makeRecord('a'))
    expect(await redis.pttl(`${prefix}q:a`)).toBe(-1)
    await registry.update('a', { state: 'SUCCESSFUL' })
    const ttl = await redis.pttl(`${prefix}q:a`)
    expect(ttl).toBeGreaterThan(29_000)
    expect(ttl).toBeLessThanOrEqual(30_000)
    await registry.create(makeRecord('b', 'FAILED'))
    expect(await redis.pttl(`${prefix}q:b`)).toBeGreaterThan(29_000)
  })

  it('forgets an expired finished record, in get and list alike', async () => {
    const { registry, prefix } = makeRegistry({ recordTtlMs: 100 })
    await registry.create(makeRecord('short', 'SUCCESSFUL'))
    await registry.create(makeRecord('running'))
    await sleep(250)
    expect(await registry.get('short')).toBeNull()
    expect((await registry.list()).map((r) => r.id)).toEqual(['running'])
    expect(await redis.zrange(`${prefix}index`, '0', '-1')).toEqual(['running'])
  })

  it('lets the list entry and reuse pointer of a finished record go with its TTL', async () => {
    const { registry, prefix } = makeRegistry({ recordTtlMs: 150 })
    await registry.create({ ...makeRecord('brief'), reuseKey: 'rk', createdAt: 5 })
    await registry.create({ ...makeRecord('stays'), createdAt: 6 })
    await registry.update('brief', { state: 'SUCCESSFUL', finishedAt: 7 })
    expect((await registry.findReusable('ADMIN', 'rk'))?.id).toBe('brief')
    expect(await redis.pttl(`${prefix}reuse:rk`)).toBeGreaterThan(0)
    await sleep(300)
    expect(await registry.findReusable('ADMIN', 'rk')).toBeNull()
    expect(await redis.exists(`${prefix}reuse:rk`)).toBe(0)
    const page = await registry.listPage({ owner: 'ADMIN', limit: 10 })
    expect(page.queries.map((q) => q.id)).toEqual(['stays'])
    // Met once, the stale entry is gone from the index as well.
    expect(await redis.zcard(`${prefix}listed`)).toBe(2)
    expect((await registry.listPage({ limit: 10 })).queries.map((q) => q.id)).toEqual(['stays'])
    expect(await redis.zcard(`${prefix}listed`)).toBe(1)
  })

  it('holds the leases of the running records it created, and reports those lost elsewhere', async () => {
    const mine = makeRegistry({ leaseMs: 300 })
    const other = sameNamespace(mine.prefix, { leaseMs: 300 })
    await mine.registry.create(makeRecord('kept'))
    await mine.registry.create(makeRecord('finished-elsewhere'))
    await mine.registry.create(makeRecord('deleted-elsewhere'))
    await mine.registry.create(makeRecord('finished-here'))
    await mine.registry.update('finished-here', { state: 'SUCCESSFUL' })
    await mine.registry.create(makeRecord('born-finished', 'FAILED'))
    await other.create(makeRecord('theirs'))
    expect(['kept', 'finished-here', 'born-finished', 'theirs'].map(mine.registry.holds)).toEqual([
      true,
      false,
      false,
      false,
    ])
    await other.update('finished-elsewhere', { state: 'SUCCESSFUL' })
    await other.delete('deleted-elsewhere')
    expect(await mine.registry.renewLeases()).toEqual([
      { id: 'finished-elsewhere', state: 'SUCCESSFUL' },
      { id: 'deleted-elsewhere', state: null },
    ])
    expect(await mine.registry.renewLeases()).toEqual([])
    expect(mine.registry.holds('finished-elsewhere')).toBe(false)
  })

  it('fails a running query whose lease expired, once, and leaves renewed and finished ones alone', async () => {
    const alive = makeRegistry({ leaseMs: 300 })
    const dead = sameNamespace(alive.prefix, { leaseMs: 300 })
    const { registry, prefix } = alive
    await dead.create(makeRecord('orphan'))
    await registry.create(makeRecord('renewed'))
    await registry.create(makeRecord('finished'))
    await registry.update('finished', { state: 'SUCCESSFUL', bytes: 3 })
    expect(await registry.failExpired('instance gone', 5)).toEqual([])
    for (let i = 0; i < 4; i++) {
      await sleep(100)
      await registry.renewLeases()
    }
    const failed = await registry.failExpired('instance gone', 7)
    expect(failed).toEqual([
      {
        ...makeRecord('orphan'),
        state: 'FAILED',
        error: 'instance gone',
        updatedAt: 7,
        finishedAt: 7,
        version: 1,
      },
    ])
    expect(await registry.get('orphan')).toEqual(failed[0])
    expect(await registry.get('renewed')).toMatchObject({ state: 'RUNNING' })
    expect(await registry.get('finished')).toMatchObject({ state: 'SUCCESSFUL', bytes: 3 })
    expect(await registry.failExpired('instance gone', 9)).toEqual([])
    // A failed record is final: the runner that lost its lease cannot finish it after all.
    expect(await dead.update('orphan', { state: 'SUCCESSFUL' })).toBeNull()
    expect(await dead.renewLeases()).toEqual([{ id: 'orphan', state: 'FAILED' }])
    expect(await redis.pttl(`${prefix}q:orphan`)).toBeGreaterThan(0)
  })

  it('is one registry for every instance: a record written by one is read and finished by another', async () => {
    const one = makeRegistry()
    const other = sameNamespace(one.prefix)
    await one.registry.create(makeRecord('shared'))
    expect(await other.update('shared', { state: 'FAILED', error: 'x' })).toMatchObject({
      state: 'FAILED',
    })
    expect(await one.registry.update('shared', { state: 'SUCCESSFUL' })).toBeNull()
    expect(await one.registry.get('shared')).toMatchObject({ state: 'FAILED', error: 'x' })
  })
})

// Two instances: one writes, the other waits, woken through its own subscription.
describeChangeContract('redis, across two instances', async () => {
  const { registry: writer, prefix } = makeRegistry()
  const watcher = sameNamespace(prefix, { subscriber: server.connect() })
  return { writer, watcher }
})

describe('createRedisRegistry change notification', () => {
  it('reads again after a resubscribe, so a message lost while disconnected only delays an answer', async () => {
    const { registry: writer, prefix } = makeRegistry()
    const subscriber = server.connect()
    const watcher = sameNamespace(prefix, { subscriber })
    await writer.create(makeRecord('lost'))
    const start = performance.now()
    const waiting = watcher.waitForChange!('lost', 0, 20_000)
    await sleep(50)
    // The change is published while the subscription's connection is away: its message is lost.
    const closed = new Promise((resolve) => subscriber.once('close', resolve))
    subscriber.disconnect(true)
    await closed
    await writer.update('lost', { rows: 9 })
    expect(await waiting).toMatchObject({ rows: 9, version: 1 })
    expect(performance.now() - start).toBeLessThan(10_000)
    await watcher.close()
  })
})
