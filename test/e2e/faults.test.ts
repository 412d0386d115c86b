/**
 * The fault matrix, end to end on Node: a real loopback Kylin that misbehaves on purpose in front
 * of a real gateway server, for every Node store driver (memory, fs) and R2 (a Miniflare bucket).
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { Writable } from 'node:stream'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/config.ts'
import { encodeCsvRow } from '../../src/export/csv/encode.ts'
import { startNodeGateway, type NodeGateway } from '../../src/runtime/node/gateway.ts'
import { createR2Store } from '../../src/store/r2.ts'
import {
  BASIC,
  KYLIN_SALES_ROWS,
  startFakeKylin,
  write,
  type FakeKylin,
} from '../support/fake-kylin.ts'
import { startMiniflareR2, type MiniflareR2 } from '../support/miniflare-r2.ts'
import { collectUnhandledRejections } from '../support/unhandled-rejections.ts'
import {
  COLUMN_METAS,
  expectReadable,
  FAULTS,
  JSON_TYPE,
  sleep,
  TIMEOUT_MS,
  type Fault,
  type Status,
  WRAPPED_ANSWER,
  WRAPPED_CSV,
} from '../support/upstream-faults.ts'

/** Each fault runs this many more times after the first, then memory is compared. */
const REPEATS = 20
const MAX_HEAP_GROWTH_BYTES = 30 * 1024 * 1024
/** R2's smallest part: a result past it is stored as a multipart upload. */
const R2_PART_BYTES = 5 * 1024 * 1024

type StoreKind = 'memory' | 'fs' | 'r2'

interface Envelope<T = unknown> {
  code: string
  data: T
  msg: string
}

// ---- gateway helpers -------------------------------------------------------------------------

/** A session cookie every call carries beside its Authorization: neither may reach a log. */
const SESSION_COOKIE = 'JSESSIONID=session-secret-3f9a1c77d2'
/** Every log line of every gateway of the matrix, at the most talkative level. */
const logLines: string[] = []
/** Every failure message the matrix read, from status answers and error envelopes. */
const messages: string[] = []

interface Harness {
  gateway: NodeGateway
  store: StoreKind
  dataDir: string
  /** The bucket behind STORE=r2. */
  r2?: MiniflareR2
}

async function startGateway(
  store: StoreKind,
  upstreamUrl: string,
  dataDir: string,
  r2?: MiniflareR2,
  timeoutMs = TIMEOUT_MS,
): Promise<NodeGateway> {
  // Each gateway on the bucket gets a prefix of its own, as its own DATA_DIR on fs.
  const r2Store = r2
    ? createR2Store({
        bucket: r2.bucket,
        bucketName: 'faults',
        prefix: `${basename(dataDir)}/`,
        partSize: R2_PART_BYTES,
      })
    : undefined
  return startNodeGateway(
    parseConfig({
      KYLIN_UPSTREAM_URL: upstreamUrl,
      PORT: '0',
      HOST: '127.0.0.1',
      STORE: store,
      DATA_DIR: dataDir,
      UPSTREAM_TIMEOUT_MS: String(timeoutMs),
      // A slow fault's repeats run at once (all as one user), so they cost one timeout, not twenty.
      MAX_CONCURRENT_QUERIES: String(REPEATS + 4),
      MAX_CONCURRENT_PER_USER: String(REPEATS + 4),
      LOG_LEVEL: 'trace',
    }),
    {
      store: r2Store,
      logDestination: new Writable({
        write(chunk, _encoding, done) {
          logLines.push(String(chunk))
          done()
        },
      }),
    },
  )
}

function call(gateway: NodeGateway, path: string, init: RequestInit = {}) {
  const headers = new Headers(init.headers)
  headers.set('Authorization', BASIC.ANALYST)
  headers.set('Cookie', SESSION_COOKIE)
  return fetch(`${gateway.url}/kylin/api/async_query${path}`, { ...init, headers })
}

function submitRaw(gateway: NodeGateway, sql: string) {
  return call(gateway, '', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ sql, project: 'learn_kylin' }),
  })
}

async function submit(gateway: NodeGateway, sql: string): Promise<string> {
  const res = await submitRaw(gateway, sql)
  expect(res.status).toBe(200)
  const json = (await res.json()) as Envelope<{ queryID: string; status: string }>
  expect(json.data.status).toBe('RUNNING')
  return json.data.queryID
}

