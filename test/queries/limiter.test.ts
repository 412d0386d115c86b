/** The concurrency limiter: a bound, FIFO order, withdrawal of queued tasks. */
import { describe, expect, it } from 'vitest'
import { createLimiter } from '../../src/queries/limiter.ts'
import { createHeldTasks } from '../support/held-tasks.ts'

const tick = () => new Promise((resolve) => setTimeout(resolve, 1))

describe('createLimiter', () => {
  it('runs at most max tasks at once, in FIFO order', async () => {
    const limiter = createLimiter(2)
    const started: number[] = []
    const releases: (() => void)[] = []
    const runs = [0, 1, 2, 3].map((n) =>
      limiter.run(async () => {
        started.push(n)
        await new Promise<void>((resolve) => releases.push(resolve))
        return n
      }),
    )
    await tick()
    expect(started).toEqual([0, 1])
    expect([limiter.active, limiter.queued]).toEqual([2, 2])
    releases.shift()!()
    await tick()
    expect(started).toEqual([0, 1, 2])
    releases.splice(0).forEach((r) => r())
    await tick()
    releases.splice(0).forEach((r) => r())
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3])
    expect([limiter.active, limiter.queued]).toEqual([0, 0])
  })

  it('frees the slot when a task throws', async () => {
    const limiter = createLimiter(1)
    await expect(limiter.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    expect(await limiter.run(async () => 'next')).toBe('next')
  })

  it('withdraws a queued task whose signal aborts, without running it', async () => {
    const limiter = createLimiter(1)
    let release!: () => void
    const first = limiter.run(() => new Promise<void>((resolve) => (release = resolve)))
    const controller = new AbortController()
    let ran = false
    const second = limiter.run(async () => {
      ran = true
    }, controller.signal)
    controller.abort(new Error('stopped'))
    await expect(second).rejects.toThrow('stopped')
    expect(limiter.queued).toBe(0)
    release()
    await first
    expect(ran).toBe(false)
  })

  it('keeps one key from taking every slot, and hands freed slots to the least served key', async () => {
    const limiter = createLimiter(3, 2)
    const { started, run: runOn, release } = createHeldTasks()
    const run = (name: string, key: string) => runOn(limiter, name, key)
    const runs = [run('a1', 'A'), run('a2', 'A'), run('a3', 'A'), run('a4', 'A')]
    await tick()
    // A may hold 2 of the 3 slots; the third stays free for anyone else.
    expect(started).toEqual(['a1', 'a2'])
    runs.push(run('b1', 'B'))
    await tick()
    expect(started).toEqual(['a1', 'a2', 'b1'])
    runs.push(run('b2', 'B'))
    release('a1')
    await tick()
    // a1 ended: A and B run one each, so the longest waiting of the two, a3, starts.
    expect(started).toEqual(['a1', 'a2', 'b1', 'a3'])
    release('b1')
    await tick()
    expect(started).toEqual(['a1', 'a2', 'b1', 'a3', 'b2'])
    release('a2', 'a3', 'b2')
    await tick()
    release('a4')
    await Promise.all(runs)
    expect([limiter.active, limiter.queued]).toEqual([0, 0])
  })
})
