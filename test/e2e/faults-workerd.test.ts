/**
 * The fault matrix inside workerd: the Worker bundle run by Miniflare, with its results in R2 and
 * in an S3-compatible bucket (s3rver), in front of a loopback Kylin that misbehaves on purpose.
 * Each fault ends FAILED with a message a person can act on, leaves no result, and the gateway
 * keeps serving.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeCsvRow } from '../../src/export/csv/encode.ts'
import { BASIC, KYLIN_SALES_ROWS, startFakeKylin, type FakeKylin } from '../support/fake-kylin.ts'
import { S3RVER_CREDENTIALS, startS3TestServer, type S3TestServer } from '../support/s3-server.ts'
import {
  expectReadable,
  FAULTS,
  sleep,
  TIMEOUT_MS,
  type Status,
  WRAPPED_ANSWER,
  WRAPPED_CSV,
} from '../support/upstream-faults.ts'
import { buildWorker, toWorkerOptions } from '../support/worker-build.ts'

interface Envelope<T = unknown> {
  code: string
  data: T
  msg: string
}

const EXPECTED_SALES_CSV = KYLIN_SALES_ROWS.map((row) => encodeCsvRow(row, ',')).join('')

let scriptPath: string
let outdir: string

beforeAll(async () => {
  outdir = await mkdtemp(join(tmpdir(), 'faults-worker-'))
  scriptPath = await buildWorker(outdir)
}, 120_000)

afterAll(async () => {
  await rm(outdir, { recursive: true, force: true })
})

describe.each(['r2', 's3'] as const)('faults of the upstream inside workerd, STORE=%s', (store) => {
  let kylin: FakeKylin
  let s3: S3TestServer | undefined
  let mf: Miniflare
  let url: string

  beforeAll(async () => {
    kylin = await startFakeKylin()
    if (store === 's3') s3 = await startS3TestServer()
    mf = new Miniflare(
      toWorkerOptions(scriptPath, {
        KYLIN_UPSTREAM_URL: kylin.url,
        UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS),
        LOG_LEVEL: 'error',
        ...(s3
          ? {
              STORE: 's3',
              S3_ENDPOINT: s3.endpoint,
              S3_BUCKET: s3.bucket,
              AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
              AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
            }
          : {}),
      }),
    )
    url = (await mf.ready).toString().replace(/\/$/, '')
  }, 120_000)

  afterAll(async () => {
    await mf?.dispose()
    await kylin?.close()
    await s3?.close()
  })

  const call = (path: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers)
    headers.set('Authorization', BASIC.ANALYST)
    return fetch(`${url}/kylin/api/async_query${path}`, { ...init, headers })
  }

  async function submit(): Promise<string> {
    const res = await call('', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ sql: 'select * from kylin_sales', project: 'learn_kylin' }),
    })
    expect(res.status).toBe(200)
    return ((await res.json()) as Envelope<{ queryID: string }>).data.queryID
  }

  async function waitForEnd(id: string): Promise<Status> {
    const deadline = Date.now() + TIMEOUT_MS + 10_000
    for (;;) {
      const json = (await (await call(`/${id}/status`)).json()) as Envelope<Status>
      if (json.data.status !== 'RUNNING' || Date.now() > deadline) return json.data
      await sleep(50)
    }
  }

  /** Every complete key of the bucket: R2 through Miniflare, S3 through s3rver. */
  async function listKeys(): Promise<string[]> {
    if (s3) return s3.listAllKeys()
    const bucket = await mf.getR2Bucket('RESULTS')
    return (await bucket.list()).objects.map((o) => o.key)
  }

  it('a 200 with a result inside a "000" envelope → SUCCESSFUL, every row served', async () => {
    kylin.setQueryHandler((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' })
      res.end(WRAPPED_ANSWER)
    })
    try {
      const id = await submit()
      expect(await waitForEnd(id)).toMatchObject({ status: 'SUCCESSFUL' })
      expect(await (await call(`/${id}/result`)).text()).toBe(WRAPPED_CSV)
    } finally {
      kylin.setQueryHandler(null)
    }
  })

  it.each(FAULTS)(
    '$name → FAILED, no result, still serving',
    async (fault) => {
      kylin.setQueryHandler(fault.handler)
      try {
        const id = await submit()
        const status = await waitForEnd(id)
        expect(status.status).toBe('FAILED')
        expectReadable(status.info)
        fault.expectInfo(status.info)
        for (const path of ['result', 'result_download', 'metadata', 'file_status']) {
          expect((await call(`/${id}/${path}`)).status, path).toBe(404)
        }
        const keys = await listKeys()
        expect(keys.filter((key) => key.startsWith(id) && key.endsWith('.csv'))).toEqual([])
        if (s3) expect(await s3.listPendingUploads()).toEqual([])
      } finally {
        kylin.setQueryHandler(null)
      }
      // Still serving: a normal query right after gives the whole result.
      const id = await submit()
      expect(await waitForEnd(id)).toMatchObject({ status: 'SUCCESSFUL' })
      expect(await (await call(`/${id}/result`)).text()).toBe(EXPECTED_SALES_CSV)
    },
    60_000,
  )
})