async function waitForEnd(gateway: NodeGateway, id: string): Promise<Status> {
  // Generous beyond the timeout: a query that is still RUNNING after this is stuck.
  const deadline = Date.now() + TIMEOUT_MS + 8_000
  for (;;) {
    const json = (await (await call(gateway, `/${id}/status`)).json()) as Envelope<Status>
    if (json.data.info) messages.push(json.data.info)
    if (json.data.status !== 'RUNNING' || Date.now() > deadline) return json.data
    await sleep(25)
  }
}

async function expectNoResult(harness: Harness, ids: string[]) {
  const { store } = harness.gateway
  for (const id of ids) {
    expect(await store.head(`${id}.csv`)).toBeNull()
  }
  // No result without its record either (the record is written at submit, before any byte).
  const keys = new Set<string>()
  for await (const key of store.list()) keys.add(key)
  for (const key of keys) {
    if (key.endsWith('.csv')) expect(keys.has(key.replace(/\.csv$/, '.json')), key).toBe(true)
  }
  // R2's partial is a multipart upload: every one must have been completed or aborted.
  if (harness.r2) expect(harness.r2.openUploads).toBe(0)
  if (harness.store === 'fs') {
    const files = await readdir(harness.dataDir)
    expect(files.filter((f) => ids.some((id) => f.startsWith(id) && f.endsWith('.csv')))).toEqual(
      [],
    )
    // Temp files of a put are `.<key>.<uuid>.partial`; none may outlive a failed query.
    expect(files.filter((f) => f.startsWith('.') || f.endsWith('.partial'))).toEqual([])
  }
}

async function expectResultEndpointsAnswer404(gateway: NodeGateway, id: string) {
  for (const path of ['result', 'result_download', 'metadata', 'file_status', 'filestatus']) {
    const res = await call(gateway, `/${id}/${path}`)
    expect(res.status, path).toBe(404)
    const json = (await res.json()) as Envelope
    expect(json.code, path).toBe('999')
  }
}

const EXPECTED_SALES_CSV = KYLIN_SALES_ROWS.map((row) => encodeCsvRow(row, ',')).join('')

async function expectNormalQuerySucceeds(gateway: NodeGateway) {
  const id = await submit(gateway, 'select * from kylin_sales')
  expect(await waitForEnd(gateway, id)).toMatchObject({ status: 'SUCCESSFUL' })
  const res = await call(gateway, `/${id}/result`)
  expect(res.status).toBe(200)
  expect(await res.text()).toBe(EXPECTED_SALES_CSV)
}

/** Runs `task` `count` times, at most `width` at once; the results in order. */
async function runPooled<T>(count: number, width: number, task: () => Promise<T>): Promise<T[]> {
  const results: T[] = []
  let next = 0
  const worker = async () => {
    while (next < count) {
      const index = next++
      results[index] = await task()
    }
  }
  await Promise.all(Array.from({ length: Math.min(width, count) }, worker))
  return results
}

/** Nothing running or queued in the gateway, and no request left open at the upstream. */
async function expectSettled(gateway: NodeGateway, kylin: FakeKylin | undefined) {
  const deadline = Date.now() + 5_000
  const busy = () =>
    gateway.gateway.activeQueries + gateway.gateway.queuedQueries + (kylin?.inFlight ?? 0)
  while (busy() > 0 && Date.now() < deadline) await sleep(20)
  expect(gateway.gateway.activeQueries).toBe(0)
  expect(gateway.gateway.queuedQueries).toBe(0)
  if (kylin) expect(kylin.inFlight).toBe(0)
}

// ---- memory ----------------------------------------------------------------------------------

/**
 * A full collection makes heap figures comparable. The test runner starts without --expose-gc,
 * so it is switched on at run time, as jest's leak detector does; without it, a settle and a
 * burst of throwaway allocations let the young generation turn over.
 */
function loadGc(): (() => void) | undefined {
  const existing = (globalThis as { gc?: () => void }).gc
  if (typeof existing === 'function') return existing
  try {
    setFlagsFromString('--expose-gc')
    const gc: unknown = runInNewContext('gc')
    setFlagsFromString('--no-expose-gc')
    return typeof gc === 'function' ? (gc as () => void) : undefined
  } catch {
    return undefined
  }
}

const collectGarbage = loadGc()

async function measureHeap(): Promise<number> {
  await sleep(50)
  if (collectGarbage) {
    collectGarbage()
    await sleep(10)
    collectGarbage()
  } else {
    let churn: number[][] = []
    for (let i = 0; i < 2_000; i++) churn.push(new Array<number>(256).fill(i))
    churn = []
    await sleep(200)
  }
  return process.memoryUsage().heapUsed
}

