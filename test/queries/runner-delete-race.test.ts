/**
 * A delete that lands while a query writes its final record file (as one from another instance
 * does, its stop message still on the way) must leave no result and no record file behind.
 */
import { describe, expect, it } from 'vitest'
import { createGateway } from '../../src/app.ts'
import { toRecordKey, toResultKey } from '../../src/domain/query-id.ts'
import type { BlobStore } from '../../src/store/types.ts'
import { ANALYST, makeTestDeps, type TestDeps } from '../support/test-deps.ts'

/** Deletes the query the way another instance would, just before its final record file is put. */
function deleteBeforeFinalRecordFile(deps: TestDeps, state: 'SUCCESSFUL' | 'FAILED') {
  const store = deps.store
  const wrapped: BlobStore = Object.create(store) as BlobStore
  wrapped.put = async (key, body, options) => {
    const id = key.slice(0, -'.json'.length)
    const record = key.endsWith('.json') ? await deps.registry.get(id) : null
    if (record?.state === state) {
      await deps.registry.delete(id)
      await Promise.all([store.delete(toResultKey(id)), store.delete(toRecordKey(id))])
    }
    return store.put(key, body, options)
  }
  deps.store = wrapped
}

async function keysOf(store: BlobStore): Promise<string[]> {
  const keys: string[] = []
  for await (const key of store.list()) keys.push(key)
  return keys
}

async function submit(deps: TestDeps, sql: string) {
  const { app } = createGateway(deps)
  const res = await app.request('/kylin/api/async_query', {
    method: 'POST',
    headers: { Authorization: ANALYST, 'Content-Type': 'application/json' },
    body: JSON.stringify({ sql, project: 'learn_kylin' }),
  })
  expect(res.status).toBe(200)
  await deps.settle()
}

describe('a delete racing the end of a query', () => {
  it('leaves nothing behind when the query succeeds', async () => {
    const deps = makeTestDeps()
    deleteBeforeFinalRecordFile(deps, 'SUCCESSFUL')
    await submit(deps, 'select 1')
    expect(await deps.registry.list()).toEqual([])
    expect(await keysOf(deps.store)).toEqual([])
  })

  it('leaves nothing behind when the query fails', async () => {
    const deps = makeTestDeps()
    deleteBeforeFinalRecordFile(deps, 'FAILED')
    await submit(deps, 'select fail')
    expect(await deps.registry.list()).toEqual([])
    expect(await keysOf(deps.store)).toEqual([])
  })
})
