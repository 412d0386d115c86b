/**
 * Webhooks in workerd across a restart: a delivery pending in the query's Durable Object storage
 * is retried by its alarm after the runtime restarted, with the same webhook-id; and a query
 * whose runner vanished sends its FAILED event from the watchdog that shares that alarm.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Miniflare, type MiniflareOptions } from 'miniflare'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BASIC, startFakeKylin, type FakeKylin } from '../../support/fake-kylin.ts'
import { startWebhookReceiver, type WebhookReceiver } from '../../support/webhook-receiver.ts'
import { buildWorker, toWorkerOptions } from '../../support/worker-build.ts'

const secret = `whsec_${randomBytes(32).toString('base64')}`

describe('worker webhooks across a restart', () => {
  let kylin: FakeKylin
  let receiver: WebhookReceiver
  let mf: Miniflare
  let options: MiniflareOptions
  let url: string
  const dirs: string[] = []

  beforeAll(async () => {
    ;[kylin, receiver] = await Promise.all([startFakeKylin(), startWebhookReceiver()])
    const outdir = await mkdtemp(join(tmpdir(), 'worker-webhooks-'))
    const state = await mkdtemp(join(tmpdir(), 'worker-webhooks-state-'))
    dirs.push(outdir, state)
    options = {
      ...toWorkerOptions(await buildWorker(outdir), {
        KYLIN_UPSTREAM_URL: kylin.url,
        // The watchdog fires at twice this: long enough for a restart on a busy machine.
        UPSTREAM_TIMEOUT_MS: '4000',
        LOG_LEVEL: 'warn',
        WEBHOOK_SECRET: secret,
        WEBHOOK_ALLOWED_HOSTS: receiver.host,
        WEBHOOK_FIRST_RETRY: '2s',
      }),
      // On disk, so storage and alarms survive the restart as they would on Cloudflare.
      durableObjectsPersist: join(state, 'do'),
      r2Persist: join(state, 'r2'),
    }
    mf = new Miniflare(options)
    url = (await mf.ready).toString()
  }, 120_000)

  afterAll(async () => {
    await mf?.dispose()
    await Promise.all([kylin?.close(), receiver?.close()])
    for (const dir of dirs) await rm(dir, { recursive: true, force: true })
  })

  async function submit(sql: string, callback: string) {
    const res = await fetch(`${url}kylin/api/async_query`, {
      method: 'POST',
      headers: { Authorization: BASIC.ADMIN },
      body: JSON.stringify({ sql, project: 'learn_kylin', callback_url: callback }),
    })
    expect(res.status).toBe(200)
    return ((await res.json()) as { data: { queryID: string } }).data.queryID
  }

  const restart = async () => {
    await mf.setOptions(options)
    url = (await mf.ready).toString()
  }

  it('retries after a restart what was pending, with the same webhook-id', async () => {
    const path = '/fail/1/worker-restart'
    const id = await submit('select * from kylin_sales', `${receiver.url}${path}`)
    await receiver.waitFor(path, 1)
    await restart()
    const [failed, delivered] = await receiver.waitFor(path, 2)
    expect(failed!.headers['webhook-id']).toBe(`msg_${id}`)
    expect(delivered!.headers['webhook-id']).toBe(`msg_${id}`)
    expect(new Webhook(secret).verify(delivered!.body, delivered!.headers)).toMatchObject({
      data: { query_id: id, status: 'SUCCESSFUL' },
    })
  }, 60_000)

  it('sends the FAILED event of a query whose runner vanished', async () => {
    const path = '/ok/worker-lost'
    const id = await submit(
      'select * from kylin_sales /* sleep_ms_20000 */',
      `${receiver.url}${path}`,
    )
    // A restart drops every in-memory runner; storage and the alarm stay.
    await restart()
    const [got] = await receiver.waitFor(path, 1, 20_000)
    expect(new Webhook(secret).verify(got!.body, got!.headers)).toMatchObject({
      data: {
        query_id: id,
        status: 'FAILED',
        error: expect.stringContaining('lost this query before it finished'),
      },
    })
  }, 60_000)
})