// ---- unhandled rejections --------------------------------------------------------------------

const unhandled = collectUnhandledRejections()

// ---- the matrix ------------------------------------------------------------------------------

describe.each<StoreKind>(['memory', 'fs', 'r2'])(
  'faults of the upstream with STORE=%s',
  (store) => {
    let kylin: FakeKylin
    let harness: Harness
    let r2: MiniflareR2 | undefined
    const dirs: string[] = []

    const newDataDir = async () => {
      const dir = await mkdtemp(join(tmpdir(), `gateway-faults-${store}-`))
      dirs.push(dir)
      return dir
    }

    beforeAll(async () => {
      kylin = await startFakeKylin()
      if (store === 'r2') r2 = await startMiniflareR2()
      const dataDir = await newDataDir()
      harness = { gateway: await startGateway(store, kylin.url, dataDir, r2), store, dataDir, r2 }
    })

    afterEach(() => {
      kylin.setQueryHandler(null)
      expect(unhandled).toEqual([])
    })

    afterAll(async () => {
      await harness?.gateway.close()
      await kylin?.close()
      await r2?.dispose()
      for (const dir of dirs) await rm(dir, { recursive: true, force: true })
    })

    async function runFault(fault: Fault) {
      const { gateway } = harness
      kylin.setQueryHandler(fault.handler)

      const started = Date.now()
      const id = await submit(gateway, 'select * from kylin_sales')
      const status = await waitForEnd(gateway, id)
      const elapsed = Date.now() - started
      expect(status.status).toBe('FAILED')
      expectReadable(status.info)
      fault.expectInfo(status.info)
      if (fault.slow) {
        // It ends at the time limit: not before (no early give-up), not long after.
        expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 100)
        expect(elapsed).toBeLessThan(TIMEOUT_MS + 5_000)
      }
      await expectResultEndpointsAnswer404(gateway, id)
      await expectNoResult(harness, [id])
      await expectSettled(gateway, kylin)

      const before = await measureHeap()
      // Slow faults all wait out the timeout together; quick ones run a few at a time, so a busy
      // machine cannot push them past UPSTREAM_TIMEOUT_MS and turn them into timeouts.
      const ids = await runPooled(REPEATS, fault.slow ? REPEATS : 4, async () => {
        const repeatId = await submit(gateway, 'select * from kylin_sales')
        const repeated = await waitForEnd(gateway, repeatId)
        expect(repeated.status).toBe('FAILED')
        expectReadable(repeated.info)
        fault.expectInfo(repeated.info)
        return repeatId
      })
      await expectNoResult(harness, ids)
      await expectSettled(gateway, kylin)
      const after = await measureHeap()
      expect(after - before).toBeLessThan(MAX_HEAP_GROWTH_BYTES)

      kylin.setQueryHandler(null)
      await expectNormalQuerySucceeds(gateway)
      await expectSettled(gateway, kylin)
    }

    it.each(FAULTS)('$name → FAILED, no result, still serving, memory back', (fault) =>
      runFault(fault),
    )

    it('a 200 with a result inside a "000" envelope → SUCCESSFUL, every row served', async () => {
      const { gateway } = harness
      kylin.setQueryHandler((_req, res) => {
        res.writeHead(200, JSON_TYPE)
        res.end(WRAPPED_ANSWER)
      })
      const id = await submit(gateway, 'select * from kylin_sales')
      expect(await waitForEnd(gateway, id)).toMatchObject({ status: 'SUCCESSFUL' })
      const res = await call(gateway, `/${id}/result`)
      expect(await res.text()).toBe(WRAPPED_CSV)
      kylin.setQueryHandler(null)
    })

    it('connection refused: the submit answers 502 naming the cause, nothing runs', async () => {
      const gone = await startFakeKylin()
      const goneUrl = gone.url
      await gone.close()
      const dataDir = await newDataDir()
      const refused = await startGateway(store, goneUrl, dataDir, r2)
      try {
        const refusedHarness: Harness = { gateway: refused, store, dataDir, r2 }
        // The identity check is the first thing to reach the upstream, so it is what fails.
        const expectRefused = async () => {
          const res = await submitRaw(refused, 'select * from kylin_sales')
          expect(res.status).toBe(502)
          const json = (await res.json()) as Envelope
          messages.push(json.msg)
          expect(json.code).toBe('999')
          expect(json.data).toBeNull()
          expect(json.msg).toBe(
            `Cannot verify the credentials: Cannot reach the upstream Kylin at ${goneUrl}: ` +
              'connection refused (ECONNREFUSED)',
          )
          expectReadable(json.msg)
        }
        await expectRefused()
        expect(refused.gateway.activeQueries).toBe(0)
        expect(refused.gateway.queuedQueries).toBe(0)
        const keys: string[] = []
        for await (const key of refused.store.list()) keys.push(key)
        expect(keys).toEqual([])
        await expectNoResult(refusedHarness, [])

        const before = await measureHeap()
        await runPooled(REPEATS, 4, expectRefused)
        await expectSettled(refused, undefined)
        const after = await measureHeap()
        expect(after - before).toBeLessThan(MAX_HEAP_GROWTH_BYTES)

        // Still serving: its own health check, and a gateway with a live upstream runs queries.
        const health = await fetch(`${refused.url}/healthz`)
        expect(health.status).toBe(200)
        await expectNormalQuerySucceeds(harness.gateway)
      } finally {
        await refused.close()
      }
    })

    /** Whether the store already keeps part of a result being written, in its partial form. */
    async function holdsPartialResult(
      dataDir: string,
      partsBefore: number,
      sent: number,
    ): Promise<boolean> {
      if (store === 'r2') return (r2?.uploadedParts ?? 0) > partsBefore
      if (store === 'fs') {
        for (const name of await readdir(dataDir)) {
          if (!name.endsWith('.partial')) continue
          const info = await stat(join(dataDir, name)).catch(() => null)
          if (info && info.size > 0) return true
        }
        return false
      }
      // The memory store holds a put's bytes inside the put alone: nothing to look at.
      return sent >= 1024 * 1024
    }

    it('a reset once the store keeps part of the result → FAILED, no partial left', async () => {
      // A gateway of its own with a long upstream timeout: filling an R2 part takes a while on a
      // busy machine, and this case is about the reset, not the time limit.
      const dataDir = await newDataDir()
      const gateway = await startGateway(store, kylin.url, dataDir, r2, 30_000)
      const own: Harness = { gateway, store, dataDir, r2 }
      try {
        await runResetCase(own)
      } finally {
        await gateway.close()
      }
    })

    async function runResetCase(own: Harness) {
      const { gateway, dataDir } = own
      const partsBefore = r2?.uploadedParts ?? 0
      let keptPartial = false
      const padding = 'x'.repeat(1000)
      const rows = Array.from({ length: 256 }, (_, i) => JSON.stringify([String(i), padding])).join(
        ',',
      )
      kylin.setQueryHandler(async (_req, res) => {
        res.writeHead(200, JSON_TYPE)
        let chunk = `{"columnMetas":${JSON.stringify(COLUMN_METAS)},"results":[${rows}`
        let sent = 0
        // Rows until the store keeps some (an R2 part, fs temp file bytes); bounded all the same.
        while (sent < 64 * 1024 * 1024) {
          if (await holdsPartialResult(dataDir, partsBefore, sent)) {
            keptPartial = true
            break
          }
          if (!(await write(res, chunk))) return
          sent += chunk.length
          chunk = `,${rows}`
        }
        await sleep(30)
        res.socket?.resetAndDestroy()
      })

      const id = await submit(gateway, 'select * from kylin_sales')
      const status = await waitForEnd(gateway, id)
      expect(keptPartial).toBe(true)
      expect(status.status).toBe('FAILED')
      expectReadable(status.info)
      expect(status.info).toMatch(/broke off/)
      await expectResultEndpointsAnswer404(gateway, id)
      await expectNoResult(own, [id])
      await expectSettled(gateway, kylin)

      kylin.setQueryHandler(null)
      await expectNormalQuerySucceeds(gateway)
    }
  },
)

// ---- secrets ---------------------------------------------------------------------------------

describe('secrets across the whole fault matrix', () => {
  it('no Authorization value, password or session cookie in any log line or message', () => {
    // The matrix above ran first (same file, in order) and logged at trace level.
    expect(logLines.length).toBeGreaterThan(100)
    expect(messages.length).toBeGreaterThan(100)
    const token = BASIC.ANALYST.replace(/^Basic /, '')
    const password = atob(token).split(':')[1]!
    const sessionId = SESSION_COOKIE.split('=')[1]!
    for (const text of [...logLines, ...messages]) {
      expect(text).not.toContain(token)
      expect(text).not.toContain(`:${password}`)
      expect(text).not.toContain(sessionId)
    }
  })
})
