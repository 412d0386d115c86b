/**
 * Following a query whose bytes are not to be had here (it runs on another instance, or has
 * written past the join window): the stored file once the record is SUCCESSFUL, an error once it
 * fails or is deleted, the live stream where the runner has one, and 429 past the bound.
 */
import { describe, expect, it } from 'vitest'
import type { QueryRecord } from '../../src/domain/query.ts'
import { toResultKey } from '../../src/domain/query-id.ts'
import { GatewayError } from '../../src/errors.ts'
import { createFollowing } from '../../src/queries/followed-result.ts'
import { FOLLOWERS_FULL, FollowAbortedError } from '../../src/queries/live-results.ts'
import { createMemoryRegistry } from '../../src/registry/memory.ts'
import { createMemoryStore } from '../../src/store/memory.ts'
import { toStream } from '../support/test-deps.ts'

const ID = '00000000-0000-4000-8000-0000000f0110'
const RECORD: QueryRecord = {
  id: ID,
  owner: 'ANALYST',
  project: 'learn_kylin',
  options: { separator: ',', includeHeader: false, fileName: 'result' },
  state: 'RUNNING',
  rows: 0,
  bytes: 0,
  createdAt: 1,
  updatedAt: 1,
}

async function setUp() {
  const registry = createMemoryRegistry({ maxRecords: 10 })
  const store = createMemoryStore({ maxBytes: 1024 * 1024 })
  await registry.create(RECORD)
  // A runner that does not run the query here.
  const follow = createFollowing({ registry, store }, { follow: async () => null }, { pollMs: 10 })
  return { registry, store, follow }
}

describe('queries/followed-result', () => {
  it('waits for the end, then streams the stored file', async () => {
    const { registry, store, follow } = await setUp()
    const text = new Response(await follow(RECORD)).text()
    await new Promise((resolve) => setTimeout(resolve, 40))
    await store.put(toResultKey(ID), toStream('a,b\nc,d\n'))
    await registry.update(ID, { state: 'SUCCESSFUL', rows: 2, bytes: 8, finishedAt: 2 })
    expect(await text).toBe('a,b\nc,d\n')
  })

  it("is woken by the registry's change notification, not by its re-read interval", async () => {
    const registry = createMemoryRegistry({ maxRecords: 10 })
    const store = createMemoryStore({ maxBytes: 1024 * 1024 })
    await registry.create(RECORD)
    // Re-reading once a minute: only the change notification can answer within the test.
    const follow = createFollowing(
      { registry, store },
      { follow: async () => null },
      { pollMs: 60_000 },
    )
    const text = new Response(await follow(RECORD)).text()
    await new Promise((resolve) => setTimeout(resolve, 20))
    await store.put(toResultKey(ID), toStream('a,b\n'))
    await registry.update(ID, { state: 'SUCCESSFUL', rows: 1, bytes: 4, finishedAt: 2 })
    expect(await text).toBe('a,b\n')
  })

  it('re-reads the record where the registry cannot wait', async () => {
    const memory = createMemoryRegistry({ maxRecords: 10 })
    await memory.create(RECORD)
    const { waitForChange: _unused, ...registry } = memory
    const store = createMemoryStore({ maxBytes: 1024 * 1024 })
    const follow = createFollowing(
      { registry, store },
      { follow: async () => null },
      { pollMs: 10 },
    )
    const text = new Response(await follow(RECORD)).text()
    await store.put(toResultKey(ID), toStream('c,d\n'))
    await memory.update(ID, { state: 'SUCCESSFUL', rows: 1, bytes: 4, finishedAt: 2 })
    expect(await text).toBe('c,d\n')
  })

  it('errors once the query fails or is deleted, never ending as if whole', async () => {
    const failing = await setUp()
    const failed = new Response(await failing.follow(RECORD)).text()
    await failing.registry.update(ID, { state: 'FAILED', error: 'x', finishedAt: 2 })
    await expect(failed).rejects.toBeInstanceOf(FollowAbortedError)

    const deleting = await setUp()
    const deleted = new Response(await deleting.follow(RECORD)).text()
    await deleting.registry.delete(ID)
    await expect(deleted).rejects.toBeInstanceOf(FollowAbortedError)
  })

  it('hands over the live stream where the runner has one, and 429 where it is full', async () => {
    const registry = createMemoryRegistry({ maxRecords: 10 })
    const store = createMemoryStore({ maxBytes: 1024 })
    const live = toStream('live bytes')
    const follow = createFollowing({ registry, store }, { follow: async () => live })
    expect(await follow(RECORD)).toBe(live)
    const full = createFollowing({ registry, store }, { follow: async () => FOLLOWERS_FULL })
    const refusal = await full(RECORD).catch((error: unknown) => error)
    expect(refusal).toBeInstanceOf(GatewayError)
    expect((refusal as GatewayError).status).toBe(429)
  })

  it('bounds the followers waiting here per query; one that leaves frees its place', async () => {
    const registry = createMemoryRegistry({ maxRecords: 10 })
    const store = createMemoryStore({ maxBytes: 1024 })
    await registry.create(RECORD)
    const follow = createFollowing(
      { registry, store },
      { follow: async () => null },
      { pollMs: 10, maxWaiters: 2 },
    )
    const first = await follow(RECORD)
    await follow(RECORD)
    await expect(follow(RECORD)).rejects.toMatchObject({ status: 429 })
    await first.cancel()
    await expect(follow(RECORD)).resolves.toBeInstanceOf(ReadableStream)
  })
})
