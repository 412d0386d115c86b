/**
 * The query service's submit when its record cannot be kept: a clear 503 and nothing queued,
 * never a record left RUNNING with no query behind it. Through app.request, as clients call it.
 */
import { describe, expect, it } from 'vitest'
import { createApp } from '../../src/app.ts'
import { createMemoryRegistry } from '../../src/registry/memory.ts'
import type { BlobStore } from '../../src/store/types.ts'
import { ANALYST, makeTestDeps } from '../support/test-deps.ts'

function submit(deps: ReturnType<typeof makeTestDeps>) {
  return createApp(deps).request('/kylin/api/async_query', {
    method: 'POST',
    headers: { Authorization: ANALYST, 'Content-Type': 'application/json' },
    body: JSON.stringify({ sql: 'select * from kylin_sales', project: 'learn_kylin' }),
  })
}

/** A store whose writes fail like a full disk. */
function withFullDisk(store: BlobStore): BlobStore {
  return {
    ...store,
    put: async (_key, body) => {
      await body.cancel()
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
    },
  }
}

describe('queries/query-service submit', () => {
  it('answers 503 naming the store when the record cannot be written, and queues nothing', async () => {
    const deps = makeTestDeps()
    deps.store = withFullDisk(deps.store)
    const res = await submit(deps)
    expect(res.status).toBe(503)
    expect(res.headers.get('Retry-After')).toBe('5')
    const body = (await res.json()) as { code: string; msg: string }
    expect(body.code).toBe('999')
    expect(body.msg).toBe(
      'The gateway could not record the query, so nothing was queued: its result store refused a write (ENOSPC). Please try again later.',
    )
    await deps.settle()
    expect(await deps.registry.list()).toEqual([])
    expect(deps.queries).toEqual([])
  })

  it('answers 503 naming the registry when it cannot take the record', async () => {
    const deps = makeTestDeps()
    deps.registry = {
      ...deps.registry,
      create: async () => {
        throw new Error('Connection is closed.')
      },
    }
    const res = await submit(deps)
    expect(res.status).toBe(503)
    expect(((await res.json()) as { msg: string }).msg).toContain(
      'its registry refused a write (Connection is closed.)',
    )
    await deps.settle()
    expect(deps.queries).toEqual([])
  })

  it('keeps a full registry’s own 429', async () => {
    const deps = makeTestDeps()
    deps.registry = createMemoryRegistry({ maxRecords: 1 })
    // The first query never ends, so its record cannot make room.
    deps.setQueryHandler(() => new Promise(() => {}))
    const first = await submit(deps)
    expect(first.status).toBe(200)
    const second = await submit(deps)
    expect(second.status).toBe(429)
  })
})
