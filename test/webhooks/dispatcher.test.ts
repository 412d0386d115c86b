/**
 * The dispatcher against a real loopback receiver: one signed event per ended query, retries with
 * the same webhook-id, redirects not followed, give-up after WEBHOOK_RETRY_FOR, the bound.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { WebhookSettings } from '../../src/config/webhook-settings.ts'
import type { QueryRecord } from '../../src/domain/query.ts'
import type { Logger } from '../../src/logger.ts'
import { createWebhookDispatcher, type WebhookDispatcher } from '../../src/webhooks/dispatcher.ts'
import { createMemoryDeliveries } from '../../src/webhooks/memory-deliveries.ts'
import type { PendingDeliveries } from '../../src/webhooks/types.ts'
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts'

const secret = `whsec_${randomBytes(24).toString('base64')}`

/** A logger that keeps its lines, to check what is written (and what is not). */
function createRecordingLogger() {
  const lines: { level: string; fields: object; message?: string }[] = []
  const logger: Logger = {
    debug: (fields, message) => void lines.push({ level: 'debug', fields, message }),
    info: (fields, message) => void lines.push({ level: 'info', fields, message }),
    warn: (fields, message) => void lines.push({ level: 'warn', fields, message }),
    error: (fields, message) => void lines.push({ level: 'error', fields, message }),
    child: () => logger,
  }
  return { logger, lines }
}

function finished(overrides: Partial<QueryRecord> = {}): QueryRecord {
  return {
    id: randomUUID(),
    owner: 'ANALYST',
    project: 'learn_kylin',
    options: { separator: ',', includeHeader: false, fileName: 'result' },
    state: 'SUCCESSFUL',
    rows: 3,
    bytes: 42,
    sha256: 'ab'.repeat(32),
    createdAt: 1_000,
    updatedAt: 2_000,
    finishedAt: 2_000,
    ...overrides,
  }
}

