/** Waiting on a query over the memory registry: until it ends, or its time is up; bounded watchers. */
import { describe, expect, it } from 'vitest'
import { GatewayError } from '../../src/errors.ts'
import {
  createQueryWatch,
  LAPSE_MARGIN_MS,
  MAX_WATCHERS_PER_QUERY,
} from '../../src/queries/query-watch.ts'
import { createMemoryRegistry } from '../../src/registry/memory.ts'
import { makeRecord } from '../registry/contract.ts'

const HOUR = { maxMs: 3_600_000 }

describe('createQueryWatch', () => {
  it('waits through progress until the record leaves RUNNING', async () => {
    const registry = createMemoryRegistry({ maxRecords: 10 })
    const watch = createQueryWatch({ registry })
    const record = makeRecord('q')
    await registry.create(record)
    const start = performance.now()
    const waiting = watch.untilFinished(record, 10_000)
    setTimeout(() => void registry.update('q', { rows: 1 }), 20)
    setTimeout(() => void registry.update('q', { rows: 2 }), 40)
    setTimeout(() => void registry.update('q', { state: 'SUCCESSFUL', rows: 3 }), 80)
    expect(await waiting).toMatchObject({ state: 'SUCCESSFUL', rows: 3, version: 3 })
    expect(performance.now() - start).toBeLessThan(2000)
  })

  it('answers RUNNING when the time is up, and at once when the caller goes away', async () => {
    const registry = createMemoryRegistry({ maxRecords: 10 })
    const watch = createQueryWatch({ registry })
    const record = makeRecord('r')
    await registry.create(record)
    let start = performance.now()
    expect(await watch.untilFinished(record, 200)).toMatchObject({ state: 'RUNNING' })
    expect(performance.now() - start).toBeGreaterThanOrEqual(190)
    const controller = new AbortController()
    start = performance.now()
    const waiting = watch.untilFinished(record, 10_000, controller.signal)
    setTimeout(() => controller.abort(), 20)
    expect(await waiting).toMatchObject({ state: 'RUNNING' })
    expect(performance.now() - start).toBeLessThan(2000)
  })

  it('bounds the watchers of one query with a 429, and frees a place when released', () => {
    const watch = createQueryWatch({ registry: createMemoryRegistry({ maxRecords: 10 }) })
    const releases = Array.from({ length: MAX_WATCHERS_PER_QUERY }, () => watch.hold('busy', HOUR))
    let error: unknown
    try {
      watch.hold('busy', HOUR)
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(GatewayError)
    expect((error as GatewayError).status).toBe(429)
    expect((error as GatewayError).headers['Retry-After']).toBe('5')
    // Another query still has room; a release (twice is once) makes room here.
    watch.hold('other', HOUR)()
    releases[0]!()
    releases[0]!()
    expect(watch.watchers).toBe(MAX_WATCHERS_PER_QUERY - 1)
    watch.hold('busy', HOUR)
    expect(watch.watchers).toBe(MAX_WATCHERS_PER_QUERY)
  })

  it('answers at once over a registry that tells of no changes', async () => {
    const registry = createMemoryRegistry({ maxRecords: 10 })
    const { waitForChange: _none, ...silent } = registry
    const watch = createQueryWatch({ registry: silent })
    expect(watch.canWait).toBe(false)
    const record = makeRecord('s')
    const start = performance.now()
    expect(await watch.untilFinished(record, 10_000)).toBe(record)
    expect(performance.now() - start).toBeLessThan(100)
  })

  it('answers the record as last read when the registry fails to wait', async () => {
    const registry = createMemoryRegistry({ maxRecords: 10 })
    const failing = {
      ...registry,
      waitForChange: async () => {
        throw new Error('connection lost')
      },
    }
    const record = makeRecord('f')
    await registry.create(record)
    const watch = createQueryWatch({ registry: failing })
    expect(await watch.untilFinished(record, 10_000)).toBe(record)
  })

  it('frees a place at its signal, or once its time has lapsed without a release', () => {
    let now = 0
    const watch = createQueryWatch({
      registry: createMemoryRegistry({ maxRecords: 10 }),
      clock: () => now,
    })
    const controller = new AbortController()
    watch.hold('q', { maxMs: 1000, signal: controller.signal })
    expect(watch.watchers).toBe(1)
    controller.abort()
    expect(watch.watchers).toBe(0)
    // A request torn down before it answered never releases: its places lapse on their own.
    for (let i = 0; i < MAX_WATCHERS_PER_QUERY; i++) watch.hold('q', { maxMs: 1000 })
    expect(() => watch.hold('q', { maxMs: 1000 })).toThrow(GatewayError)
    now = 1000 + LAPSE_MARGIN_MS
    watch.hold('q', { maxMs: 1000 })
    expect(watch.watchers).toBe(1)
  })
})
