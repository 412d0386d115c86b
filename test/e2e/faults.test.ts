/**
 * The fault matrix, end to end on Node: a real loopback Kylin that misbehaves on purpose in front
 * of a real gateway server, for every Node store driver (memory, fs) and R2 (a Miniflare bucket).
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import type { ServerResponse } from 'node:http'
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
  type QueryHandler,
} from '../support/fake-kylin.ts'
import { startMiniflareR2, type MiniflareR2 } from '../support/miniflare-r2.ts'
import { collectUnhandledRejections } from '../support/unhandled-rejections.ts'

const TIMEOUT_MS = 1500
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

type Status = { status?: string; info?: string }

interface Fault {
  name: string
  handler: QueryHandler
  /** What a person must read in `info` to act on it. */
  expectInfo(info: string): void
  /** Ends only when UPSTREAM_TIMEOUT_MS runs out. */
  slow?: boolean
}

// ---- upstream answers ------------------------------------------------------------------------

const JSON_TYPE = { 'Content-Type': 'application/json;charset=UTF-8' }
const COLUMN_METAS = [
  { label: 'ID', name: 'ID', columnTypeName: 'BIGINT' },
  { label: 'NAME', name: 'NAME', columnTypeName: 'VARCHAR' },
]
const rowsJson = (count: number) =>
  Array.from({ length: count }, (_, i) => JSON.stringify([String(i), `NAME_${i}`])).join(',')
/** A complete, valid Kylin answer: long enough that a cut in the middle leaves rows behind. */
const FULL_ANSWER = `{"columnMetas":${JSON.stringify(COLUMN_METAS)},"results":[${rowsJson(2000)}],"isException":false,"exceptionMessage":null}`
const HALF_ANSWER = FULL_ANSWER.slice(0, FULL_ANSWER.length >> 1)

const KYLIN_EXCEPTION =
  'Error while executing SQL "select * from kylin_sales": The cube kylin_sales_cube is being rebuilt\n' +
  'while executing SQL: "select * from kylin_sales"'

const TOMCAT_500_PAGE =
  '<!doctype html><html lang="en"><head><title>HTTP Status 500 – Internal Server Error</title>' +
  '<style type="text/css">body {font-family:Tahoma,Arial,sans-serif;} h1 {font-size:22px;}</style>' +
  '</head><body><h1>HTTP Status 500 – Internal Server Error</h1><hr class="line" />' +
  '<p><b>Type</b> Exception Report</p><p><b>Message</b> Request processing failed; nested ' +
  'exception is java.lang.NullPointerException</p><p><b>Description</b> The server encountered ' +
  'an unexpected condition that prevented it from fulfilling the request.</p><p><b>Exception' +
  '</b></p><pre>org.springframework.web.util.NestedServletException: Request processing failed\n' +
  '\tat org.springframework.web.servlet.FrameworkServlet.processRequest(FrameworkServlet.java:982)\n' +
  '</pre><hr class="line" /><h3>Apache Tomcat/8.5.33</h3></body></html>'

/** Kylin 2–4's error body, as a proxy or filter might send it with HTTP 200. */
const KYLIN4_ERROR_ENVELOPE = JSON.stringify({
  code: '999',
  data: null,
  msg: KYLIN_EXCEPTION,
  stacktrace:
    `org.apache.kylin.rest.exception.InternalErrorException: ${KYLIN_EXCEPTION}\n` +
    '\tat org.apache.kylin.rest.service.QueryService.doQueryWithCache(QueryService.java:486)\n',
  exception: KYLIN_EXCEPTION,
  url: 'http://kylin:7070/kylin/api/query',
})

/** A Kylin 5 error envelope whose msg runs into a Java stack trace. */
const KYLIN5_ERROR_ENVELOPE = JSON.stringify({
  code: '999',
  data: null,
  msg:
    'java.lang.IllegalStateException: Cannot read the cube kylin_sales_cube\n' +
    '\tat org.apache.kylin.query.engine.QueryExec.executeQuery(QueryExec.java:200)\n' +
    '\tat org.apache.kylin.rest.service.QueryService.queryWithCache(QueryService.java:508)\n',
  stacktrace: 'java.lang.IllegalStateException\n\tat org.apache.kylin.Q.q(Q.java:1)\n',
  error_code: 'KE-010000003',
})

