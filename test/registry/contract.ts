/**
 * The shared Registry contract: every registry (memory, Redis) runs these cases, and the look-ups
 * (query list, result reuse) run on the Durable Object registry too (`describeLookupContract`).
 * Uses only the Registry interface, so a failure means the driver breaks the contract.
 */
import { describe, expect, it } from 'vitest'
import { GatewayError } from '../../src/errors.ts'
import type { QueryRecord, QueryState } from '../../src/domain/query.ts'
import type { ListQuery, QuerySummary, Registry } from '../../src/registry/types.ts'

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
  describeLookupContract(name, async () => (await make(100)).registry)
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
        reuseKey: 'ef'.repeat(32),
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

    it('sets a shadow verdict on a finished record, and nothing else', async () => {
      const { registry } = await make(10)
      if (!registry.updateShadow) return
      await registry.create(makeRecord('shadowed'))
      const done = await registry.update('shadowed', { state: 'SUCCESSFUL', rows: 3 })
      const verdict = {
        status: 'SUCCESSFUL' as const,
        match: false,
        rows: 4,
        primaryRows: 3,
        sha256: 'ab'.repeat(32),
        firstDifference: 'row counts differ: primary 3 rows, shadow 4',
      }
      const updated = await registry.updateShadow('shadowed', verdict)
      expect(updated).toMatchObject({ state: 'SUCCESSFUL', rows: 3, shadow: verdict })
      expect(updated!.version ?? 0).toBeGreaterThan(done!.version ?? 0)
      expect(await registry.get('shadowed')).toEqual(updated)
      // Still final: the verdict opens no door to other changes.
      expect(await registry.update('shadowed', { rows: 9 })).toBeNull()
      expect(await registry.updateShadow('missing', verdict)).toBeNull()
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

    it('forgets in the list and for reuse a record evicted by the bound', async () => {
      const { registry, evicted } = await make(2)
      await registry.create({ ...makeRecord('a', 'SUCCESSFUL'), reuseKey: 'r', createdAt: 1 })
      await registry.create({ ...makeRecord('b'), createdAt: 2 })
      await registry.create({ ...makeRecord('c'), createdAt: 3 })
      expect(evicted).toEqual(['a'])
      expect(await registry.findReusable('ADMIN', 'r')).toBeNull()
      const page = await registry.listPage({ owner: 'ADMIN', limit: 10 })
      expect(page.queries.map((q) => q.id)).toEqual(['c', 'b'])
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

/** A record of `owner` submitted at `createdAt`. */
const listed = (
  id: string,
  owner: string,
  createdAt: number,
  more: Partial<QueryRecord> = {},
): QueryRecord => ({
  ...makeRecord(id),
  owner,
  createdAt,
  updatedAt: createdAt,
  ...more,
})

const idsOf = (queries: QuerySummary[]) => queries.map((query) => query.id)

/** Every page of a list, following `next` (at most 100 pages). */
async function readAllPages(registry: Registry, query: ListQuery) {
  const pages: string[][] = []
  let after = query.after
  for (let i = 0; i < 100; i++) {
    const page = await registry.listPage({ ...query, ...(after ? { after } : {}) })
    pages.push(idsOf(page.queries))
    if (!page.next) return pages
    after = page.next
  }
  throw new Error('the list never ended')
}

/** Look-ups through an index other than the id: the query list and result reuse. */
export function describeLookupContract(name: string, make: () => Promise<Registry>) {
  describe(`registry look-ups: ${name}`, () => {
    it("lists an owner's queries newest first, and everyone's when no owner is given", async () => {
      const registry = await make()
      await registry.create(listed('a1', 'ANALYST', 100))
      await registry.create(listed('m1', 'MODELER', 150))
      await registry.create(listed('a2', 'ANALYST', 200, { project: 'other' }))
      await registry.create(listed('a3', 'ANALYST', 300))
      const own = await registry.listPage({ owner: 'ANALYST', limit: 10 })
      expect(idsOf(own.queries)).toEqual(['a3', 'a2', 'a1'])
      expect(own.next).toBeNull()
      expect(own.queries[1]).toEqual({
        id: 'a2',
        owner: 'ANALYST',
        project: 'other',
        state: 'RUNNING',
        rows: 0,
        bytes: 0,
        createdAt: 200,
      })
      expect(idsOf((await registry.listPage({ owner: 'MODELER', limit: 10 })).queries)).toEqual([
        'm1',
      ])
      expect(idsOf((await registry.listPage({ owner: 'NOBODY', limit: 10 })).queries)).toEqual([])
      expect(idsOf((await registry.listPage({ limit: 10 })).queries)).toEqual([
        'a3',
        'a2',
        'm1',
        'a1',
      ])
    })

    it('shows the end of a query, and forgets a deleted one', async () => {
      const registry = await make()
      await registry.create(listed('x', 'ANALYST', 100))
      await registry.create(listed('y', 'ANALYST', 200))
      await registry.update('x', { rows: 3 })
      await registry.update('x', {
        state: 'SUCCESSFUL',
        rows: 7,
        bytes: 70,
        finishedAt: 250,
        metadata: { names: ['A'], types: ['VARCHAR'] },
      })
      const page = await registry.listPage({ owner: 'ANALYST', limit: 10 })
      expect(page.queries.find((q) => q.id === 'x')).toEqual({
        id: 'x',
        owner: 'ANALYST',
        project: 'learn_kylin',
        state: 'SUCCESSFUL',
        rows: 7,
        bytes: 70,
        createdAt: 100,
        finishedAt: 250,
      })
      await registry.delete('y')
      expect(idsOf((await registry.listPage({ owner: 'ANALYST', limit: 10 })).queries)).toEqual([
        'x',
      ])
      expect(idsOf((await registry.listPage({ limit: 10 })).queries)).toEqual(['x'])
    })

    it('filters by status and project, each alone and together', async () => {
      const registry = await make()
      await registry.create(listed('r1', 'ANALYST', 1))
      await registry.create(listed('s1', 'ANALYST', 2))
      await registry.create(listed('f1', 'ANALYST', 3, { project: 'other' }))
      await registry.create(listed('s2', 'ANALYST', 4, { project: 'other' }))
      await registry.create(listed('s3', 'MODELER', 5, { project: 'other' }))
      for (const id of ['s1', 's2', 's3']) {
        await registry.update(id, { state: 'SUCCESSFUL', finishedAt: 9 })
      }
      await registry.update('f1', { state: 'FAILED', error: 'e', finishedAt: 9 })
      const ids = async (query: Omit<ListQuery, 'limit'>) =>
        idsOf((await registry.listPage({ limit: 10, ...query })).queries)
      expect(await ids({ owner: 'ANALYST', state: 'SUCCESSFUL' })).toEqual(['s2', 's1'])
      expect(await ids({ owner: 'ANALYST', state: 'RUNNING' })).toEqual(['r1'])
      expect(await ids({ owner: 'ANALYST', state: 'FAILED' })).toEqual(['f1'])
      expect(await ids({ owner: 'ANALYST', project: 'other' })).toEqual(['s2', 'f1'])
      expect(await ids({ owner: 'ANALYST', project: 'other', state: 'SUCCESSFUL' })).toEqual(['s2'])
      expect(await ids({ project: 'other', state: 'SUCCESSFUL' })).toEqual(['s3', 's2'])
    })

    it('pages with a cursor that new queries do not shift, ties broken by id', async () => {
      const registry = await make()
      // Seven queries; two submitted in the same millisecond.
      for (const [id, at] of [
        ['q1', 10],
        ['q2', 20],
        ['q3', 30],
        ['q4a', 40],
        ['q4b', 40],
        ['q5', 50],
        ['q6', 60],
      ] as const) {
        await registry.create(listed(id, 'ANALYST', at))
      }
      const first = await registry.listPage({ owner: 'ANALYST', limit: 3 })
      expect(idsOf(first.queries)).toEqual(['q6', 'q5', 'q4b'])
      expect(first.next).toEqual({ createdAt: 40, id: 'q4b' })
      // Submitted between two pages: it belongs before the first page, and shifts nothing.
      await registry.create(listed('q7', 'ANALYST', 70))
      const rest = await readAllPages(registry, { owner: 'ANALYST', limit: 3, after: first.next! })
      expect(rest).toEqual([['q4a', 'q3', 'q2'], ['q1']])
      // A page that ends exactly at the last query says so.
      const exact = await registry.listPage({
        owner: 'ANALYST',
        limit: 2,
        after: { createdAt: 30, id: 'q3' },
      })
      expect(idsOf(exact.queries)).toEqual(['q2', 'q1'])
      expect(exact.next).toBeNull()
      // Filters and pages together.
      await registry.update('q2', { state: 'FAILED', finishedAt: 99 })
      await registry.update('q5', { state: 'FAILED', finishedAt: 99 })
      expect(await readAllPages(registry, { owner: 'ANALYST', limit: 1, state: 'FAILED' })).toEqual(
        [['q5'], ['q2']],
      )
    })

    it('finds the last SUCCESSFUL record of an owner and reuse key, and nothing else', async () => {
      const registry = await make()
      const keyed = (id: string, owner: string, reuseKey: string, createdAt: number) =>
        listed(id, owner, createdAt, { reuseKey })
      await registry.create(keyed('run', 'ANALYST', 'k1', 1))
      // Running: nothing to reuse yet.
      expect(await registry.findReusable('ANALYST', 'k1')).toBeNull()
      await registry.update('run', { state: 'SUCCESSFUL', bytes: 5, finishedAt: 10 })
      expect(await registry.findReusable('ANALYST', 'k1')).toMatchObject({
        id: 'run',
        state: 'SUCCESSFUL',
        bytes: 5,
        reuseKey: 'k1',
      })
      // Never another owner's, never another key's.
      expect(await registry.findReusable('MODELER', 'k1')).toBeNull()
      expect(await registry.findReusable('ANALYST', 'k2')).toBeNull()
      // A FAILED one is never reused.
      await registry.create(keyed('bad', 'ANALYST', 'k2', 2))
      await registry.update('bad', { state: 'FAILED', error: 'e', finishedAt: 11 })
      expect(await registry.findReusable('ANALYST', 'k2')).toBeNull()
      // A later success of the same key is the one found; deleting it leaves none.
      await registry.create(keyed('later', 'ANALYST', 'k1', 3))
      expect((await registry.findReusable('ANALYST', 'k1'))?.id).toBe('run')
      await registry.update('later', { state: 'SUCCESSFUL', finishedAt: 12 })
      expect((await registry.findReusable('ANALYST', 'k1'))?.id).toBe('later')
      await registry.delete('run')
      expect((await registry.findReusable('ANALYST', 'k1'))?.id).toBe('later')
      await registry.delete('later')
      expect(await registry.findReusable('ANALYST', 'k1')).toBeNull()
      // A record created finished (a rebuild after a restart) is found too.
      await registry.create({ ...keyed('restored', 'ANALYST', 'k3', 4), state: 'SUCCESSFUL' })
      expect((await registry.findReusable('ANALYST', 'k3'))?.id).toBe('restored')
    })
  })
}
