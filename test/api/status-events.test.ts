/**
 * The live-events stream over the memory registry: progress at most once a second, the final event
 * at once, Last-Event-ID, pings, its time bound, and nothing left behind when the client leaves.
 */
import { describe, expect, it } from 'vitest'
import {
  createStatusEventStream,
  toLastEventId,
  type StatusEventsOptions,
} from '../../src/api/status-events.ts'
import type { QueryRecord } from '../../src/domain/query.ts'
import { createQueryWatch } from '../../src/queries/query-watch.ts'
import { createMemoryRegistry } from '../../src/registry/memory.ts'
import { makeRecord } from '../registry/contract.ts'
import { readEventStream, toStatusEvent, type StreamMessage } from '../support/event-stream.ts'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function setUp(record: QueryRecord = makeRecord('e')) {
  const registry = createMemoryRegistry({ maxRecords: 10 })
  const watch = createQueryWatch({ registry })
  await registry.create(record)
  let ended = 0
  const release = watch.hold(record.id, { maxMs: 60_000 })
  const open = (overrides: Partial<StatusEventsOptions> = {}) =>
    createStatusEventStream({
      watch,
      record,
      lastEventId: undefined,
      lang: 'en',
      maxOpenMs: 60_000,
      onEnd: () => {
        ended++
        release()
      },
      ...overrides,
    })
  return { registry, watch, open, ended: () => ended }
}

/** Every message with the time it arrived, in ms since `start`. */
async function collect(stream: ReadableStream<Uint8Array>, start: number) {
  const messages: (StreamMessage & { at: number })[] = []
  for await (const message of readEventStream(stream)) {
    messages.push({ ...message, at: performance.now() - start })
  }
  return messages
}

describe('status event stream', () => {
  it('sends progress at most once a second, the end at once, then closes', async () => {
    const { registry, open, ended, watch } = await setUp()
    const start = performance.now()
    const reading = collect(open(), start)
    // Progress every 100 ms for 2.5 s, then the end.
    for (let i = 1; i <= 25; i++) {
      await sleep(100)
      await registry.update('e', { rows: i * 10, bytes: i * 100 })
    }
    await registry.update('e', { state: 'SUCCESSFUL', rows: 250, bytes: 2500, sha256: 'ab' })
    const finishedAt = performance.now() - start
    const messages = await reading
    const events = messages
      .map((m) => ({ event: toStatusEvent(m), at: m.at }))
      .filter((e) => e.event)
    const running = events.filter((e) => e.event!.data.status === 'RUNNING')
    expect(running.length).toBeGreaterThanOrEqual(2)
    expect(running.length).toBeLessThanOrEqual(4)
    for (let i = 1; i < running.length; i++) {
      expect(running[i]!.at - running[i - 1]!.at).toBeGreaterThanOrEqual(990)
      expect(running[i]!.event!.data.rows).toBeGreaterThan(running[i - 1]!.event!.data.rows!)
    }
    const last = events.at(-1)!
    expect(last.event!.data).toEqual({
      status: 'SUCCESSFUL',
      rows: 250,
      bytes: 2500,
      info: 'await fetching results',
      sha256: 'ab',
    })
    expect(last.at - finishedAt).toBeLessThan(500)
    expect(last.event!.id).toBe(26)
    const ids = events.map((e) => e.event!.id)
    expect([...ids].sort((a, b) => a - b)).toEqual(ids)
    expect(new Set(ids).size).toBe(ids.length)
    expect(ended()).toBe(1)
    expect(watch.watchers).toBe(0)
  })

  it('resumes after Last-Event-ID without repeating it, and ends at once for a client that has the end', async () => {
    const { registry, open } = await setUp()
    await registry.update('e', { rows: 5 })
    // The client has version 1: nothing until the next change.
    const start = performance.now()
    const resumed = collect(open({ lastEventId: 1, record: (await registry.get('e'))! }), start)
    await sleep(200)
    await registry.update('e', { state: 'FAILED', error: 'stopped' })
    const events = (await resumed).map(toStatusEvent).filter((e) => e !== undefined)
    expect(events).toEqual([
      { id: 2, data: { status: 'FAILED', rows: 5, bytes: 0, info: 'stopped' } },
    ])
    const final = (await registry.get('e'))!
    const again = await collect(open({ lastEventId: 2, record: final }), start)
    expect(again.filter((m) => m.type === 'event' && m.event === 'status')).toEqual([])
    const behind = await collect(open({ lastEventId: 1, record: final }), start)
    expect(behind.map(toStatusEvent).filter((e) => e)).toHaveLength(1)
    // An id the end never had (one from before a restart renumbered the record) gets the end.
    const other = await collect(open({ lastEventId: 7, record: final }), start)
    expect(other.map(toStatusEvent).filter((e) => e)).toHaveLength(1)
    expect(toLastEventId(' 12 ')).toBe(12)
    expect(toLastEventId('abc')).toBeUndefined()
  })

  it('pings while nothing changes, and closes when its time is up', async () => {
    const { open, ended, watch } = await setUp()
    const messages = await collect(open({ pingMs: 40, maxOpenMs: 300 }), performance.now())
    const pings = messages.filter((m) => m.type === 'comment' && m.text === 'ping')
    expect(pings.length).toBeGreaterThanOrEqual(3)
    expect(messages.at(-1)!.at).toBeLessThan(2000)
    expect(ended()).toBe(1)
    expect(watch.watchers).toBe(0)
  })

  it('lets go of everything when the client goes away', async () => {
    const { open, ended, watch } = await setUp()
    const controller = new AbortController()
    const stream = open({ signal: controller.signal })
    const reader = stream.getReader()
    await reader.read() // retry:
    await reader.read() // the RUNNING event
    await reader.cancel()
    await sleep(20)
    expect(ended()).toBe(1)
    expect(watch.watchers).toBe(0)
    // A request signal that aborts ends a stream nobody cancelled, too.
    const second = open({ signal: controller.signal })
    const start = performance.now()
    setTimeout(() => controller.abort(), 50)
    const messages = await collect(second, start)
    expect(messages.at(-1)!.at).toBeLessThan(50)
    expect(performance.now() - start).toBeLessThan(1000)
    expect(ended()).toBe(2)
  })

  it('says MISSING and closes when the query is deleted while followed', async () => {
    const { registry, open } = await setUp()
    const reading = collect(open(), performance.now())
    await sleep(50)
    await registry.delete('e')
    const events = (await reading).map(toStatusEvent).filter((e) => e !== undefined)
    expect(events.at(-1)).toEqual({
      id: 1,
      data: { status: 'MISSING', info: 'query status is lost' },
    })
  })

  it('ends the stream of a client that reads nothing, so its queue stays bounded', async () => {
    const { open, ended, watch } = await setUp()
    const stream = open({ pingMs: 1 })
    const deadline = Date.now() + 5000
    while (ended() === 0 && Date.now() < deadline) await sleep(20)
    expect(ended()).toBe(1)
    expect(watch.watchers).toBe(0)
    // What was queued is still there to read, then the end.
    const messages = await collect(stream, performance.now())
    expect(messages.length).toBeGreaterThan(200)
    expect(messages.length).toBeLessThan(300)
  })
})