/** Jetty's default error page (showStacks): the trace comes right after the first words. */
const JETTY_500_PAGE =
  '<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>\n' +
  '<title>Error 500 Server Error</title>\n</head>\n<body><h2>HTTP ERROR 500</h2>\n' +
  '<p>Problem accessing /kylin/api/query. Reason:\n<pre>    Server Error</pre></p>' +
  '<h3>Caused by:</h3><pre>java.lang.NullPointerException\n' +
  '\tat org.apache.kylin.rest.service.QueryService.doQueryWithCache(QueryService.java:486)\n' +
  '\tat org.apache.kylin.rest.controller.QueryController.query(QueryController.java:86)\n' +
  '</pre>\n<hr><i><small>Powered by Jetty://</small></i><hr/>\n</body>\n</html>\n'

const tomcatPage = (status: number, reason: string) =>
  `<!doctype html><html lang="en"><head><title>HTTP Status ${status} – ${reason}</title></head>` +
  `<body><h1>HTTP Status ${status} – ${reason}</h1><hr class="line" />` +
  `<p><b>Type</b> Status Report</p><h3>Apache Tomcat/8.5.33</h3></body></html>`

function sendPage(res: ServerResponse, status: number, contentType: string, text: string) {
  const bytes = Buffer.from(text, 'utf8')
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': bytes.byteLength })
  res.end(bytes)
}

/** Headers with the full length, then half of the body, flushed to the wire. */
function writeHalf(res: ServerResponse): Promise<void> {
  res.writeHead(200, { ...JSON_TYPE, 'Content-Length': Buffer.byteLength(FULL_ANSWER) })
  return new Promise((resolve) => res.write(HALF_ANSWER, () => resolve()))
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** `within 1500 ms (UPSTREAM_TIMEOUT_MS)` from the runner, or undici's own header/body timer. */
const TIME_LIMIT = /within 1500 ms|UPSTREAM_TIMEOUT_MS|in time|stalled|timed out/i

const FAULTS: Fault[] = [
  {
    name: 'no response headers within the timeout',
    slow: true,
    handler: () => {
      // Never answers: like a Kylin stuck in a long query.
    },
    expectInfo(info) {
      expect(info).toMatch(TIME_LIMIT)
      expect(info).not.toMatch(/cannot reach/i)
    },
  },
  {
    name: 'the body stalls half-way',
    slow: true,
    handler: async (_req, res) => {
      await writeHalf(res)
    },
    expectInfo(info) {
      expect(info).toMatch(TIME_LIMIT)
      expect(info).toMatch(/no result was kept|stopped it|stalled/i)
    },
  },
  {
    name: 'the connection is reset mid-body',
    handler: async (_req, res) => {
      await writeHalf(res)
      // Let the headers and the first half reach the gateway before the RST.
      await sleep(30)
      res.socket?.resetAndDestroy()
    },
    expectInfo(info) {
      expect(info).toMatch(/broke off/)
      expect(info).toMatch(/connection (reset|closed)|other side closed/)
    },
  },
  {
    name: 'HTTP 500 with an HTML page',
    handler: (_req, res) => sendPage(res, 500, 'text/html;charset=utf-8', TOMCAT_500_PAGE),
    expectInfo(info) {
      expect(info).toMatch(/^The upstream Kylin answered HTTP 500 Internal Server Error: /)
      expect(info).toContain('NullPointerException')
      expect(info).not.toMatch(/<\/?[a-z!][^>]*>/i)
      expect(info).not.toContain('font-family')
      expect(info.length).toBeLessThan(400)
    },
  },
  {
    name: 'HTTP 401 from the query call',
    handler: (_req, res) =>
      sendPage(res, 401, 'text/html;charset=utf-8', tomcatPage(401, 'Unauthorized')),
    expectInfo(info) {
      expect(info).toBe(
        'The upstream Kylin answered 401 Unauthorized: the credentials were rejected.',
      )
    },
  },
  {
    name: 'HTTP 403 from the query call',
    handler: (_req, res) =>
      sendPage(res, 403, 'text/html;charset=utf-8', tomcatPage(403, 'Forbidden')),
    expectInfo(info) {
      expect(info).toBe(
        'The upstream Kylin answered 403 Forbidden: these credentials are not allowed to do this.',
      )
    },
  },
  {
    name: 'a 200 with truncated JSON',
    handler: (_req, res) => sendPage(res, 200, JSON_TYPE['Content-Type'], HALF_ANSWER),
    expectInfo(info) {
      expect(info).toMatch(/ended before the JSON was complete/)
      expect(info).toMatch(/no result was kept/)
    },
  },
  {
    name: 'a 200 with invalid JSON',
    handler: (_req, res) =>
      sendPage(
        res,
        200,
        JSON_TYPE['Content-Type'],
        `{"columnMetas":${JSON.stringify(COLUMN_METAS)},"results":[${rowsJson(500)},["1",oops]]}`,
      ),
    expectInfo(info) {
      expect(info).toMatch(/is not valid JSON at byte \d+/)
      expect(info).toMatch(/no result was kept/)
    },
  },
  {
    name: 'a 200 with isException before results',
    handler: (_req, res) =>
      sendPage(
        res,
        200,
        JSON_TYPE['Content-Type'],
        `{"columnMetas":${JSON.stringify(COLUMN_METAS)},"isException":true,` +
          `"exceptionMessage":${JSON.stringify(KYLIN_EXCEPTION)},"results":[${rowsJson(2000)}]}`,
      ),
    expectInfo(info) {
      expect(info).toBe(KYLIN_EXCEPTION.replace(/\r?\n|\r/g, ''))
    },
  },
  {
    name: 'a 200 with isException after results',
    handler: (_req, res) =>
      sendPage(
        res,
        200,
        JSON_TYPE['Content-Type'],
        `{"columnMetas":${JSON.stringify(COLUMN_METAS)},"results":[${rowsJson(2000)}],` +
          `"isException":true,"exceptionMessage":${JSON.stringify(KYLIN_EXCEPTION)}}`,
      ),
    expectInfo(info) {
      expect(info).toBe(KYLIN_EXCEPTION.replace(/\r?\n|\r/g, ''))
    },
  },
  {
    name: "a 200 with Kylin 2–4's error envelope",
    handler: (_req, res) => sendPage(res, 200, JSON_TYPE['Content-Type'], KYLIN4_ERROR_ENVELOPE),
    expectInfo(info) {
      expect(info).toBe(KYLIN_EXCEPTION.replace(/\r?\n|\r/g, ''))
    },
  },
  {
    name: 'a 200 with a Kylin 5 envelope whose msg carries a stack trace',
    handler: (_req, res) => sendPage(res, 200, JSON_TYPE['Content-Type'], KYLIN5_ERROR_ENVELOPE),
    expectInfo(info) {
      expect(info).toBe('java.lang.IllegalStateException: Cannot read the cube kylin_sales_cube')
    },
  },
  {
    name: 'HTTP 500 with an HTML page that starts with a stack trace',
    handler: (_req, res) => sendPage(res, 500, 'text/html;charset=utf-8', JETTY_500_PAGE),
    expectInfo(info) {
      expect(info).toMatch(/^The upstream Kylin answered HTTP 500 Internal Server Error: /)
      expect(info).toContain('NullPointerException')
      expect(info).not.toMatch(/<\/?[a-z!][^>]*>/i)
    },
  },
]

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
      UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS),
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

