/**
 * The change notification every registry that offers `waitForChange` keeps (memory, Redis; the
 * Durable Object's runs in workerd through the conformance suite). `watcher` may be another
 * instance's registry on the same records, so a change made by one wakes a waiter on the other.
 */
import { describe, expect, it } from 'vitest'
import type { Registry } from '../../src/registry/types.ts'
import { makeRecord } from './contract.ts'

export interface ChangeUnderTest {
  /** Where records are written. */
  writer: Registry
  /** Where waiters wait (the writer itself, or another instance on the same records). */
  watcher: Registry
  /** Waiters the watcher holds now, where it can tell. */
  waiting?: () => number
}

const elapsedSince = (start: number) => performance.now() - start

export function describeChangeContract(name: string, make: () => Promise<ChangeUnderTest>) {
  describe(`change notification: ${name}`, () => {
    it('wakes a waiter at an update, with the new record, long before its time limit', async () => {
      const { writer, watcher } = await make()
      await writer.create(makeRecord('u'))
      const start = performance.now()
      const waiting = watcher.waitForChange!('u', 0, 10_000)
      setTimeout(() => void writer.update('u', { rows: 7 }), 50)
      const changed = await waiting
      expect(changed).toMatchObject({ id: 'u', rows: 7, version: 1 })
      expect(elapsedSince(start)).toBeLessThan(5000)
    })

    it('counts every update in the version, and answers at once a waiter that is behind', async () => {
      const { writer, watcher } = await make()
      await writer.create(makeRecord('v'))
      await writer.update('v', { rows: 1 })
      await writer.update('v', { rows: 2 })
      // The change happened before the wait began: it is not lost.
      const start = performance.now()
      expect(await watcher.waitForChange!('v', 1, 10_000)).toMatchObject({ rows: 2, version: 2 })
      expect(elapsedSince(start)).toBeLessThan(1000)
      const final = await writer.update('v', { state: 'SUCCESSFUL' })
      expect(final?.version).toBe(3)
    })

    it('wakes a waiter at a delete with null', async () => {
      const { writer, watcher } = await make()
      await writer.create(makeRecord('d'))
      const waiting = watcher.waitForChange!('d', 0, 10_000)
      setTimeout(() => void writer.delete('d'), 50)
      expect(await waiting).toBeNull()
    })

    it('answers the unchanged record when the time is up, and an abort sooner', async () => {
      const { writer, watcher, waiting } = await make()
      await writer.create(makeRecord('t'))
      let start = performance.now()
      expect(await watcher.waitForChange!('t', 0, 150)).toMatchObject({ id: 't', rows: 0 })
      expect(elapsedSince(start)).toBeGreaterThanOrEqual(140)
      const controller = new AbortController()
      start = performance.now()
      const aborted = watcher.waitForChange!('t', 0, 10_000, controller.signal)
      setTimeout(() => controller.abort(), 50)
      expect(await aborted).toMatchObject({ id: 't', rows: 0 })
      expect(elapsedSince(start)).toBeLessThan(5000)
      // Nothing is left listening once a wait is over.
      if (waiting) expect(waiting()).toBe(0)
    })

    it('keeps waiters of other records asleep', async () => {
      const { writer, watcher } = await make()
      await writer.create(makeRecord('quiet'))
      await writer.create(makeRecord('busy'))
      const start = performance.now()
      const quiet = watcher.waitForChange!('quiet', 0, 300)
      await writer.update('busy', { rows: 1 })
      await writer.update('busy', { rows: 2 })
      expect(await quiet).toMatchObject({ id: 'quiet', rows: 0 })
      expect(elapsedSince(start)).toBeGreaterThanOrEqual(290)
    })
  })
}
