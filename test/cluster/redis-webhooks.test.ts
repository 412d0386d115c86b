/**
 * Pending webhook deliveries in a real redis-server: each due attempt is claimed by one instance,
 * a claim that is not settled comes due again, the list is bounded, and deliveries outlive the
 * instance that queued them (and a restart of Redis with its append-only file).
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRedisDeliveries } from '../../src/cluster/redis-webhooks.ts'
import type { WebhookSettings } from '../../src/config/webhook-settings.ts'
import type { QueryRecord } from '../../src/domain/query.ts'
import { createSilentLogger } from '../../src/logger.ts'
import { createWebhookDispatcher } from '../../src/webhooks/dispatcher.ts'
import type { PendingDeliveries, PendingDelivery } from '../../src/webhooks/types.ts'
import { startRedisServer, type RedisServer } from '../support/redis-server.ts'
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts'

let server: RedisServer
let receiver: WebhookReceiver
let namespaces = 0
const secret = `whsec_${randomBytes(32).toString('base64')}`

beforeAll(async () => {
  ;[server, receiver] = await Promise.all([startRedisServer(), startWebhookReceiver()])
})
afterAll(async () => {
  await Promise.all([server?.stop(), receiver?.close()])
})

/** Two instances' views of one namespace, each on a connection of its own. */
function twoInstances(maxPending = 100) {
  const prefix = `w${++namespaces}:`
  return [0, 1].map(() =>
    createRedisDeliveries({ redis: server.connect(), prefix, maxPending }),
  ) as [PendingDeliveries, PendingDeliveries]
}

function delivery(dueAt: number): PendingDelivery {
  const queryId = randomUUID()
  return {
    id: `msg_${queryId}`,
    queryId,
    url: `${receiver.url}/ok/${queryId}`,
    body: JSON.stringify({ queryId }),
    attempts: 0,
    firstDueAt: dueAt,
    dueAt,
  }
}

function dispatcherOn(pending: PendingDeliveries, overrides: Partial<WebhookSettings> = {}) {
  return createWebhookDispatcher({
    settings: {
      secret,
      allowedHosts: [receiver.host],
      retryForMs: 60_000,
      firstRetryMs: 30,
      timeoutMs: 2_000,
      maxPending: 100,
      ...overrides,
    },
    pending,
    fetch,
    now: Date.now,
    logger: createSilentLogger(),
  })
}

describe('Redis pending deliveries', () => {
  it('gives each due delivery to one claimer only, however many claim at once', async () => {
    const [a, b] = twoInstances()
    const all = Array.from({ length: 40 }, () => delivery(1_000))
    for (const d of all) expect(await a.add(d)).toBe(true)
    const claims = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).claimDue(2_000, 7, 60_000)),
    )
    const ids = claims.flat().map((d) => d.id)
    expect(ids).toHaveLength(40)
    expect(new Set(ids)).toEqual(new Set(all.map((d) => d.id)))
    expect(await a.claimDue(2_000, 100, 60_000)).toEqual([])
    expect(await b.nextDueAt()).toBe(60_000)
  })

  it('makes a claimed delivery due again when its claim ends unsettled (the claimer died)', async () => {
    const [a, b] = twoInstances()
    const d = delivery(1_000)
    await a.add(d)
    expect(await a.claimDue(1_000, 10, 5_000)).toEqual([d])
    expect(await b.claimDue(4_999, 10, 9_000)).toEqual([])
    expect(await b.claimDue(5_000, 10, 9_000)).toEqual([d])
  })

  it('reschedules with the new attempts, removes, and keeps one per webhook id', async () => {
    const [a, b] = twoInstances()
    const d = delivery(1_000)
    await a.add(d)
    expect(await b.add({ ...d, body: 'another' })).toBe(true)
    await a.claimDue(1_000, 10, 5_000)
    await a.reschedule({ ...d, attempts: 1, dueAt: 2_000 })
    expect(await b.nextDueAt()).toBe(2_000)
    expect(await b.claimDue(2_000, 10, 9_000)).toEqual([{ ...d, attempts: 1, dueAt: 2_000 }])
    await b.remove(d.id)
    // A delivery another instance removed is not brought back by a late reschedule.
    await a.reschedule({ ...d, attempts: 2, dueAt: 3_000 })
    expect(await a.nextDueAt()).toBeNull()
  })

  it('is bounded by WEBHOOK_MAX_PENDING across instances', async () => {
    const [a, b] = twoInstances(3)
    expect(await a.add(delivery(1))).toBe(true)
    expect(await b.add(delivery(1))).toBe(true)
    expect(await a.add(delivery(1))).toBe(true)
    expect(await b.add(delivery(1))).toBe(false)
  })

  it('has two dispatchers deliver every webhook exactly once', async () => {
    const [a, b] = twoInstances()
    const [first, second] = [dispatcherOn(a), dispatcherOn(b)]
    const records = Array.from({ length: 20 }, () => randomUUID())
    for (const id of records) {
      await (id < records[10]! ? first : second).queryEnded(
        record(id),
        `${receiver.url}/once/${id}`,
      )
    }
    await Promise.all([first.runDue(), second.runDue(), first.runDue(), second.runDue()])
    await Promise.all([first.runDue(), second.runDue()])
    for (const id of records) expect(receiver.to(`/once/${id}`)).toHaveLength(1)
    expect(await a.nextDueAt()).toBeNull()
  })
})

describe('Redis pending deliveries across restarts', () => {
  it('are sent by another instance, after Redis itself restarted, with the same webhook-id', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'redis-webhooks-'))
    let redis = await startRedisServer({ dataDir })
    try {
      const prefix = 'restart:'
      const instanceA = createRedisDeliveries({ redis: redis.connect(), prefix, maxPending: 10 })
      const id = randomUUID()
      const path = `/fail/1/${id}`
      const first = dispatcherOn(instanceA, { firstRetryMs: 300 })
      await first.queryEnded(record(id), `${receiver.url}${path}`)
      await first.runDue()
      expect(receiver.to(path)).toHaveLength(1)
      // Instance A is gone; Redis restarts on its append-only file.
      await redis.stop()
      redis = await startRedisServer({ dataDir, port: redis.port })
      const instanceB = createRedisDeliveries({ redis: redis.connect(), prefix, maxPending: 10 })
      expect(await instanceB.nextDueAt()).not.toBeNull()
      const second = dispatcherOn(instanceB, { firstRetryMs: 300 })
      const deadline = Date.now() + 5_000
      while (receiver.to(path).length < 2 && Date.now() < deadline) {
        await second.runDue()
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      const [failed, delivered] = receiver.to(path)
      expect(delivered!.headers['webhook-id']).toBe(`msg_${id}`)
      expect(failed!.headers['webhook-id']).toBe(`msg_${id}`)
      expect(new Webhook(secret).verify(delivered!.body, delivered!.headers)).toMatchObject({
        data: { query_id: id, status: 'SUCCESSFUL' },
      })
      expect(await instanceB.nextDueAt()).toBeNull()
    } finally {
      await redis.stop()
      await rm(dataDir, { recursive: true, force: true })
    }
  })
})

function record(id: string): QueryRecord {
  return {
    id,
    owner: 'ANALYST',
    project: 'learn_kylin',
    options: { separator: ',', includeHeader: false, fileName: 'result' },
    state: 'SUCCESSFUL',
    rows: 1,
    bytes: 2,
    createdAt: 1,
    updatedAt: 2,
    finishedAt: 2,
  }
}
