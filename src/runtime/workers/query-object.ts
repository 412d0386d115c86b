/**
 * The Durable Object of one query: it holds the record and runs the query (upstream →
 * transcoder → R2), so any isolate answers consistently and the query outlives its submit
 * request. Its one alarm serves two clocks: the watchdog that ends a query whose runner vanished
 * as FAILED, and the query's pending webhook delivery and its retries. Objects of the same class
 * under other names are the registry's indexes (Idempotency-Key and reuse pointers, query lists).
 * Workers only.
 */
import { DurableObject } from 'cloudflare:workers'
import { toRecordKey, toResultKey } from '../../domain/query-id.ts'
import {
  versionOf,
  type QueryRecord,
  type ShadowVerdict,
  type UpstreamQuery,
} from '../../domain/query.ts'
import type { ListPage, ListPosition, ListQuery, QuerySummary } from '../../registry/types.ts'
import { createDurableObjectRegistry, type QueryObjectApi } from '../../registry/durable-object.ts'
import { createListIndex } from '../../registry/list-index.ts'
import { createQueryRunner, type QueryRunner } from '../../queries/runner.ts'
import { createShadowRunner, type ShadowRunner } from '../../shadow/shadow-runner.ts'
import type { Registry } from '../../registry/types.ts'
import type { FollowResult } from '../../queries/live-results.ts'
import { writeRecordFile } from '../../registry/record-file.ts'
import type { Credentials } from '../../domain/caller.ts'
import { createDigestHash, createWorkerParts, type WorkerEnv, type WorkerParts } from './deps.ts'
import { createLimiterClient } from './limiter-client.ts'
import { createWebhookDispatcher, type WebhookDispatcher } from '../../webhooks/dispatcher.ts'
import type { PendingDeliveries } from '../../webhooks/types.ts'
import { createStorageDeliveries, hasPendingDeliveries } from './webhook-storage.ts'

/** Time past the upstream timeout before the alarm calls a silent query lost (≤ 1 minute). */
const toAlarmGraceMs = (upstreamTimeoutMs: number) => Math.min(60_000, upstreamTimeoutMs)

/** Pending `waitForChange` calls one object holds at most, and the longest one waits. */
const MAX_WAITERS = 1024
const MAX_WAIT_MS = 60_000

export const RUNNER_LOST =
  'The gateway lost this query before it finished (its Durable Object was restarted); no result was kept. Please submit it again.'

export class QueryObject extends DurableObject<WorkerEnv> {
  /** Set while this instance runs the query; gone if the object was evicted or restarted. */
  private runner: QueryRunner | undefined
  private runningId: string | undefined
  /** Callers of `waitForChange` still waiting, woken by every change of the record. */
  private readonly waiters = new Set<() => void>()
  /** Made on first use; `null` when webhooks are off. */
  private webhooks: { dispatcher: WebhookDispatcher; pending: PendingDeliveries } | null | undefined

  async create(record: QueryRecord): Promise<void> {
    await this.ctx.storage.put('record', record)
    this.wakeWaiters()
  }

