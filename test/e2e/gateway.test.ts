/**
 * End to end on Node only: what the conformance suite (test/conformance) cannot see from outside
 * — files in DATA_DIR, logs, the upstream concurrency cap, unreachable upstreams, curl resume.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig, type Config } from '../../src/config/config.ts'
import { startNodeGateway, type NodeGateway } from '../../src/runtime/node/gateway.ts'
import { encodeCsvRow } from '../../src/export/csv/encode.ts'
import {
  BASIC,
  KYLIN_SALES_ROWS,
  startFakeKylin,
  toGeneratedRow,
  type FakeKylin,
} from '../support/fake-kylin.ts'
import { expectFailedWithKylinMessage } from '../support/query-status.ts'

const V4 = 'application/vnd.apache.kylin-v4-public+json'

/** curl runs as a child process; the gateway lives in this process, so never spawnSync it. */
const curl = (args: string[]) => promisify(execFile)('curl', args, { encoding: 'utf8' })

let kylin: FakeKylin
let gateway: NodeGateway
let dataDir: string
const logLines: string[] = []

async function startGateway(overrides: Record<string, string> = {}): Promise<NodeGateway> {
  const config: Config = parseConfig({
    KYLIN_UPSTREAM_URL: kylin.url,
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    // info is the production default: what it shows must hold no SQL, rows or credentials.
    LOG_LEVEL: 'info',
    ...overrides,
  })
  const logDestination = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk))
      done()
    },
  })
  return startNodeGateway(config, { logDestination })
}

beforeAll(async () => {
  kylin = await startFakeKylin()
  dataDir = await mkdtemp(join(tmpdir(), 'gateway-e2e-'))
  gateway = await startGateway()
})

afterAll(async () => {
  await gateway?.close()
  await kylin?.close()
  await rm(dataDir, { recursive: true, force: true })
})

interface Envelope<T = unknown> {
  code: string
  data: T
  msg: string
}

function api(path: string, init: RequestInit & { auth?: string | null } = {}) {
  const headers = new Headers(init.headers)
  const auth = init.auth === undefined ? BASIC.ANALYST : init.auth
  if (auth) headers.set('Authorization', auth)
  return fetch(`${gateway.url}/kylin/api/async_query${path}`, { ...init, headers })
}

async function submit(
  body: Record<string, unknown>,
  auth: string = BASIC.ANALYST,
  accept?: string,
) {
  const res = await api('', {
    method: 'POST',
    auth,
    headers: { 'Content-Type': 'application/json', ...(accept ? { Accept: accept } : {}) },
    body: JSON.stringify({ project: 'learn_kylin', ...body }),
  })
  expect(res.status).toBe(200)
  const json = (await res.json()) as Envelope<Record<string, string>>
  return json.data.queryID ?? json.data.query_id ?? ''
}

