/**
 * The Redis limiter against a real redis-server, with several limiters (as several instances)
 * on one Redis: the cap holds across them, per-user fairness, withdrawal, and the slot of an
 * instance that died coming back once its lease lapses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRedisLimiter, type RedisLimiter } from '../../src/cluster/redis-limiter.ts'
import { createHeldTasks } from '../support/held-tasks.ts'
import { startRedisServer, type RedisServer } from '../support/redis-server.ts'

let server: RedisServer
let namespaces = 0
const limiters: RedisLimiter[] = []

beforeAll(async () => {
  server = await startRedisServer()
})
afterAll(async () => {
  for (const limiter of limiters) await limiter.close()
  await server?.stop()
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function until(check: () => boolean, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await sleep(5)
  }
}

/** `count` limiters sharing one namespace, each with its own connections, like instances. */
function makeCluster(count: number, max: number, maxPerKey = max, leaseMs = 30_000) {
  const prefix = `l${++namespaces}:`
  return Array.from({ length: count }, (_, i) => {
    const limiter = createRedisLimiter({
      redis: server.connect(),
      subscriber: server.connect(),
      prefix,
      max,
      maxPerKey,
      leaseMs,
      instanceId: `instance-${i}`,
    })
    limiters.push(limiter)
    return limiter
  })
}

describe('createRedisLimiter', () => {
  it('holds the cap across instances: at most max tasks at once, all of them run', async () => {
    const [one, two] = makeCluster(2, 3)
    let running = 0
    let most = 0
    const task = (n: number) => async () => {
      running++
      most = Math.max(most, running)
      await sleep(5 + (n % 4) * 5)
      running--
      return n
    }
    // Five users, so the per-user bound (also 3) is not what holds the total.
    const runs = Array.from({ length: 40 }, (_, n) =>
      (n % 2 ? one! : two!).run(task(n), undefined, `user-${n % 5}`),
    )
    expect((await Promise.all(runs)).sort((a, b) => a - b)).toEqual([...Array(40).keys()])
    expect(most).toBe(3)
    expect(await one!.countQueued()).toBe(0)
    expect([one!.active, one!.queued]).toEqual([0, 0])
  })

  it('keeps one user from taking every slot, and hands freed slots to the least served user', async () => {
    const [one, two] = makeCluster(2, 3, 2)
    const { started, run, release } = createHeldTasks()
    const runs = ['a1', 'a2', 'a3', 'a4'].map((name) => run(one!, name, 'A'))
    await until(() => started.length === 2 && one!.queued === 2)
    await sleep(50)
    // A may hold 2 of the 3 slots; the third stays free for anyone else.
    expect(started).toEqual(['a1', 'a2'])
    runs.push(run(two!, 'b1', 'B'))
    await until(() => started.length === 3)
    expect(started).toEqual(['a1', 'a2', 'b1'])
    runs.push(run(two!, 'b2', 'B'))
    await until(() => two!.queued === 3)
    release('a1')
    await until(() => started.length === 4)
    // a1 ended: A and B run one each, so the longest waiting of the two, a3, starts.
    expect(started).toEqual(['a1', 'a2', 'b1', 'a3'])
    release('a2')
    await until(() => started.length === 5)
    // Again one each: a4 has waited longer than b2.
    expect(started).toEqual(['a1', 'a2', 'b1', 'a3', 'a4'])
    release('b1')
    await until(() => started.length === 6)
    expect(started.at(-1)).toBe('b2')
    release('a3', 'a4', 'b2')
    await Promise.all(runs)
  })

  it('hands a freed slot to the user running the fewest, ahead of a longer-waiting one', async () => {
    const [one, two] = makeCluster(2, 2)
    const { started, run, release } = createHeldTasks()
    const runs = ['a1', 'a2', 'a3'].map((name) => run(one!, name, 'A'))
    await until(() => started.length === 2 && one!.queued === 1)
    runs.push(run(two!, 'b1', 'B'))
    await until(() => two!.queued === 2)
    release('a1')
    await until(() => started.length === 3)
    // A still runs a2, B runs nothing: b1 goes first although a3 has waited longer.
    expect(started).toEqual(['a1', 'a2', 'b1'])
    release('a2')
    await until(() => started.length === 4)
    release('a3', 'b1')
    await Promise.all(runs)
  })

  it('withdraws a queued task whose signal aborts, without running it, on any instance', async () => {
    const [one, two] = makeCluster(2, 1)
    let release!: () => void
    const first = one!.run(() => new Promise<void>((resolve) => (release = resolve)))
    await until(() => release !== undefined)
    const controller = new AbortController()
    let ran = false
    const second = two!.run(async () => {
      ran = true
    }, controller.signal)
    await until(() => two!.queued === 1)
    expect(await one!.countQueued()).toBe(1)
    controller.abort(new Error('stopped'))
    await expect(second).rejects.toThrow('stopped')
    await until(() => two!.queued === 0)
    expect(await one!.countQueued()).toBe(0)
    const third = two!.run(async () => 'third')
    release()
    await first
    expect(await third).toBe('third')
    expect(ran).toBe(false)
  })

  it('refuses an aborted signal at once', async () => {
    const [one] = makeCluster(1, 1)
    const controller = new AbortController()
    controller.abort(new Error('already stopped'))
    await expect(one!.run(async () => 'x', controller.signal)).rejects.toThrow('already stopped')
    expect(await one!.countQueued()).toBe(0)
  })

  it('gives a dead instance its slot back once the lease lapses, not before', async () => {
    const leaseMs = 600
    const [dying, survivor] = makeCluster(2, 1, 1, leaseMs)
    let held = false
    void dying!.run(() => {
      held = true
      return new Promise<void>(() => {})
    })
    await until(() => held)
    const waitedSince = Date.now()
    let grantedAt = 0
    const waiting = survivor!.run(async () => {
      grantedAt = Date.now()
    })
    // Alive, the holder renews its lease: three leases pass and the slot stays taken.
    await sleep(3 * leaseMs)
    expect(grantedAt).toBe(0)
    // Dead: no more heartbeats (and no release), as after SIGKILL.
    await dying!.close()
    const diedAt = Date.now()
    await waiting
    expect(grantedAt - waitedSince).toBeGreaterThan(3 * leaseMs)
    expect(grantedAt - diedAt).toBeLessThan(leaseMs + 1500)
  })
})
