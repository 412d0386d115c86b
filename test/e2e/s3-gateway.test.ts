/**
 * The Node gateway end to end with STORE=s3: the fake Kylin upstream, s3rver as the bucket, the
 * runtime's own undici fetch. Submit → SUCCESSFUL → download, result_path, restart, delete.
 */
import { createHash } from 'node:crypto'
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/config.ts'
import { encodeCsvRow } from '../../src/export/csv/encode.ts'
import { startNodeGateway, type NodeGateway } from '../../src/runtime/node/gateway.ts'
import { BASIC, startFakeKylin, toGeneratedRow, type FakeKylin } from '../support/fake-kylin.ts'
import { startS3TestServer, type S3TestServer } from '../support/s3-server.ts'

/** s3rver checks only the access key id of a SigV4 request, so any secret gets in. */
const SECRET = 'secret-that-must-not-be-logged-5d1e'
/** Above the default 8 MiB part size, so the result goes up as a multipart upload. */
const ROWS = 400_000

let kylin: FakeKylin
let s3: S3TestServer
const logLines: string[] = []

beforeAll(async () => {
  kylin = await startFakeKylin()
  s3 = await startS3TestServer()
})

afterAll(async () => {
  await kylin?.close()
  await s3?.close()
})

function startGateway(): Promise<NodeGateway> {
  const config = parseConfig({
    KYLIN_UPSTREAM_URL: kylin.url,
    PORT: '0',
    HOST: '127.0.0.1',
    STORE: 's3',
    S3_ENDPOINT: s3.endpoint,
    S3_BUCKET: s3.bucket,
    S3_PREFIX: 'gateway/',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: SECRET,
    LOG_LEVEL: 'debug',
  })
  const logDestination = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk))
      done()
    },
  })
  return startNodeGateway(config, { logDestination })
}

interface Envelope<T> {
  code: string
  data: T
}

function api(gateway: NodeGateway, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers)
  headers.set('Authorization', BASIC.ANALYST)
  headers.set('Accept-Encoding', 'identity')
  return fetch(`${gateway.url}/kylin/api/async_query${path}`, { ...init, headers })
}

async function dataOf<T>(response: Response): Promise<T> {
  expect(response.status).toBe(200)
  return ((await response.json()) as Envelope<T>).data
}

async function waitForEnd(gateway: NodeGateway, id: string): Promise<string> {
  const deadline = Date.now() + 30_000
  for (;;) {
    const { status } = await dataOf<{ status: string }>(await api(gateway, `/${id}/status`))
    if (status !== 'RUNNING' || Date.now() > deadline) return status
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

describe('node gateway with STORE=s3', () => {
  it('stores the result in the bucket, serves it, keeps it across a restart and deletes it', async () => {
    const expected = new TextEncoder().encode(
      Array.from({ length: ROWS }, (_, i) => encodeCsvRow(toGeneratedRow(i + 1), ',')).join(''),
    )
    expect(expected.byteLength).toBeGreaterThan(8 * 1024 * 1024)

    let gateway = await startGateway()
    let id: string
    try {
      const submitted = await dataOf<{ queryID: string }>(
        await api(gateway, '', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ sql: `select * from rows_${ROWS}`, project: 'learn_kylin' }),
        }),
      )
      id = submitted.queryID
      expect(await waitForEnd(gateway, id)).toBe('SUCCESSFUL')

      const download = await api(gateway, `/${id}/result_download`)
      const bytes = new Uint8Array(await download.arrayBuffer())
      expect(bytes.byteLength).toBe(expected.byteLength)
      expect(sha256(bytes)).toBe(sha256(expected))

      const ranged = await api(gateway, `/${id}/result_download`, {
        headers: { Range: 'bytes=100-199' },
      })
      expect(ranged.status).toBe(206)
      expect(new Uint8Array(await ranged.arrayBuffer())).toEqual(expected.slice(100, 200))

      expect(await dataOf<string>(await api(gateway, `/${id}/result_path`))).toBe(
        `s3://results-bucket/gateway/${id}.csv`,
      )
      expect((await s3.listAllKeys()).sort()).toEqual([`gateway/${id}.csv`, `gateway/${id}.json`])
      expect(await s3.listPendingUploads()).toEqual([])
    } finally {
      await gateway.close()
    }

    // A new process finds the finished query again through the bucket alone.
    gateway = await startGateway()
    try {
      expect(await waitForEnd(gateway, id)).toBe('SUCCESSFUL')
      expect(await dataOf<number>(await api(gateway, `/${id}/file_status`))).toBe(
        expected.byteLength,
      )
      expect((await api(gateway, `/${id}`, { method: 'DELETE' })).status).toBe(200)
      expect(await s3.listAllKeys()).toEqual([])
    } finally {
      await gateway.close()
    }

    const logs = logLines.join('')
    expect(logs).toContain(`store s3 (s3://results-bucket/gateway/ at ${s3.endpoint})`)
    expect(logs).not.toContain(SECRET)
  }, 60_000)
})
