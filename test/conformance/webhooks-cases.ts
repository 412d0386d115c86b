/**
 * Conformance cases of signed webhooks: one signed event per ended query (SUCCESSFUL, FAILED,
 * stopped, deleted), retries with the same webhook-id, callback URLs refused at submit, and
 * redirects never followed. The receivers run in the test process (webhook-receivers.ts).
 */
import { randomUUID } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import { expect, it } from 'vitest'
import type { ConformanceContext, Envelope, Status } from './suite.ts'
import { startConformanceReceivers } from './webhook-receivers.ts'

const V4 = 'application/vnd.apache.kylin-v4-public+json'

interface WebhookEventData {
  query_id: string
  status: string
  info: string
  error?: string
  project: string
  rows: number
  bytes: number
  sha256?: string
  finished_at: string
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export function addWebhooksCases({ api, submit, waitForEnd }: ConformanceContext): void {
  /** Verifies a received request as a receiver would, with the independent library. */
  async function verified(received: { body: string; headers: Record<string, string> }) {
    const { secret } = await startConformanceReceivers()
    const event = new Webhook(secret).verify(received.body, received.headers) as {
      type: string
      data: WebhookEventData
    }
    expect(event.type).toBe('async_query.finished')
    return event.data
  }

  it('webhooks: a SUCCESSFUL and a FAILED query each deliver one signed event', async () => {
    const { listed } = await startConformanceReceivers()
    const okPath = `/ok/${randomUUID()}`
    const failPath = `/ok/${randomUUID()}`
    const okId = await submit({
      sql: 'select * from kylin_sales',
      callback_url: `${listed.url}${okPath}?token=abc`,
    })
    const failId = await submit(
      { sql: 'select * from no_such_table', callback_url: `${listed.url}${failPath}` },
      { accept: V4 },
    )
    const okStatus = await waitForEnd(okId)
    const failStatus = await waitForEnd(failId)
    expect(okStatus.status).toBe('SUCCESSFUL')
    expect(failStatus.status).toBe('FAILED')

    const [ok] = await listed.waitFor(okPath, 1)
    const [failed] = await listed.waitFor(failPath, 1)
    expect(ok!.headers['webhook-id']).toBe(`msg_${okId}`)
    const okData = await verified(ok!)
    const integrity = okStatus as Status & { rows: number; bytes: number; sha256: string }
    expect(okData).toEqual({
      query_id: okId,
      status: 'SUCCESSFUL',
      info: 'await fetching results',
      project: 'learn_kylin',
      rows: integrity.rows,
      bytes: integrity.bytes,
      sha256: integrity.sha256,
      finished_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    })
    expect(okData.rows).toBeGreaterThan(0)
    const failData = await verified(failed!)
    expect(failData).toMatchObject({
      query_id: failId,
      status: 'FAILED',
      info: failStatus.info,
      error: failStatus.info,
      rows: 0,
      bytes: 0,
    })
    // Never result rows, never credentials.
    for (const body of [ok!.body, failed!.body]) {
      expect(body).not.toMatch(/ANALYST|Basic |Authorization/i)
      expect(body).not.toContain('FP-GTC')
    }
    // One event each: nothing more arrives.
    await sleep(400)
    expect(listed.to(okPath)).toHaveLength(1)
    expect(listed.to(failPath)).toHaveLength(1)
  })

  it('webhooks: a receiver that fails twice then succeeds gets three attempts with the same webhook-id', async () => {
    const { listed } = await startConformanceReceivers()
    const path = `/fail/2/${randomUUID()}`
    const id = await submit({
      sql: 'select * from kylin_sales',
      callback_url: `${listed.url}${path}`,
    })
    const attempts = await listed.waitFor(path, 3)
    expect(attempts.map((a) => a.headers['webhook-id'])).toEqual([
      `msg_${id}`,
      `msg_${id}`,
      `msg_${id}`,
    ])
    for (const attempt of attempts) expect((await verified(attempt)).query_id).toBe(id)
    // Backoff: the second retry waits longer than the first.
    expect(attempts[2]!.at - attempts[1]!.at).toBeGreaterThan(attempts[1]!.at - attempts[0]!.at)
    await sleep(800)
    expect(listed.to(path)).toHaveLength(3)
  })

  it('webhooks: a stopped and a deleted query each send a FAILED event', async () => {
    const { listed } = await startConformanceReceivers()
    const stopPath = `/ok/${randomUUID()}`
    const deletePath = `/ok/${randomUUID()}`
    const slow = 'select * from kylin_sales -- sleep_ms_5000'
    const stopId = await submit({ sql: slow, callback_url: `${listed.url}${stopPath}` })
    const deleteId = await submit({ sql: slow, callback_url: `${listed.url}${deletePath}` })
    await sleep(200)
    const stopped = await api(`/stop/${stopId}`, { method: 'DELETE' })
    expect(stopped.status).toBe(200)
    const deleted = await api(`/${deleteId}`, { method: 'DELETE' })
    expect(deleted.status).toBe(200)

    const [stopEvent] = await listed.waitFor(stopPath, 1)
    expect(await verified(stopEvent!)).toMatchObject({
      query_id: stopId,
      status: 'FAILED',
      error: expect.stringContaining('stopped by ANALYST'),
    })
    const [deleteEvent] = await listed.waitFor(deletePath, 1)
    expect(await verified(deleteEvent!)).toMatchObject({
      query_id: deleteId,
      status: 'FAILED',
      error: expect.stringContaining('deleted'),
    })
  })

  it('webhooks: a callback_url outside WEBHOOK_ALLOWED_HOSTS or to an unlisted special address is refused at submit', async () => {
    const { listed, unlisted } = await startConformanceReceivers()
    const port = new URL(listed.url).port
    const refused: [string, RegExp][] = [
      ['https://hooks.example.com/kylin', /WEBHOOK_ALLOWED_HOSTS/],
      [`${unlisted.url}/ok/x`, /WEBHOOK_ALLOWED_HOSTS/],
      [`http://localhost:${port}/ok/x`, /WEBHOOK_ALLOWED_HOSTS/],
      [`http://127.0.0.1.nip.io:${port}/ok/x`, /WEBHOOK_ALLOWED_HOSTS/],
      [`http://[::1]:${port}/ok/x`, /WEBHOOK_ALLOWED_HOSTS/],
      [`http://[::ffff:127.0.0.1]:${port}/ok/x`, /WEBHOOK_ALLOWED_HOSTS/],
      [`http://127.0.0.2:${port}/ok/x`, /WEBHOOK_ALLOWED_HOSTS/],
      [`http://2130706433:${new URL(unlisted.url).port}/ok/x`, /WEBHOOK_ALLOWED_HOSTS/],
      ['http://169.254.169.254/latest/meta-data/', /WEBHOOK_ALLOWED_HOSTS/],
      [`http://user:pw@127.0.0.1:${port}/ok/x`, /user or password/],
      [`ftp://127.0.0.1:${port}/ok/x`, /http:\/\/ or https:\/\//],
      ['not a url', /not a valid URL/],
    ]
    for (const [callback, message] of refused) {
      const res = await api('', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          sql: 'select * from kylin_sales',
          project: 'learn_kylin',
          callback_url: callback,
        }),
      })
      expect(res.status, callback).toBe(400)
      const json = (await res.json()) as Envelope<null>
      expect(json.code, callback).toBe('999')
      expect(json.data).toBeNull()
      expect(json.msg, callback).toMatch(message)
      expect(json.msg).not.toContain('pw@')
    }
    await sleep(300)
    expect(unlisted.received).toEqual([])
  })

  it('webhooks: a redirect (to a private address) is a failed attempt, never followed', async () => {
    const { listed, unlisted } = await startConformanceReceivers()
    const token = randomUUID()
    const path = `/redirect/${token}`
    const to = encodeURIComponent(`${unlisted.url}/stolen/${token}`)
    const id = await submit({
      sql: 'select * from kylin_sales',
      callback_url: `${listed.url}${path}?to=${to}`,
    })
    expect((await waitForEnd(id)).status).toBe('SUCCESSFUL')
    // Retried, as any answer but a 2xx is; the place it points at never hears of it.
    const attempts = await listed.waitFor(path, 2)
    expect(new Set(attempts.map((a) => a.headers['webhook-id']))).toEqual(new Set([`msg_${id}`]))
    await sleep(500)
    expect(unlisted.to(`/stolen/${token}`)).toEqual([])
  })
}
