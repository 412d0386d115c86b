/**
 * The tee of running exports to followers: every byte from the first, a clean end only on `end`,
 * an error on `abort`, a bounded buffer per follower (the export waits, then cuts off a stalled
 * one), a bounded number of followers, and nothing held or done per chunk when nobody follows.
 */
import { describe, expect, it } from 'vitest'
import {
  createLiveResults,
  FOLLOW_LIMITS,
  FOLLOWERS_FULL,
  FollowAbortedError,
  type FollowLimits,
  type FollowResult,
} from '../../src/queries/live-results.ts'

const LIMITS: FollowLimits = {
  bufferBytes: 1000,
  stallMs: 60,
  maxHoldMs: 10_000,
  maxFollowers: 2,
  joinBytes: 500,
  maxExports: 3,
}

const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill)

function asStream(result: FollowResult): ReadableStream<Uint8Array> {
  if (!(result instanceof ReadableStream)) throw new Error(`not a stream: ${String(result)}`)
  return result
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<number[]> {
  const out: number[] = []
  const reader = stream.getReader()
  for (;;) {
    const next = await reader.read()
    if (next.done) return out
    out.push(...next.value)
  }
}

describe('queries/live-results', () => {
  it('gives a follower every byte from the first and ends it cleanly on end()', async () => {
    const live = createLiveResults(LIMITS)
    const tee = live.open('q')
    expect(tee.push(bytes(100, 1))).toBeUndefined()
    // Joins after 100 bytes were written: they are replayed.
    const followed = readAll(asStream(live.follow('q')))
    expect(tee.push(bytes(100, 2))).toBeUndefined()
    tee.end()
    expect(await followed).toEqual([...bytes(100, 1), ...bytes(100, 2)])
    expect(live.size).toBe(0)
    expect(live.follow('q')).toBeNull()
  })

  it('errors every follower on abort(), never a clean end, and ignores a later end()', async () => {
    const live = createLiveResults(LIMITS)
    const tee = live.open('q')
    const first = asStream(live.follow('q')).getReader()
    const second = readAll(asStream(live.follow('q')))
    tee.push(bytes(10))
    expect((await first.read()).value).toEqual(bytes(10))
    tee.abort(new FollowAbortedError())
    tee.end()
    await expect(first.read()).rejects.toBeInstanceOf(FollowAbortedError)
    await expect(second).rejects.toBeInstanceOf(FollowAbortedError)
    expect(live.size).toBe(0)
  })

  it('costs nothing when nobody follows: past joinBytes no chunk is held or pushed', () => {
    const live = createLiveResults(LIMITS)
    const tee = live.open('q')
    // While a follower may still join, the first bytes are kept (by reference) to replay.
    expect(tee.wanted).toBe(true)
    tee.push(bytes(400))
    expect(tee.wanted).toBe(true)
    tee.push(bytes(400))
    // Past joinBytes with nobody following: the runner's check says skip, nothing is held.
    expect(tee.wanted).toBe(false)
    expect(live.follow('q')).toBeNull()
    tee.end()
  })

  it('makes the export wait for a follower whose buffer is full, and resumes as it reads', async () => {
    const live = createLiveResults({ ...LIMITS, stallMs: 10_000 })
    const tee = live.open('q')
    const reader = asStream(live.follow('q')).getReader()
    expect(tee.push(bytes(600))).toBeUndefined()
    // 1200 bytes queued of a 1000-byte buffer: the export must wait.
    const wait = tee.push(bytes(600))
    expect(wait).toBeInstanceOf(Promise)
    let resumed = false
    void wait!.then(() => (resumed = true))
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(resumed).toBe(false)
    await reader.read()
    await wait
    expect(resumed).toBe(true)
    tee.end()
    expect((await reader.read()).value?.byteLength).toBe(600)
    expect((await reader.read()).done).toBe(true)
  })

  it('holds at most bufferBytes and one chunk for a reader that never reads', async () => {
    const live = createLiveResults({ ...LIMITS, stallMs: 10_000 })
    const tee = live.open('q')
    const stream = asStream(live.follow('q'))
    let queued = 0
    let waited = 0
    for (let i = 0; i < 50; i++) {
      const wait = tee.push(bytes(300))
      if (!wait) queued += 300
      else {
        waited++
        // The export does not go on while the buffer is full: nothing more is pushed.
        break
      }
    }
    expect(waited).toBe(1)
    expect(queued + 300).toBeLessThanOrEqual(LIMITS.bufferBytes + 300)
    tee.abort(new FollowAbortedError())
    await expect(stream.getReader().read()).rejects.toThrow()
  })

  it('cuts a stalled follower off after stallMs with an error, and the export goes on', async () => {
    const live = createLiveResults(LIMITS)
    const tee = live.open('q')
    const stalled = asStream(live.follow('q'))
    tee.push(bytes(600))
    const started = Date.now()
    await tee.push(bytes(600))
    expect(Date.now() - started).toBeGreaterThanOrEqual(LIMITS.stallMs - 5)
    // It no longer holds the export back, nor gets more bytes.
    expect(tee.push(bytes(600))).toBeUndefined()
    const read = stalled.getReader().read()
    await expect(read).rejects.toBeInstanceOf(FollowAbortedError)
    await expect(read).rejects.toThrow(/too slowly/)
    tee.end()
  })

  it('cuts off a reader that never stalls long but holds the export back too long in all', async () => {
    const live = createLiveResults({ ...LIMITS, stallMs: 1_000, maxHoldMs: 120 })
    const tee = live.open('q')
    const reader = asStream(live.follow('q')).getReader()
    let held = 0
    let cutOff = false
    for (let i = 0; i < 100 && !cutOff; i++) {
      const wait = tee.push(bytes(600))
      if (!wait) {
        cutOff = !tee.wanted
        continue
      }
      // A reader that takes each piece 40 ms late: never 1 s, but 120 ms in all soon.
      const started = Date.now()
      setTimeout(() => void reader.read().catch(() => {}), 40)
      await wait
      held += Date.now() - started
    }
    expect(cutOff).toBe(true)
    expect(held).toBeGreaterThanOrEqual(110)
    expect(held).toBeLessThan(1_000)
    await expect(reader.read()).rejects.toThrow(/too slowly/)
    tee.end()
  })

  it('lets a follower that goes away stop holding the export back', async () => {
    const live = createLiveResults({ ...LIMITS, stallMs: 10_000 })
    const tee = live.open('q')
    const stream = asStream(live.follow('q'))
    tee.push(bytes(600))
    const wait = tee.push(bytes(600))
    expect(wait).toBeInstanceOf(Promise)
    await stream.cancel()
    await wait
    expect(tee.push(bytes(10))).toBeUndefined()
    // A new follower may take its place (the head is gone: past joinBytes it waits elsewhere).
    expect(live.follow('q')).toBeNull()
    tee.end()
  })

  it('bounds the followers of one query and the exports it tracks', () => {
    const live = createLiveResults(LIMITS)
    live.open('q')
    expect(live.follow('q')).toBeInstanceOf(ReadableStream)
    expect(live.follow('q')).toBeInstanceOf(ReadableStream)
    expect(live.follow('q')).toBe(FOLLOWERS_FULL)
    live.open('r')
    live.open('s')
    expect(live.size).toBe(3)
    const untracked = live.open('t')
    expect(live.size).toBe(3)
    expect(untracked.wanted).toBe(false)
    expect(live.follow('t')).toBeNull()
    expect(live.follow('unknown')).toBeNull()
  })

  it('has defaults that let a joiner replay into its own buffer', () => {
    expect(FOLLOW_LIMITS.joinBytes).toBeLessThanOrEqual(FOLLOW_LIMITS.bufferBytes)
    expect(FOLLOW_LIMITS.maxFollowers).toBeGreaterThan(0)
  })
})
