/**
 * The shared Registry contract: every registry (memory, Redis) runs these cases.
 * Uses only the Registry interface, so a failure means the driver breaks the contract.
 */
import { describe, expect, it } from 'vitest'
import { GatewayError } from '../../src/errors.ts'
import type { QueryRecord, QueryState } from '../../src/domain/query.ts'
import type { Registry } from '../../src/registry/types.ts'

export interface RegistryUnderTest {
  registry: Registry
  /** Ids the registry reported as evicted by its bound, in order. */
  evicted: string[]
}

/** A fresh, empty registry holding at most `maxRecords`. */
export type MakeRegistry = (maxRecords: number) => Promise<RegistryUnderTest>

export const makeRecord = (id: string, state: QueryState = 'RUNNING'): QueryRecord => ({
  id,
  owner: 'ADMIN',
  project: 'learn_kylin',
  options: { separator: ',', includeHeader: false, fileName: 'result' },
  state,
  rows: 0,
  bytes: 0,
  createdAt: 1,
  updatedAt: 1,
})

export function describeRegistryContract(name: string, make: MakeRegistry) {
  describe(`registry contract: ${name}`, () => {
    it('stores, updates, lists and deletes records', async () => {
      const { registry } = await make(10)
      await registry.create(makeRecord('a'))
      expect(await registry.get('a')).toEqual(makeRecord('a'))
      const updated = await registry.update('a', { state: 'SUCCESSFUL', bytes: 10 })
      expect(updated).toMatchObject({ id: 'a', state: 'SUCCESSFUL', bytes: 10, owner: 'ADMIN' })
      expect(await registry.get('a')).toEqual(updated)
      expect(await registry.list()).toEqual([updated])
      expect(await registry.delete('a')).toBe(true)
      expect(await registry.delete('a')).toBe(false)
      expect(await registry.get('a')).toBeNull()
      expect(await registry.list()).toEqual([])
      expect(await registry.update('a', { state: 'FAILED' })).toBeNull()
      expect(await registry.get('a')).toBeNull()
    })

    it('answers peek, where it has one, as get', async () => {
      const { registry } = await make(10)
      if (!registry.peek) return
      expect(registry.peek('p')).toBeNull()
      await registry.create(makeRecord('p'))
      expect(registry.peek('p')).toEqual(await registry.get('p'))
      await registry.update('p', { state: 'SUCCESSFUL', rows: 5 })
      expect(registry.peek('p')).toEqual(await registry.get('p'))
      await registry.delete('p')
      expect(registry.peek('p')).toBeNull()
    })

    it('never lets a caller change a record by changing what it read or wrote', async () => {
      const { registry } = await make(10)
      const written: QueryRecord = {
        ...makeRecord('own'),
        metadata: { names: ['ID'], types: ['BIGINT'] },
      }
      await registry.create(written)
      written.options.separator = 'written'
      written.metadata!.names.push('WRITTEN')
      const read = (await registry.get('own'))!
      // A registry may hand out frozen records (then these throw) or copies (then they are lost).
      const tryTo = (change: () => void) => {
        try {
          change()
        } catch {}
      }
      tryTo(() => void (read.state = 'FAILED'))
      tryTo(() => void (read.options.separator = 'read'))
      tryTo(() => void read.metadata!.names.push('READ'))
      const again = (await registry.get('own'))!
      expect(again.state).toBe('RUNNING')
      expect(again.options.separator).toBe(',')
      expect(again.metadata!.names).toEqual(['ID'])
    })

    it('keeps every field as it was written', async () => {
      const { registry } = await make(10)
      const full: QueryRecord = {
        ...makeRecord('full', 'SUCCESSFUL'),
        owner: '分析师 "quoted"',
        options: { separator: '||\t', includeHeader: true, fileName: 'export_上海' },
        metadata: { names: ['ID', 'NAME'], types: ['BIGINT', 'VARCHAR'] },
        rows: 1_000_000,
        bytes: 53_687_091_200,
        idempotency: { key: 'k-1', requestHash: 'ab'.repeat(32) },
        sha256: 'cd'.repeat(32),
        partial: false,
        createdAt: 1_767_323_045_123,
        updatedAt: 1_767_323_046_456,
        finishedAt: 1_767_323_046_456,
      }
      await registry.create(full)
      expect(await registry.get('full')).toEqual(full)
      expect(await registry.list()).toEqual([full])
    })

    it('keeps a finished record final: no later update changes it', async () => {
      const { registry } = await make(10)
      await registry.create(makeRecord('done'))
      await registry.update('done', { rows: 5 })
      const failed = await registry.update('done', { state: 'FAILED', error: 'stopped' })
      expect(failed).toMatchObject({ state: 'FAILED', error: 'stopped', rows: 5 })
      expect(await registry.update('done', { state: 'SUCCESSFUL', bytes: 99 })).toBeNull()
      expect(await registry.update('done', { rows: 7 })).toBeNull()
      expect(await registry.get('done')).toEqual(failed)
    })

    it('lets exactly one of racing final updates win', async () => {
      const { registry } = await make(10)
      await registry.create(makeRecord('race'))
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          registry.update(
            'race',
            i % 2 === 0 ? { state: 'SUCCESSFUL', bytes: i } : { state: 'FAILED', error: `e${i}` },
          ),
        ),
      )
      const winners = outcomes.filter((outcome) => outcome !== null)
      expect(winners).toHaveLength(1)
      expect(await registry.get('race')).toEqual(winners[0])
    })

    it('evicts the least recently used finished record past the bound and reports it', async () => {
      const { registry, evicted } = await make(2)
      await registry.create(makeRecord('a', 'SUCCESSFUL'))
      await registry.create(makeRecord('b', 'FAILED'))
      await registry.get('a')
      await registry.create(makeRecord('c'))
      expect(evicted).toEqual(['b'])
      expect(await registry.get('b')).toBeNull()
      await registry.delete('a')
      expect(evicted).toEqual(['b'])
    })

    it('never evicts a running record: the least recently used finished one goes', async () => {
      const { registry, evicted } = await make(3)
      await registry.create(makeRecord('old-running'))
      await registry.create(makeRecord('finished', 'SUCCESSFUL'))
      await registry.create(makeRecord('new-running'))
      await registry.create(makeRecord('next'))
      expect(evicted).toEqual(['finished'])
      expect(await registry.get('old-running')).toMatchObject({ state: 'RUNNING' })
      // Progress and the final state still reach a running record at the bound.
      expect(await registry.update('old-running', { state: 'SUCCESSFUL' })).not.toBeNull()
      await registry.create(makeRecord('last'))
      expect(evicted).toEqual(['finished', 'old-running'])
      expect((await registry.list()).map((r) => r.id).sort()).toEqual([
        'last',
        'new-running',
        'next',
      ])
    })

    it('refuses a new record with 429 while every record is running, until one finishes', async () => {
      const { registry, evicted } = await make(2)
      await registry.create(makeRecord('a'))
      await registry.create(makeRecord('b'))
      const refusal = await registry.create(makeRecord('c')).then(
        () => null,
        (error: unknown) => error,
      )
      expect(refusal).toBeInstanceOf(GatewayError)
      expect(refusal).toMatchObject({ status: 429, errorCode: 'KE-020040002' })
      expect((refusal as GatewayError).headers['Retry-After']).toBe('5')
      expect((refusal as Error).message).toBe(
        'All 2 queries the gateway keeps (MAX_QUERIES) are still running, so no new query can be recorded. Please wait for one to finish and try again.',
      )
      expect(evicted).toEqual([])
      expect(await registry.get('c')).toBeNull()
      expect((await registry.list()).map((r) => r.id).sort()).toEqual(['a', 'b'])

      await registry.update('b', { state: 'FAILED' })
      await registry.create(makeRecord('c'))
      expect(evicted).toEqual(['b'])
      expect(await registry.get('a')).toMatchObject({ state: 'RUNNING' })
    })

    it('finds a record by its owner and Idempotency-Key, and no other', async () => {
      const { registry } = await make(10)
      const keyed = (id: string, owner: string, key: string): QueryRecord => ({
        ...makeRecord(id),
        owner,
        idempotency: { key, requestHash: `hash-${id}` },
      })
      await registry.create(keyed('a', 'ANALYST', 'nightly'))
      await registry.create(keyed('b', 'MODELER', 'nightly'))
      await registry.create(makeRecord('c'))
      expect((await registry.findByIdempotencyKey('ANALYST', 'nightly'))?.id).toBe('a')
      expect((await registry.findByIdempotencyKey('MODELER', 'nightly'))?.id).toBe('b')
      expect(await registry.findByIdempotencyKey('ADMIN', 'nightly')).toBeNull()
      expect(await registry.findByIdempotencyKey('ANALYST', 'other')).toBeNull()
      // Still found once finished, and gone with the record.
      await registry.update('a', { state: 'SUCCESSFUL' })
      expect(await registry.findByIdempotencyKey('ANALYST', 'nightly')).toMatchObject({
        id: 'a',
        state: 'SUCCESSFUL',
      })
      await registry.delete('a')
      expect(await registry.findByIdempotencyKey('ANALYST', 'nightly')).toBeNull()
      // A new query may take the key again.
      await registry.create(keyed('d', 'ANALYST', 'nightly'))
      expect((await registry.findByIdempotencyKey('ANALYST', 'nightly'))?.id).toBe('d')
    })

    it('forgets the Idempotency-Key of a record evicted by the bound', async () => {
      const { registry, evicted } = await make(2)
      await registry.create({
        ...makeRecord('a', 'SUCCESSFUL'),
        idempotency: { key: 'k', requestHash: 'h' },
      })
      await registry.create(makeRecord('b'))
      await registry.create(makeRecord('c'))
      expect(evicted).toEqual(['a'])
      expect(await registry.findByIdempotencyKey('ADMIN', 'k')).toBeNull()
    })
  })
}