describe('webhook dispatcher', () => {
  let receiver: WebhookReceiver
  let elsewhere: WebhookReceiver

  beforeAll(async () => {
    ;[receiver, elsewhere] = await Promise.all([startWebhookReceiver(), startWebhookReceiver()])
  })
  afterAll(async () => {
    await Promise.all([receiver.close(), elsewhere.close()])
  })

  function setup(overrides: Partial<WebhookSettings> = {}, pending?: PendingDeliveries) {
    const settings: WebhookSettings = {
      secret,
      allowedHosts: [receiver.host],
      retryForMs: 60_000,
      firstRetryMs: 20,
      timeoutMs: 2_000,
      maxPending: 100,
      ...overrides,
    }
    const { logger, lines } = createRecordingLogger()
    const list = pending ?? createMemoryDeliveries(settings.maxPending)
    const dispatcher = createWebhookDispatcher({
      settings,
      pending: list,
      fetch,
      now: Date.now,
      logger,
    })
    return { dispatcher, pending: list, lines }
  }

  /** Runs due rounds until nothing is pending or `ms` have passed. */
  async function drain(dispatcher: WebhookDispatcher, ms = 5_000) {
    const deadline = Date.now() + ms
    while (Date.now() < deadline) {
      const next = await dispatcher.runDue()
      if (next === null) return
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(5, Math.min(50, next - Date.now()))),
      )
    }
  }

  it('sends one signed event, with no result rows, and forgets it once delivered', async () => {
    const { dispatcher, pending, lines } = setup()
    const record = finished()
    await dispatcher.queryEnded(record, `${receiver.url}/ok/${record.id}?token=t0ken`)
    await drain(dispatcher)
    const [got, ...more] = receiver.to(`/ok/${record.id}`)
    expect(more).toEqual([])
    expect(got!.headers['content-type']).toBe('application/json')
    expect(got!.headers['webhook-id']).toBe(`msg_${record.id}`)
    expect(Number(got!.headers['webhook-timestamp'])).toBeCloseTo(Date.now() / 1000, -1)
    const event = new Webhook(secret).verify(got!.body, got!.headers)
    expect(event).toEqual({
      type: 'async_query.finished',
      timestamp: expect.any(String),
      data: {
        query_id: record.id,
        status: 'SUCCESSFUL',
        info: 'await fetching results',
        project: 'learn_kylin',
        rows: 3,
        bytes: 42,
        sha256: 'ab'.repeat(32),
        finished_at: new Date(2_000).toISOString(),
      },
    })
    expect(await pending.nextDueAt()).toBeNull()
    const delivered = lines.find((l) => l.message === 'webhook delivered')
    expect(delivered?.fields).toMatchObject({ host: receiver.host, attempts: 1 })
    // The host only: the query string may hold the receiver's token.
    expect(JSON.stringify(lines)).not.toContain('t0ken')
  })

  it('sends a FAILED event with its error', async () => {
    const { dispatcher } = setup()
    const record = finished({ state: 'FAILED', error: 'Table not found', rows: 0, bytes: 0 })
    delete record.sha256
    await dispatcher.queryEnded(record, `${receiver.url}/ok/${record.id}`)
    await drain(dispatcher)
    const [got] = receiver.to(`/ok/${record.id}`)
    const event = new Webhook(secret).verify(got!.body, got!.headers) as { data: object }
    expect(event.data).toEqual({
      query_id: record.id,
      status: 'FAILED',
      info: 'Table not found',
      error: 'Table not found',
      project: 'learn_kylin',
      rows: 0,
      bytes: 0,
      finished_at: new Date(2_000).toISOString(),
    })
  })

  it('retries a failing receiver with backoff and the same webhook-id, body and a fresh signature', async () => {
    const { dispatcher, pending } = setup({ firstRetryMs: 50 })
    const record = finished()
    const path = `/fail/2/${record.id}`
    await dispatcher.queryEnded(record, `${receiver.url}${path}`)
    await drain(dispatcher)
    const attempts = receiver.to(path)
    expect(attempts).toHaveLength(3)
    expect(new Set(attempts.map((a) => a.headers['webhook-id']))).toEqual(
      new Set([`msg_${record.id}`]),
    )
    expect(new Set(attempts.map((a) => a.body)).size).toBe(1)
    for (const attempt of attempts) new Webhook(secret).verify(attempt.body, attempt.headers)
    // 50 ms ±20 %, then 300 ms ±20 %.
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(35)
    expect(attempts[2]!.at - attempts[1]!.at).toBeGreaterThanOrEqual(230)
    expect(await pending.nextDueAt()).toBeNull()
  })

  it('does not follow a redirect (to a private address), and drops after WEBHOOK_RETRY_FOR', async () => {
    const { dispatcher, pending, lines } = setup({ firstRetryMs: 20, retryForMs: 1_000 })
    const record = finished()
    const target = `${elsewhere.url}/stolen/${record.id}`
    const path = `/redirect/${record.id}`
    await dispatcher.queryEnded(record, `${receiver.url}${path}?to=${encodeURIComponent(target)}`)
    await drain(dispatcher, 5_000)
    expect(receiver.to(path).length).toBeGreaterThanOrEqual(2)
    expect(elsewhere.received).toEqual([])
    expect(await pending.nextDueAt()).toBeNull()
    const dropped = lines.find((l) => l.message?.startsWith('webhook dropped'))
    expect(dropped?.level).toBe('warn')
    expect(dropped?.fields).toEqual({
      queryId: record.id,
      webhookId: `msg_${record.id}`,
      host: receiver.host,
      attempts: receiver.to(path).length,
    })
  })

  it('gives up an attempt after WEBHOOK_TIMEOUT', async () => {
    const { dispatcher, pending } = setup({
      timeoutMs: 200,
      firstRetryMs: 60_000,
      retryForMs: 3_600_000,
    })
    const record = finished()
    await dispatcher.queryEnded(record, `${receiver.url}/hang/${record.id}`)
    const started = Date.now()
    const next = await dispatcher.runDue()
    expect(Date.now() - started).toBeLessThan(2_000)
    expect(receiver.to(`/hang/${record.id}`)).toHaveLength(1)
    expect(next).toBeGreaterThan(Date.now() + 30_000)
    expect(await pending.nextDueAt()).toBe(next)
  })

  it('drops, unsent, a delivery whose host is no longer allowed', async () => {
    const list = createMemoryDeliveries(10)
    const first = setup({}, list)
    const record = finished()
    await first.dispatcher.queryEnded(record, `${receiver.url}/ok/moved-${record.id}`)
    const second = setup({ allowedHosts: ['hooks.example.com'] }, list)
    await drain(second.dispatcher)
    expect(receiver.to(`/ok/moved-${record.id}`)).toEqual([])
    expect(await list.nextDueAt()).toBeNull()
    expect(second.lines.some((l) => l.level === 'warn' && l.message?.includes('dropped'))).toBe(
      true,
    )
  })

  it('keeps at most WEBHOOK_MAX_PENDING, and one per query', async () => {
    const { dispatcher, pending, lines } = setup({ maxPending: 1, firstRetryMs: 60_000 })
    const a = finished()
    const b = finished()
    await dispatcher.queryEnded(a, `${receiver.url}/hang/${a.id}`)
    await dispatcher.queryEnded(a, `${receiver.url}/hang/${a.id}`)
    await dispatcher.queryEnded(b, `${receiver.url}/hang/${b.id}`)
    const claimed = await pending.claimDue(Date.now(), 10, Date.now() + 1000)
    expect(claimed.map((d) => d.queryId)).toEqual([a.id])
    expect(lines.find((l) => l.message?.includes('WEBHOOK_MAX_PENDING'))?.fields).toMatchObject({
      queryId: b.id,
      max: 1,
    })
  })
})