/** A message a person can act on: one line, no stack frames, no markup, not empty. */
function expectReadable(info: string | undefined): asserts info is string {
  expect(typeof info).toBe('string')
  const text = info ?? ''
  expect(text.length).toBeGreaterThan(20)
  expect(text).not.toMatch(/[\r\n]/)
  expect(text).not.toMatch(/\bat \S+ ?\(\S+:\d+(:\d+)?\)/)
  expect(text).not.toMatch(/\(\S+\.(java|[cm]?[jt]s):\d+(:\d+)?\)/)
  expect(text).not.toMatch(/node_modules|\[object |undefined|TypeError|AbortError/)
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
    async function holdsPartialResult(partsBefore: number, sent: number): Promise<boolean> {
      if (store === 'r2') return (r2?.uploadedParts ?? 0) > partsBefore
      if (store === 'fs') {
        for (const name of await readdir(harness.dataDir)) {
          if (!name.endsWith('.partial')) continue
          const info = await stat(join(harness.dataDir, name)).catch(() => null)
          if (info && info.size > 0) return true
        }
        return false
      }
      // The memory store holds a put's bytes inside the put alone: nothing to look at.
      return sent >= 1024 * 1024
    }

    it('a reset once the store keeps part of the result → FAILED, no partial left', async () => {
      const { gateway } = harness
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
          if (await holdsPartialResult(partsBefore, sent)) {
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
      await expectNoResult(harness, [id])
      await expectSettled(gateway, kylin)

      kylin.setQueryHandler(null)
      await expectNormalQuerySucceeds(gateway)
    })
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
