/**
 * The cluster-wide cap on Workers: one Durable Object holds the fair limiter (the same code as on
 * Node) that every query's object asks for a slot, so MAX_CONCURRENT_QUERIES and
 * MAX_CONCURRENT_PER_USER hold across isolates and MAX_QUEUED_QUERIES can be counted. Workers only.
 */
import { DurableObject } from 'cloudflare:workers'
import { createLimiter, type Limiter } from '../../queries/limiter.ts'
import { createWorkerParts, type WorkerEnv } from './deps.ts'

/** A slot as kept in storage, so one outlives an eviction of this object. */
interface StoredSlot {
  owner: string
  /** A slot whose query's object vanished without releasing it comes back at this time. */
  expiresAt: number
}

export class LimiterObject extends DurableObject<WorkerEnv> {
  /** Running queries: the release of each one's slot. */
  private readonly releases = new Map<string, () => void>()
  /** Queued queries: how to withdraw each one. */
  private readonly waiting = new Map<string, AbortController>()
  private loaded: Promise<Limiter> | undefined

  /** Resolves once `id` holds a slot; rejects if it is withdrawn while it waits. */
  async acquire(id: string, owner: string, leaseMs: number): Promise<void> {
    const limiter = await this.load()
    if (this.releases.has(id)) return
    const controller = new AbortController()
    this.waiting.set(id, controller)
    try {
      await this.take(limiter, id, owner, controller.signal)
    } finally {
      this.waiting.delete(id)
    }
    await this.ctx.storage.put<StoredSlot>(`slot:${id}`, { owner, expiresAt: Date.now() + leaseMs })
    await this.scheduleExpiry()
  }

  /** Takes a queued query out of the queue: its `acquire` rejects. */
  async withdraw(id: string): Promise<void> {
    this.waiting.get(id)?.abort(new Error('The query was stopped while it waited for a slot.'))
  }

  async release(id: string): Promise<void> {
    await this.load()
    await this.ctx.storage.delete(`slot:${id}`)
    const release = this.releases.get(id)
    this.releases.delete(id)
    release?.()
  }

  async countQueued(): Promise<number> {
    return (await this.load()).queued
  }

  async countActive(): Promise<number> {
    return (await this.load()).active
  }

  /** Frees the slots whose lease ran out: their query's object is gone. */
  async alarm(): Promise<void> {
    await this.load()
    const now = Date.now()
    const slots = await this.ctx.storage.list<StoredSlot>({ prefix: 'slot:' })
    for (const [key, slot] of slots) {
      if (slot.expiresAt <= now) await this.release(key.slice('slot:'.length))
    }
    await this.scheduleExpiry()
  }

  /** The limiter, with the slots storage remembers taken again after an eviction. */
  private load(): Promise<Limiter> {
    this.loaded ??= (async () => {
      const { config } = createWorkerParts(this.env)
      const limiter = createLimiter(config.maxConcurrentQueries, config.maxConcurrentPerUser)
      const slots = await this.ctx.storage.list<StoredSlot>({ prefix: 'slot:' })
      // Not awaited: should storage hold more slots than the cap allows now, the rest queue.
      for (const [key, slot] of slots)
        void this.take(limiter, key.slice('slot:'.length), slot.owner)
      return limiter
    })()
    return this.loaded
  }

  /** Runs a task that holds its slot until `release(id)`; resolves once the slot is granted. */
  private take(limiter: Limiter, id: string, owner: string, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((granted, refused) => {
      limiter
        .run(
          () =>
            new Promise<void>((release) => {
              this.releases.set(id, release)
              granted()
            }),
          signal,
          owner,
        )
        .catch(refused)
    })
  }

  private async scheduleExpiry(): Promise<void> {
    const slots = await this.ctx.storage.list<StoredSlot>({ prefix: 'slot:' })
    let next = Infinity
    for (const slot of slots.values()) next = Math.min(next, slot.expiresAt)
    if (next === Infinity) await this.ctx.storage.deleteAlarm()
    else await this.ctx.storage.setAlarm(next)
  }
}