  /**
   * The change notification of this query: answers the record as soon as its version is no longer
   * `afterVersion` (`null` once deleted), or as it is after `timeoutMs` (at most a minute). Every
   * change of the record passes through this object, so nothing is polled: a change wakes it.
   */
  async waitForChange(afterVersion: number, timeoutMs: number): Promise<QueryRecord | null> {
    const record = await this.read()
    if (!record || versionOf(record) !== afterVersion) return record
    if (this.waiters.size >= MAX_WAITERS) {
      throw new Error(`This query already has ${MAX_WAITERS} waiters.`)
    }
    await new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer)
        this.waiters.delete(wake)
        resolve()
      }
      const timer = setTimeout(wake, Math.min(Math.max(0, timeoutMs), MAX_WAIT_MS))
      this.waiters.add(wake)
    })
    return this.read()
  }

  private wakeWaiters(): void {
    for (const wake of [...this.waiters]) wake()
  }

  async read(): Promise<QueryRecord | null> {
    return (await this.ctx.storage.get<QueryRecord>('record')) ?? null
  }

  async update(patch: Partial<Omit<QueryRecord, 'id'>>): Promise<QueryRecord | null> {
    const record = await this.read()
    // A finished record is final, as the Registry contract says: a late progress update or a
    // stop racing the end must not change it.
    if (!record || record.state !== 'RUNNING') return null
    const next: QueryRecord = { ...record, ...patch, id: record.id, version: versionOf(record) + 1 }
    await this.ctx.storage.put('record', next)
    this.wakeWaiters()
    return next
  }

  async updateShadow(shadow: ShadowVerdict): Promise<QueryRecord | null> {
    const record = await this.read()
    if (!record) return null
    const next: QueryRecord = { ...record, shadow, version: versionOf(record) + 1 }
    await this.ctx.storage.put('record', next)
    this.wakeWaiters()
    return next
  }

  async remove(): Promise<boolean> {
    const record = await this.read()
    if (record && this.runningId === record.id) {
      await this.runner?.abort(record.id, 'The query was deleted before it finished.')
    }
    // A webhook still to be sent (the event of this very end, perhaps) outlives the record.
    await this.ctx.storage.delete(['record', 'pointer', 'watchdog'])
    this.wakeWaiters()
    if (await hasPendingDeliveries(this.ctx.storage)) await this.scheduleAlarm()
    else {
      await this.ctx.storage.deleteAlarm()
      await this.ctx.storage.deleteAll()
    }
    return record !== null
  }

  async pointTo(id: string): Promise<void> {
    await this.ctx.storage.put('pointer', id)
  }

  async pointer(): Promise<string | null> {
    return (await this.ctx.storage.get<string>('pointer')) ?? null
  }

  async dropPointer(id: string): Promise<void> {
    if ((await this.pointer()) === id) await this.ctx.storage.delete('pointer')
  }

  // As a list index object (one per owner, one of everyone's): see registry/list-index.ts.
  async listPut(summary: QuerySummary): Promise<void> {
    await createListIndex(this.ctx.storage).put(summary)
  }

  async listDrop(position: ListPosition): Promise<void> {
    await createListIndex(this.ctx.storage).drop(position)
  }

  async listPage(query: ListQuery): Promise<ListPage> {
    return createListIndex(this.ctx.storage).page(query)
  }

  /**
   * The registry as this object's runner and alarm see it: this record read and written here,
   * the index objects (list, reuse) told of its end as every registry call tells them.
   */
  private registryOf(parts: WorkerParts, id: string) {
    const self = this as unknown as QueryObjectApi
    return createDurableObjectRegistry({
      objects: (name) => (name === id ? self : parts.objects(name)),
      store: parts.store,
    })
  }

  async start(record: QueryRecord, query: UpstreamQuery, credentials: Credentials): Promise<void> {
    const parts = createWorkerParts(this.env)
    const registry = this.registryOf(parts, record.id)
    // The runner queues the query's webhook in this object's storage, sent from its alarm.
    const webhooks = this.webhookDispatcher()
    const runner = createQueryRunner(
      {
        ...(this.shadowRunner(parts, registry) ?? {}),
        config: parts.config,
        store: parts.store,
        registry,
        kylin: parts.kylin,
        upstreams: parts.upstreams,
        logger: parts.logger,
        // Keeps the object working after the RPC that started the query has returned.
        defer: (task) => this.ctx.waitUntil(task().finally(() => this.finish(record.id))),
        now: Date.now,
        createHash: createDigestHash,
        ...(webhooks ? { webhooks } : {}),
      },
      // The cluster-wide cap: a slot of the limiter object, held at most as long as the alarm
      // below lets this query live.
      createLimiterClient(
        parts.limiter(),
        record.id,
        parts.config.upstreamTimeoutMs + 2 * toAlarmGraceMs(parts.config.upstreamTimeoutMs),
      ),
    )
    this.runner = runner
    this.runningId = record.id
    const { upstreamTimeoutMs } = parts.config
    await this.ctx.storage.put(
      'watchdog',
      Date.now() + upstreamTimeoutMs + toAlarmGraceMs(upstreamTimeoutMs),
    )
    await this.scheduleAlarm()
    await runner.start(record, query, credentials)
  }

  /**
   * The shadow run of this object's query, after its primary run, kept alive by `waitUntil`: at
   * most one here (one query an object), so SHADOW_MAX_CONCURRENT is not shared across objects.
   */
  private shadowRunner(
    parts: WorkerParts,
    registry: Registry,
  ): { shadow: ShadowRunner } | undefined {
    if (!parts.config.shadow || !parts.shadowKylin) return undefined
    return {
      shadow: createShadowRunner({
        config: parts.config,
        store: parts.store,
        registry,
        logger: parts.logger,
        defer: (task) => this.ctx.waitUntil(task()),
        now: Date.now,
        createHash: createDigestHash,
        shadowKylin: parts.shadowKylin,
        settings: parts.config.shadow,
      }),
    }
  }

  /**
   * The bytes of the query running here as they are written, returned over RPC as a stream that
   * errors unless the query ends SUCCESSFUL; `null` when this instance does not run it.
   */
  async follow(): Promise<FollowResult> {
    if (!this.runner?.follow || !this.runningId) return null
    return this.runner.follow(this.runningId)
  }

  async abort(reason: string): Promise<boolean> {
    if (!this.runner || !this.runningId) return false
    return this.runner.abort(this.runningId, reason)
  }

  /** The watchdog's time or a webhook's, whichever is first; none: no alarm. */
  private async scheduleAlarm(): Promise<void> {
    const watchdog = await this.ctx.storage.get<number>('watchdog')
    const webhook = (await this.webhookParts()?.pending.nextDueAt()) ?? null
    const times = [watchdog, webhook].filter((t): t is number => typeof t === 'number')
    if (times.length > 0) await this.ctx.storage.setAlarm(Math.min(...times))
    else await this.ctx.storage.deleteAlarm()
  }

  /** This object's webhook dispatcher over its own storage, made on first use; `null`: off. */
  private webhookParts(): { dispatcher: WebhookDispatcher; pending: PendingDeliveries } | null {
    if (this.webhooks === undefined) {
      const parts = createWorkerParts(this.env)
      const settings = parts.config.webhooks
      const pending = settings
        ? createStorageDeliveries(this.ctx.storage, settings.maxPending)
        : null
      this.webhooks =
        settings && pending
          ? {
              pending,
              dispatcher: createWebhookDispatcher({
                settings,
                pending,
                // The global fetch, unbound; workerd has no DNS API, so literal addresses and
                // the allow-list are what is checked here (README, Webhooks).
                fetch: (input, init) => fetch(input, init),
                now: Date.now,
                logger: parts.logger,
                // Due now: the alarm, not this request, makes the attempt (and its retries).
                onQueued: () => void this.scheduleAlarm(),
              }),
            }
          : null
    }
    return this.webhooks
  }

  private webhookDispatcher(): WebhookDispatcher | null {
    return this.webhookParts()?.dispatcher ?? null
  }

  /** The watchdog when it is due, then every webhook that is due; then the next alarm. */
  async alarm(): Promise<void> {
    const watchdog = await this.ctx.storage.get<number>('watchdog')
    if (watchdog !== undefined && watchdog <= Date.now()) {
      await this.ctx.storage.delete('watchdog')
      await this.watch()
    }
    await this.webhookDispatcher()?.runDue()
    await this.scheduleAlarm()
  }

  /** Fires only if the query did not finish in time: a lost runner ends FAILED, not RUNNING. */
  private async watch(): Promise<void> {
    const record = await this.read()
    if (!record || record.state !== 'RUNNING') return
    const parts = createWorkerParts(this.env)
    if (this.runningId === record.id) {
      // Still running here: the runner's own timeout ends it; look again later.
      await this.ctx.storage.put(
        'watchdog',
        Date.now() + toAlarmGraceMs(parts.config.upstreamTimeoutMs),
      )
      return
    }
    await parts.store.delete(toResultKey(record.id)).catch(() => {})
    await parts
      .limiter()
      .release(record.id)
      .catch(() => {})
    const failed = await this.registryOf(parts, record.id).update(record.id, {
      state: 'FAILED',
      error: RUNNER_LOST,
      updatedAt: Date.now(),
      finishedAt: Date.now(),
    })
    if (failed) {
      await writeRecordFile(parts, failed).catch(() => {})
      if (failed.callbackUrl) await this.webhookDispatcher()?.queryEnded(failed, failed.callbackUrl)
    }
  }

  private async finish(id: string): Promise<void> {
    if (this.runningId !== id) return
    this.runner = undefined
    this.runningId = undefined
    const record = await this.read()
    if (record && record.state !== 'RUNNING') {
      await this.ctx.storage.delete('watchdog')
      await this.scheduleAlarm()
    }
    if (!record)
      await createWorkerParts(this.env)
        .store.delete(toRecordKey(id))
        .catch(() => {})
  }
}