async function waitForEnd(id: string, auth: string = BASIC.ANALYST, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const json = (await (await api(`/${id}/status`, { auth })).json()) as Envelope<
      Record<string, string>
    >
    if (json.data.status !== 'RUNNING' || Date.now() > deadline) return json.data
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe('node gateway end to end', () => {
  it('keeps the CSV and a record of the query in DATA_DIR, where result_path points', async () => {
    const id = await submit({ sql: 'select * from kylin_sales' })
    expect(await waitForEnd(id)).toMatchObject({
      status: 'SUCCESSFUL',
      info: 'await fetching results',
    })

    const expected = KYLIN_SALES_ROWS.map((row) => encodeCsvRow(row, ',')).join('')
    const download = await api(`/${id}/result_download`, { headers: { Accept: V4 } })
    expect(download.status).toBe(200)
    expect(download.headers.get('content-type')).toBe('application/csv;charset=utf-8')
    expect(await download.text()).toBe(expected)

    const size = (await (await api(`/${id}/file_status`)).json()) as Envelope<number>
    expect(size.data).toBe(Buffer.byteLength(expected))

    const metadata = (await (await api(`/${id}/metadata`)).json()) as Envelope<string[][]>
    expect(metadata.data[0]).toContain('TRANS_ID')
    expect(metadata.data[0]!.length).toBe(metadata.data[1]!.length)

    // The record beside the blob lets a restarted gateway rebuild its registry.
    const record = JSON.parse(await readFile(join(dataDir, `${id}.json`), 'utf8'))
    expect(record).toMatchObject({
      id,
      owner: 'ANALYST',
      project: 'learn_kylin',
      state: 'SUCCESSFUL',
      bytes: Buffer.byteLength(expected),
      sha256: createHash('sha256').update(expected).digest('hex'),
    })
    expect(JSON.stringify(record)).not.toContain(BASIC.ANALYST)

    const path = (await (await api(`/${id}/result_path`)).json()) as Envelope<string>
    expect(path.data).toMatch(/^file:\/\//)
    expect(await readFile(fileURLToPath(path.data), 'utf8')).toBe(expected)
  })

  it("ends FAILED with Kylin's own message for a SQL error, and keeps no file", async () => {
    const id = await submit({ sql: 'select * from no_such_table' })
    const status = await waitForEnd(id)
    expectFailedWithKylinMessage(status, "Object 'NO_SUCH_TABLE' not found")
    const res = await api(`/${id}/result`)
    expect(res.status).toBe(404)
    const files = await import('node:fs/promises').then((fs) => fs.readdir(dataDir))
    expect(files.filter((f) => f.startsWith(id) && f.endsWith('.csv'))).toEqual([])
  })

  it('forwards the caller credentials and the query fields to the upstream', async () => {
    const id = await submit(
      { sql: 'select * from kylin_sales', offset: 2, limit: 3, acceptPartial: true },
      BASIC.ADMIN,
    )
    await waitForEnd(id, BASIC.ADMIN)
    const sent = kylin.requests.filter((r) => r.path === '/kylin/api/query').at(-1)!
    expect(sent.headers.authorization).toBe(BASIC.ADMIN)
    expect(JSON.parse(sent.body!)).toEqual({
      sql: 'select * from kylin_sales',
      project: 'learn_kylin',
      offset: 2,
      limit: 3,
      acceptPartial: true,
    })
  })

  it('never logs credentials, cookies, SQL text or rows', async () => {
    const id = await submit({ sql: 'select * from kylin_sales' })
    await waitForEnd(id)
    // A failure's message quotes the SQL; it must stay out of the info log too.
    const failed = await submit({ sql: 'select secret_column from no_such_table' })
    expect((await waitForEnd(failed)).status).toBe('FAILED')
    await api(`/${id}/result`)
    gateway.logger.flush()
    const logs = logLines.join('')
    expect(logs).toContain(id)
    for (const secret of [
      'secret_column',
      BASIC.ANALYST,
      BASIC.ADMIN,
      'QU5BTFlTVDpBTkFMWVNU',
      'JSESSIONID',
      'kylin_sales',
      'Shanghai',
    ]) {
      expect(logs).not.toContain(secret)
    }
  })
})

describe('gateway end to end: limits and failures', () => {
  it('never runs more than MAX_CONCURRENT_QUERIES upstream at once; the rest stay RUNNING', async () => {
    const local = await startFakeKylin()
    try {
      const limited = await startNodeGateway(
        parseConfig({
          KYLIN_UPSTREAM_URL: local.url,
          PORT: '0',
          HOST: '127.0.0.1',
          STORE: 'memory',
          MAX_CONCURRENT_QUERIES: '2',
          // One user here; by default one user gets one slot fewer than all.
          MAX_CONCURRENT_PER_USER: '2',
          LOG_LEVEL: 'silent',
        }),
      )
      try {
        const ids = await Promise.all(
          [1, 2, 3, 4, 5, 6].map(async () => {
            const res = await fetch(`${limited.url}/kylin/api/async_query`, {
              method: 'POST',
              headers: { Authorization: BASIC.ADMIN },
              body: JSON.stringify({
                sql: 'select * from rows_10 /* sleep_ms_150 */',
                project: 'p',
              }),
            })
            return ((await res.json()) as Envelope<Record<string, string>>).data.queryID!
          }),
        )
        await new Promise((resolve) => setTimeout(resolve, 50))
        const statuses = await Promise.all(
          ids.map(async (id) => {
            const res = await fetch(`${limited.url}/kylin/api/async_query/${id}/status`, {
              headers: { Authorization: BASIC.ADMIN },
            })
            return ((await res.json()) as Envelope<Record<string, string>>).data.status
          }),
        )
        expect(statuses.every((s) => s === 'RUNNING')).toBe(true)
        const deadline = Date.now() + 10_000
        while (Date.now() < deadline) {
          const done = await Promise.all(
            ids.map(async (id) => {
              const res = await fetch(`${limited.url}/kylin/api/async_query/${id}/status`, {
                headers: { Authorization: BASIC.ADMIN },
              })
              return ((await res.json()) as Envelope<Record<string, string>>).data.status
            }),
          )
          if (done.every((s) => s === 'SUCCESSFUL')) break
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
        expect(local.maxInFlight).toBe(2)
      } finally {
        await limited.close()
      }
    } finally {
      await local.close()
    }
  })

  it('ends FAILED with a clear message when the upstream is unreachable', async () => {
    const dead = await startFakeKylin()
    const url = dead.url
    const down = await startNodeGateway(
      parseConfig({
        KYLIN_UPSTREAM_URL: url,
        PORT: '0',
        HOST: '127.0.0.1',
        STORE: 'memory',
        LOG_LEVEL: 'silent',
      }),
    )
    try {
      // Identity is verified (and cached) while the upstream is up; then it goes away.
      const res = await fetch(`${down.url}/kylin/api/async_query/${crypto.randomUUID()}/status`, {
        headers: { Authorization: BASIC.ADMIN },
      })
      expect(res.status).toBe(200)
      await dead.close()
      const submitRes = await fetch(`${down.url}/kylin/api/async_query`, {
        method: 'POST',
        headers: { Authorization: BASIC.ADMIN },
        body: JSON.stringify({ sql: 'select 1', project: 'p' }),
      })
      const id = ((await submitRes.json()) as Envelope<Record<string, string>>).data.queryID!
      let status: Record<string, string> = {}
      for (let i = 0; i < 200; i++) {
        const s = await fetch(`${down.url}/kylin/api/async_query/${id}/status`, {
          headers: { Authorization: BASIC.ADMIN },
        })
        status = ((await s.json()) as Envelope<Record<string, string>>).data
        if (status.status !== 'RUNNING') break
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      expect(status.status).toBe('FAILED')
      expect(status.info).toContain('Cannot reach the upstream Kylin')
    } finally {
      await down.close()
    }
  })
})

describe('gateway end to end: downloads', () => {
  it('resumes an interrupted download with curl -C - to the exact file', async () => {
    const id = await submit({ sql: 'select * from rows_50000' })
    expect((await waitForEnd(id)).status).toBe('SUCCESSFUL')
    const url = `${gateway.url}/kylin/api/async_query/${id}/result_download`
    const full = new Uint8Array(await (await api(`/${id}/result_download`)).arrayBuffer())
    // fetch asks for gzip by default; the identity representation has the content hash as ETag.
    const identity = { 'Accept-Encoding': 'identity' }
    const etag = (
      await api(`/${id}/result_download`, { method: 'HEAD', headers: identity })
    ).headers.get('etag')

    // An interrupted download: only the first third of the file arrived.
    const partial = await api(`/${id}/result_download`, { headers: { Range: 'bytes=0-99999' } })
    expect(partial.status).toBe(206)
    const file = join(dataDir, 'resumed.csv')
    await writeFile(file, new Uint8Array(await partial.arrayBuffer()))

    await curl(['-sS', '-f', '-C', '-', '-u', 'ANALYST:ANALYST', '-o', file, url])
    const resumed = new Uint8Array(await readFile(file))
    expect(resumed.byteLength).toBe(full.byteLength)
    expect(createHash('sha256').update(resumed).digest('hex')).toBe(etag?.slice(1, -1))
    await rm(file)
  })
})
