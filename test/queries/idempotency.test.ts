/** Idempotency-Key on submit: the earlier query for the same request, a 409 for another. */
import { describe, expect, it } from 'vitest'
import type { QueryRecord } from '../../src/domain/query.ts'
import { GatewayError } from '../../src/errors.ts'
import { findEarlierSubmit, hashRequest } from '../../src/queries/idempotency.ts'
import { createMemoryRegistry } from '../../src/registry/memory.ts'

const options = { separator: ',', includeHeader: false, fileName: 'result' }
const query = { sql: 'select 1', project: 'p', offset: 0, limit: 0, acceptPartial: false }

const toRecord = (id: string, owner: string, key: string, requestHash: string): QueryRecord => ({
  id,
  owner,
  project: 'p',
  options,
  state: 'RUNNING',
  rows: 0,
  bytes: 0,
  createdAt: 1,
  updatedAt: 1,
  idempotency: { key, requestHash },
})

describe('queries/idempotency', () => {
  it('answers the earlier query for the same request, nothing for a new key or another user', async () => {
    const registry = createMemoryRegistry({ maxRecords: 10 })
    await registry.create(toRecord('a', 'ANALYST', 'k1', 'h1'))
    const earlier = await findEarlierSubmit(registry, 'ANALYST', { key: 'k1', requestHash: 'h1' })
    expect(earlier?.id).toBe('a')
    expect(
      await findEarlierSubmit(registry, 'ANALYST', { key: 'k2', requestHash: 'h1' }),
    ).toBeNull()
    expect(
      await findEarlierSubmit(registry, 'MODELER', { key: 'k1', requestHash: 'h1' }),
    ).toBeNull()
  })

  it('refuses the same key with another request: 409', async () => {
    const registry = createMemoryRegistry({ maxRecords: 10 })
    await registry.create(toRecord('a', 'ANALYST', 'k1', 'h1'))
    const refusal = await findEarlierSubmit(registry, 'ANALYST', {
      key: 'k1',
      requestHash: 'h2',
    }).catch((error: unknown) => error)
    expect(refusal).toBeInstanceOf(GatewayError)
    expect(refusal).toMatchObject({ status: 409 })
  })

  it('hashes the query and its result options, so any difference is another request', async () => {
    const same = await hashRequest(query, options)
    expect(await hashRequest({ ...query }, { ...options })).toBe(same)
    expect(await hashRequest({ ...query, limit: 1 }, options)).not.toBe(same)
    expect(await hashRequest(query, { ...options, separator: ';' })).not.toBe(same)
    // A CSV submit hashes as it did before there was a format, so a key outlives an upgrade.
    expect(await hashRequest(query, { ...options, format: 'csv' })).toBe(same)
    expect(await hashRequest(query, { ...options, format: 'json' })).not.toBe(same)
  })
})
