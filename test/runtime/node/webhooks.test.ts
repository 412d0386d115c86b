/**
 * Webhooks on a Node gateway with the fs store: a delivery still pending when the gateway stops
 * is sent by the next one on the same DATA_DIR, with the same webhook-id; queries a shutdown or a
 * crash ended send their FAILED events; a listed name that resolves to loopback is never called.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { PassThrough } from 'node:stream'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../../src/config/config.ts'
import { SHUTDOWN_MESSAGE, startNodeGateway } from '../../../src/runtime/node/gateway.ts'
import { writeRecordFile } from '../../../src/registry/record-file.ts'
import { RESTART_MESSAGE } from '../../../src/registry/rebuild.ts'
import { createFsStore } from '../../../src/store/fs.ts'
import { BASIC, startFakeKylin, type FakeKylin } from '../../support/fake-kylin.ts'
import { startWebhookReceiver, type WebhookReceiver } from '../../support/webhook-receiver.ts'

const secret = `whsec_${randomBytes(32).toString('base64')}`

describe('Node webhooks across a restart', () => {
  let kylin: FakeKylin
  let receiver: WebhookReceiver
  let dataDir: string

  beforeAll(async () => {
    ;[kylin, receiver] = await Promise.all([startFakeKylin(), startWebhookReceiver()])
    dataDir = await mkdtemp(join(tmpdir(), 'webhooks-restart-'))
  })
  afterAll(async () => {
    await Promise.all([kylin.close(), receiver.close()])
    await rm(dataDir, { recursive: true, force: true })
  })

  const start = () =>
    startNodeGateway(
      parseConfig({
        KYLIN_UPSTREAM_URL: kylin.url,
        PORT: '0',
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        LOG_LEVEL: 'silent',
        WEBHOOK_SECRET: secret,
        WEBHOOK_ALLOWED_HOSTS: receiver.host,
        WEBHOOK_FIRST_RETRY: '1500ms',
      }),
    )

  async function submit(url: string, sql: string, callback: string) {
    const res = await fetch(`${url}/kylin/api/async_query`, {
      method: 'POST',
      headers: { Authorization: BASIC.ANALYST, 'Content-Type': 'application/json' },
      body: JSON.stringify({ sql, project: 'learn_kylin', callback_url: callback }),
    })
    expect(res.status).toBe(200)
    return ((await res.json()) as { data: { queryID: string } }).data.queryID
  }

  it('sends after the restart what was still pending, with the same webhook-id', async () => {
    const first = await start()
    const path = `/fail/1/restart`
    const id = await submit(first.url, 'select * from kylin_sales', `${receiver.url}${path}`)
    await receiver.waitFor(path, 1)
    await first.close()
    expect(await readdir(join(dataDir, 'webhooks'))).toEqual([`msg_${id}.json`])

    const second = await start()
    try {
      const [failed, delivered] = await receiver.waitFor(path, 2)
      expect(delivered!.headers['webhook-id']).toBe(failed!.headers['webhook-id'])
      const event = new Webhook(secret).verify(delivered!.body, delivered!.headers) as {
        data: { query_id: string; status: string }
      }
      expect(event.data).toMatchObject({ query_id: id, status: 'SUCCESSFUL' })
      await expect.poll(() => readdir(join(dataDir, 'webhooks'))).toEqual([])
    } finally {
      await second.close()
    }
  })

  it('sends the FAILED event of a query the shutdown stopped', async () => {
    const first = await start()
    const path = `/ok/shutdown`
    const id = await submit(
      first.url,
      'select * from kylin_sales -- sleep_ms_10000',
      `${receiver.url}${path}`,
    )
    await expect.poll(() => kylin.inFlight).toBe(1)
    await first.close()
    // Sent during the shutdown, or else by the next gateway: once either way.
    const second = await start()
    try {
      const [got] = await receiver.waitFor(path, 1)
      const event = new Webhook(secret).verify(got!.body, got!.headers) as {
        data: Record<string, unknown>
      }
      expect(event.data).toMatchObject({ query_id: id, status: 'FAILED', error: SHUTDOWN_MESSAGE })
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(receiver.to(path)).toHaveLength(1)
    } finally {
      await second.close()
    }
  })

  it('sends the FAILED event of a query a crash left RUNNING, once the next gateway rebuilt it', async () => {
    const id = randomUUID()
    const path = `/ok/crash-${id}`
    // What a crash leaves: a RUNNING record file beside no result.
    await writeRecordFile(
      { store: createFsStore({ dir: dataDir }) },
      {
        id,
        owner: 'ANALYST',
        project: 'learn_kylin',
        options: { separator: ',', includeHeader: false, fileName: 'result' },
        state: 'RUNNING',
        rows: 0,
        bytes: 0,
        createdAt: Date.now(),
        updatedAt: Date.now(),
        callbackUrl: `${receiver.url}${path}`,
      },
    )
    const gateway = await start()
    try {
      const [got] = await receiver.waitFor(path, 1)
      expect(new Webhook(secret).verify(got!.body, got!.headers)).toMatchObject({
        data: { query_id: id, status: 'FAILED', error: RESTART_MESSAGE },
      })
    } finally {
      await gateway.close()
    }
  })

  it('never calls a listed name that resolves to loopback, and logs the drop with the host only', async () => {
    const port = new URL(receiver.url).port
    const log = new PassThrough()
    const lines: string[] = []
    log.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)))
    const gateway = await startNodeGateway(
      parseConfig({
        KYLIN_UPSTREAM_URL: kylin.url,
        PORT: '0',
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        LOG_LEVEL: 'info',
        WEBHOOK_SECRET: secret,
        WEBHOOK_ALLOWED_HOSTS: `hooks.rebind.test:${port}`,
        WEBHOOK_FIRST_RETRY: '50ms',
      }),
      {
        logDestination: log,
        // The name a receiver's owner controls, answering with the gateway's own loopback.
        resolveWebhookHost: async () => [{ address: '127.0.0.1', family: 4 }],
      },
    )
    try {
      const id = await submit(
        gateway.url,
        'select * from kylin_sales',
        `http://hooks.rebind.test:${port}/ok/rebind?token=s3cret`,
      )
      await expect
        .poll(() => lines.some((l) => l.includes('webhook dropped')), { timeout: 5000 })
        .toBe(true)
      const dropped = JSON.parse(lines.find((l) => l.includes('webhook dropped'))!) as Record<
        string,
        unknown
      >
      expect(dropped).toMatchObject({
        queryId: id,
        host: `hooks.rebind.test:${port}`,
        attempts: 1,
      })
      expect(lines.join('\n')).not.toContain('s3cret')
      expect(receiver.to('/ok/rebind')).toEqual([])
    } finally {
      await gateway.close()
    }
  })
})
