/**
 * REGISTRY=redis wiring in the Node gateway: settings errors are one line and never show the
 * Redis password; a started gateway keeps its records in Redis and quits its connections on close.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../../src/config/config.ts'
import { ConfigError } from '../../../src/errors.ts'
import { startNodeGateway } from '../../../src/runtime/node/gateway.ts'
import { BASIC, startFakeKylin, type FakeKylin } from '../../support/fake-kylin.ts'
import { startRedisServer, type RedisServer } from '../../support/redis-server.ts'

const base = { KYLIN_UPSTREAM_URL: 'http://kylin:7070', LOG_LEVEL: 'silent' }

function errorOf(run: () => unknown): Promise<Error> {
  return Promise.resolve()
    .then(run)
    .then(
      () => {
        throw new Error('no error')
      },
      (error: unknown) => error as Error,
    )
}

describe('REGISTRY=redis settings', () => {
  it('defaults to the in-memory registry', () => {
    const config = parseConfig(base)
    expect(config.registry).toBe('memory')
    expect(config.redis).toBeUndefined()
  })

  it('reads the Redis settings, with a lease default', () => {
    const config = parseConfig({ ...base, REGISTRY: 'redis', REDIS_URL: 'redis://r:6379/2' })
    expect(config.redis).toEqual({ url: 'redis://r:6379/2', keyPrefix: 'kag:', leaseMs: 15_000 })
  })

  it.each([
    [{ REGISTRY: 'redis' }, 'REDIS_URL (--redis-url) is required with REGISTRY=redis'],
    [{ REGISTRY: 'etcd' }, 'REGISTRY (--registry) has a bad value "etcd"'],
    [
      { REGISTRY: 'redis', REDIS_URL: 'http://user:s3cret@redis:6379' },
      'REDIS_URL (--redis-url) has a bad value: must be a redis:// or rediss:// URL',
    ],
    [{ REGISTRY: 'redis', REDIS_URL: 'redis://r', CLUSTER_LEASE_MS: '10' }, 'CLUSTER_LEASE_MS'],
  ])('stops on %j with one line, no password', async (vars, message) => {
    const error = await errorOf(() => parseConfig({ ...base, ...vars }))
    expect(error).toBeInstanceOf(ConfigError)
    expect(error.message).toContain(message)
    expect(error.message).not.toContain('\n')
    expect(error.message).not.toContain('s3cret')
  })
})

describe('startNodeGateway with REGISTRY=redis', () => {
  let redis: RedisServer
  let kylin: FakeKylin

  beforeAll(async () => {
    ;[redis, kylin] = await Promise.all([startRedisServer(), startFakeKylin()])
  })
  afterAll(async () => {
    await kylin?.close()
    await redis?.stop()
  })

  it('says in one line, password hidden, when Redis cannot be reached', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const { port } = closed.address() as AddressInfo
    await new Promise<void>((resolve) => closed.close(() => resolve()))
    const config = parseConfig({
      ...base,
      PORT: '0',
      STORE: 'memory',
      REGISTRY: 'redis',
      REDIS_URL: `redis://:s3cret@127.0.0.1:${port}`,
    })
    const error = await errorOf(() => startNodeGateway(config))
    expect(error).toBeInstanceOf(ConfigError)
    expect(error.message).toMatch(
      new RegExp(
        `^REDIS_URL \\(--redis-url\\) redis://\\[redacted\\]@127\\.0\\.0\\.1:${port} cannot be reached: `,
      ),
    )
    expect(error.message).not.toContain('s3cret')
    expect(error.message).not.toContain('\n')
  })

  it('keeps records in Redis, skips the rebuild from record files, and quits Redis on close', async () => {
    // A record file an fs-store gateway left: with Redis as the source of truth it is not read.
    const dataDir = await mkdtemp(join(tmpdir(), 'node-cluster-'))
    const leftover = '11111111-2222-4333-8444-555555555555'
    await writeFile(
      join(dataDir, `${leftover}.json`),
      JSON.stringify({
        id: leftover,
        owner: 'ANALYST',
        project: 'learn_kylin',
        options: { separator: ',', includeHeader: false, fileName: 'result' },
        state: 'RUNNING',
        rows: 0,
        bytes: 0,
        createdAt: 1,
        updatedAt: 1,
      }),
    )
    const config = parseConfig({
      ...base,
      KYLIN_UPSTREAM_URL: kylin.url,
      PORT: '0',
      HOST: '127.0.0.1',
      STORE: 'fs',
      DATA_DIR: dataDir,
      REGISTRY: 'redis',
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: 'wiring:',
    })
    const gateway = await startNodeGateway(config)
    const client = redis.connect()
    const names = async () =>
      String(await client.client('LIST'))
        .split('\n')
        .map((line) => /name=(\S*)/.exec(line)?.[1])
        .filter((name) => name?.startsWith('kylin-async-gateway'))
    expect((await names()).sort()).toEqual(['kylin-async-gateway', 'kylin-async-gateway-events'])

    const res = await fetch(`${gateway.url}/kylin/api/async_query`, {
      method: 'POST',
      headers: { Authorization: BASIC.ANALYST, 'Content-Type': 'application/json' },
      body: JSON.stringify({ sql: 'select * from kylin_sales', project: 'learn_kylin' }),
    })
    const id = ((await res.json()) as { data: { queryID: string } }).data.queryID
    expect(await client.hget(`wiring:q:${id}`, 'owner')).toBe('"ANALYST"')
    const status = await fetch(`${gateway.url}/kylin/api/async_query/${leftover}/status`, {
      headers: { Authorization: BASIC.ANALYST },
    })
    expect(((await status.json()) as { data: { status: string } }).data.status).toBe('MISSING')

    await gateway.close()
    expect(await names()).toEqual([])
    await rm(dataDir, { recursive: true, force: true })
  })
})
