/** The in-process change notification: read first, then wait; woken, timed out or aborted, it lets go. */
import { describe, expect, it } from 'vitest'
import { createChangeNotifier } from '../../src/registry/change-notifier.ts'
import type { QueryRecord } from '../../src/domain/query.ts'
import { makeRecord } from './contract.ts'

describe('createChangeNotifier', () => {
  it('wakes on notify, reads again, and sleeps on after a wake that changed nothing', async () => {
    const notifier = createChangeNotifier()
    let record: QueryRecord = makeRecord('a')
    let reads = 0
    const read = async () => {
      reads++
      return record
    }
    const waiting = notifier.waitForChange('a', 0, 10_000, read)
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(notifier.waiting).toBe(1)
    notifier.notifyAll() // a resubscribe: the record is read again, unchanged
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(reads).toBe(2)
    record = { ...record, rows: 3, version: 1 }
    notifier.notify('a')
    expect(await waiting).toMatchObject({ rows: 3, version: 1 })
    expect(reads).toBe(3)
    expect(notifier.waiting).toBe(0)
  })

  it('never loses a change made while the first read is on its way', async () => {
    const notifier = createChangeNotifier()
    let record: QueryRecord = makeRecord('b')
    let first = true
    const read = async () => {
      const seen = record
      if (first) {
        first = false
        // The change lands after this read saw the old record, before the wait begins.
        record = { ...record, rows: 1, version: 1 }
        notifier.notify('b')
      }
      return seen
    }
    const start = performance.now()
    expect(await notifier.waitForChange('b', 0, 10_000, read)).toMatchObject({ version: 1 })
    expect(performance.now() - start).toBeLessThan(1000)
  })

  it('waits for the subscription before it reads', async () => {
    let confirm!: () => void
    const subscribed = new Promise<void>((resolve) => (confirm = resolve))
    const notifier = createChangeNotifier({ ready: () => subscribed })
    let reads = 0
    const waiting = notifier.waitForChange('c', 0, 50, async () => {
      reads++
      return makeRecord('c')
    })
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(reads).toBe(0)
    confirm()
    expect(await waiting).toMatchObject({ id: 'c' })
    expect(reads).toBe(1)
  })

  it('leaves no waiter behind after a time limit or an abort', async () => {
    const notifier = createChangeNotifier()
    const read = async () => makeRecord('d')
    await notifier.waitForChange('d', 0, 20, read)
    const controller = new AbortController()
    const waiting = notifier.waitForChange('d', 0, 10_000, read, controller.signal)
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(notifier.waiting).toBe(1)
    controller.abort()
    await waiting
    expect(notifier.waiting).toBe(0)
  })
})
