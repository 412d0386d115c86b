/**
 * Result reuse's key and checks, over the memory registry and store: what makes two submits the
 * same, and what keeps an earlier result from answering (age, owner, a file gone or changed).
 */
import { describe, expect, it } from 'vitest'
import type { QueryRecord, ResultOptions, UpstreamQuery } from '../../src/domain/query.ts'
import { toResultKey } from '../../src/domain/query-id.ts'
import { findReusableResult, toReuseKey } from '../../src/queries/result-reuse.ts'
import { createMemoryRegistry } from '../../src/registry/memory.ts'
import { createMemoryStore } from '../../src/store/memory.ts'

const QUERY: UpstreamQuery = {
  sql: 'select * from kylin_sales',
  project: 'learn_kylin',
  offset: 0,
  limit: 0,
  acceptPartial: false,
}
const OPTIONS: ResultOptions = { separator: ',', includeHeader: false, fileName: 'result' }
const ID = '3c8e0b2a-6f1d-4c1e-9a57-0d2f5e8b7c41'

describe('queries/result-reuse', () => {
  it('keys by owner, query and options, with whitespace outside quotes and spelled defaults aside', async () => {
    const key = await toReuseKey('ANALYST', QUERY, OPTIONS)
    expect(key).toMatch(/^[0-9a-f]{64}$/)
    const same = [
      toReuseKey('ANALYST', { ...QUERY, sql: '  select *\n from   kylin_sales ' }, OPTIONS),
      toReuseKey('ANALYST', QUERY, { ...OPTIONS, format: 'csv', encode: 'utf-8' }),
    ]
    for (const other of await Promise.all(same)) expect(other).toBe(key)
    const different = [
      toReuseKey('MODELER', QUERY, OPTIONS),
      toReuseKey('ANALYST', { ...QUERY, project: 'other' }, OPTIONS),
      toReuseKey('ANALYST', { ...QUERY, sql: 'SELECT * FROM kylin_sales' }, OPTIONS),
      toReuseKey('ANALYST', { ...QUERY, offset: 1 }, OPTIONS),
      toReuseKey('ANALYST', { ...QUERY, limit: 1 }, OPTIONS),
      toReuseKey('ANALYST', { ...QUERY, acceptPartial: true }, OPTIONS),
      toReuseKey('ANALYST', QUERY, { ...OPTIONS, separator: '|' }),
      toReuseKey('ANALYST', QUERY, { ...OPTIONS, includeHeader: true }),
      toReuseKey('ANALYST', QUERY, { ...OPTIONS, fileName: 'sales' }),
      toReuseKey('ANALYST', QUERY, { ...OPTIONS, format: 'json' }),
      toReuseKey('ANALYST', QUERY, { ...OPTIONS, encode: 'gbk' }),
      // Routed by project: another upstream's result is another result.
      toReuseKey('ANALYST', QUERY, OPTIONS, 'kylin5:7070'),
      toReuseKey('ANALYST', QUERY, OPTIONS, 'kylin4:7070'),
    ]
    const keys = await Promise.all(different)
    expect(new Set([key, ...keys]).size).toBe(keys.length + 1)
    // Whitespace inside a literal is part of the query.
    expect(await toReuseKey('ANALYST', { ...QUERY, sql: "select 'a  b'" }, OPTIONS)).not.toBe(
      await toReuseKey('ANALYST', { ...QUERY, sql: "select 'a b'" }, OPTIONS),
    )
  })

  it('answers only a young enough result of the caller whose file is still as recorded', async () => {
    const registry = createMemoryRegistry({ maxRecords: 10 })
    const store = createMemoryStore({ maxBytes: 1024 })
    let now = 100_000
    const deps = { registry, store, now: () => now }
    const reuseKey = await toReuseKey('ANALYST', QUERY, OPTIONS)
    const record: QueryRecord = {
      id: ID,
      owner: 'ANALYST',
      project: 'learn_kylin',
      options: OPTIONS,
      state: 'RUNNING',
      rows: 0,
      bytes: 0,
      createdAt: 1_000,
      updatedAt: 1_000,
      reuseKey,
    }
    await registry.create(record)
    expect(await findReusableResult(deps, 'ANALYST', reuseKey, 3600)).toBeNull()
    await store.put(toResultKey(ID), new Response('a,b\n').body!)
    await registry.update(ID, { state: 'SUCCESSFUL', rows: 1, bytes: 4, finishedAt: 40_000 })

    expect((await findReusableResult(deps, 'ANALYST', reuseKey, 60))?.id).toBe(ID)
    expect(await findReusableResult(deps, 'MODELER', reuseKey, 60)).toBeNull()
    // 60 s after it finished it is still young enough; a millisecond later it is not.
    now = 100_000
    expect(await findReusableResult(deps, 'ANALYST', reuseKey, 60)).not.toBeNull()
    now = 100_001
    expect(await findReusableResult(deps, 'ANALYST', reuseKey, 60)).toBeNull()
    expect(await findReusableResult(deps, 'ANALYST', reuseKey, 61)).not.toBeNull()
    // A file changed or gone under the record is never served as this result.
    await store.put(toResultKey(ID), new Response('a,b,c\n').body!)
    expect(await findReusableResult(deps, 'ANALYST', reuseKey, 61)).toBeNull()
    await store.delete(toResultKey(ID))
    expect(await findReusableResult(deps, 'ANALYST', reuseKey, 61)).toBeNull()
  })
})
