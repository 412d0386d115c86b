/**
 * The HTTP conformance suite: the same cases against every runtime (Node server, workerd),
 * driven with fetch over real sockets, with the loopback fake Kylin as the upstream.
 */
import { createHash } from 'node:crypto'
import { gunzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeCsvRow } from '../../src/export/csv/encode.ts'
import {
  BASIC,
  KYLIN_SALES_COLUMNS,
  KYLIN_SALES_ROWS,
  toGeneratedRow,
  type FakeKylin,
} from '../support/fake-kylin.ts'
import { expectFailedWithKylinMessage } from '../support/query-status.ts'
import { rawRequest } from '../support/raw-request.ts'
import { addLinksCases } from './links-cases.ts'
import { addWatchCases } from './watch-cases.ts'
import { addWebhooksCases } from './webhooks-cases.ts'
import { addFollowCases } from './follow-cases.ts'
import { DataType, tableFromIPC, util } from 'apache-arrow'
import { parquetReadObjects } from 'hyparquet'
import iconv from 'iconv-lite'
import { addListreuseCases } from './listreuse-cases.ts'
import { addConsoleCases } from './console-cases.ts'
import { addShadowCases } from './shadow-cases.ts'
import { addRoutingCases } from './routing-cases.ts'
import { addCliCases } from './cli-cases.ts'
import * as XLSX from 'xlsx'

/**
 * What a file of further cases gets from the suite: the running target and the suite's helpers.
 * Each feature beyond Kylin 5 keeps its cases in a file of its own (`*-cases.ts`), called below.
 */
export interface ConformanceContext {
  target(): ConformanceTarget
  api(path: string, init?: RequestInit & { auth?: string | null }): Promise<Response>
  submit(
    body: Record<string, unknown>,
    options?: { auth?: string; accept?: string },
  ): Promise<string>
  waitForEnd(id: string, auth?: string): Promise<Status>
}

export interface ConformanceTarget {
  /** Base URL of the gateway, e.g. http://127.0.0.1:8080 */
  url: string
  /** The upstream the gateway was started against. */
  kylin: FakeKylin
  /** How result_path answers start on this target: `file://`, `r2://`, `memory://`. */
  pathScheme: string
  /** Whether the gateway gzips downloads itself (Workers leave it to the platform's edge). */
  gzips: boolean
  /**
   * `false` where `?follow=1` on a RUNNING query answers only once the query has ended, with the
   * whole download (Workers: workerd ends an errored body as if whole, cloudflare/workerd#6818).
   */
  followsLive?: boolean
  stop(): Promise<void>
}

const V2 = 'application/vnd.apache.kylin-v2+json'
const V4 = 'application/vnd.apache.kylin-v4-public+json'

export interface Envelope<T = unknown> {
  code: string
  data: T
  msg: string
  error_code?: string
}

export type Status = { status: string; info: string; queryID?: string; query_id?: string }

/** A typed value read back as Kylin's text of it: dates as `yyyy-mm-dd`, decimals unscaled. */
function toText(value: unknown): string | null {
  if (value === null || value === undefined) return null
  if (value instanceof Date) return value.toISOString().slice(0, 10)
  return String(value)
}

function toLocalDate(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`
}

/** The files of further cases, each called inside the suite's describe. */
const FEATURE_CASES: ((context: ConformanceContext) => void)[] = [
  addListreuseCases,
  addLinksCases,
  addWebhooksCases,
  addFollowCases,
  addWatchCases,
  addConsoleCases,
  addShadowCases,
  addRoutingCases,
  addCliCases,
]

export function describeConformance(runtime: string, start: () => Promise<ConformanceTarget>) {
  describe(`conformance: ${runtime}`, () => {
    let target: ConformanceTarget

    beforeAll(async () => {
      target = await start()
    }, 120_000)

    afterAll(async () => {
      await target?.stop()
    })

    const api = (path: string, init: RequestInit & { auth?: string | null } = {}) => {
      const headers = new Headers(init.headers)
      const auth = init.auth === undefined ? BASIC.ANALYST : init.auth
      if (auth) headers.set('Authorization', auth)
      // fetch asks for gzip by default; most cases want the plain bytes.
      if (!headers.has('Accept-Encoding')) headers.set('Accept-Encoding', 'identity')
      return fetch(`${target.url}/kylin/api/async_query${path}`, { ...init, headers })
    }

    const submit = async (
      body: Record<string, unknown>,
      options: { auth?: string; accept?: string } = {},
    ) => {
      const res = await api('', {
        method: 'POST',
        auth: options.auth ?? BASIC.ANALYST,
        headers: {
          'Content-Type': 'application/json',
          Accept: options.accept ?? 'application/json',
        },
        body: JSON.stringify({ project: 'learn_kylin', ...body }),
      })
      expect(res.status).toBe(200)
      const json = (await res.json()) as Envelope<Status>
      return (json.data.queryID ?? json.data.query_id)!
    }

    const waitForEnd = async (id: string, auth: string = BASIC.ANALYST) => {
      const deadline = Date.now() + 30_000
      for (;;) {
        const res = await api(`/${id}/status`, { auth })
        const json = (await res.json()) as Envelope<Status>
        if (json.data.status !== 'RUNNING' || Date.now() > deadline) return json.data
        await new Promise((resolve) => setTimeout(resolve, 25))
      }
    }

    const context: ConformanceContext = { target: () => target, api, submit, waitForEnd }
    const salesCsv = KYLIN_SALES_ROWS.map((row) => encodeCsvRow(row, ',')).join('')

    it('submits in all three dialects and answers RUNNING at once', async () => {
      for (const [accept, idField, info] of [
        ['application/json', 'queryID', 'still running'],
        [V2, 'queryID', 'still running'],
        [V4, 'query_id', 'query still running'],
      ] as const) {
        const res = await api('', {
          method: 'POST',
          headers: { Accept: accept, 'Content-Type': accept },
          body: JSON.stringify({ sql: 'select * from kylin_sales', project: 'learn_kylin' }),
        })
        expect(res.status).toBe(200)
        expect(res.headers.get('content-type')).toContain(accept)
        const json = (await res.json()) as Envelope<Record<string, string>>
        expect(json.code).toBe('000')
        expect(json.data[idField]).toMatch(/^[0-9a-f-]{36}$/)
        expect(json.data.status).toBe('RUNNING')
        expect(json.data.info).toBe(info)
      }
    })

    it('runs a query and serves status, metadata, size, path and the CSV', async () => {
      const id = await submit({ sql: 'select * from kylin_sales' })
      expect(await waitForEnd(id)).toMatchObject({
        status: 'SUCCESSFUL',
        info: 'await fetching results',
      })

      const metadata = (await (await api(`/${id}/metadata`)).json()) as Envelope<string[][]>
      expect(metadata.data[0]).toContain('TRANS_ID')
      expect(metadata.data[1]).toContain('BIGINT')

      for (const path of ['filestatus', 'file_status']) {
        const size = (await (await api(`/${id}/${path}`)).json()) as Envelope<number>
        expect(size.data).toBe(Buffer.byteLength(salesCsv))
      }

      const result = await api(`/${id}/result`)
      expect(result.headers.get('content-type')).toBe('text/csv;charset=utf-8')
      expect(result.headers.get('content-disposition')).toBe('attachment; filename="result.csv"')
      expect(await result.text()).toBe(salesCsv)

      const download = await api(`/${id}/result_download`, { headers: { Accept: V4 } })
      expect(download.headers.get('content-type')).toBe('application/csv;charset=utf-8')
      expect(await download.text()).toBe(salesCsv)

      const path = (await (await api(`/${id}/result_path`)).json()) as Envelope<string>
      expect(path.data.startsWith(target.pathScheme)).toBe(true)
      expect(path.data).toContain(id)
    })

    it("reproduces Kylin 5's async CSV bytes", async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{}, '"123""",123\n'],
        [{ include_header: true }, 'EXPR$0,EXPR$1\n"123""",123\n'],
        [{ separator: '\n' }, '"123"""\n123\n'],
      ]
      for (const [options, bytes] of cases) {
        const id = await submit({ sql: `select '123"','123'`, ...options })
        expect((await waitForEnd(id)).status).toBe('SUCCESSFUL')
        expect(await (await api(`/${id}/result`)).text()).toBe(bytes)
      }
    })

    it("exports Kylin 5's json and refuses a format it does not write as Kylin 5 does", async () => {
      const id = await submit(
        { sql: 'select * from kylin_sales', format: 'JSON', file_name: 'sales' },
        { accept: V4 },
      )
      expect((await waitForEnd(id)).status).toBe('SUCCESSFUL')
      const res = await api(`/${id}/result_download`, { headers: { Accept: V4 } })
      expect(res.headers.get('content-type')).toBe('application/json;charset=utf-8')
      expect(res.headers.get('content-disposition')).toBe('attachment; filename="sales.json"')
      const text = await res.text()
      const size = (await (await api(`/${id}/file_status`)).json()) as Envelope<number>
      expect(size.data).toBe(Buffer.byteLength(text))
      const rows = (JSON.parse(text) as string[]).map((row) => JSON.parse(row) as object)
      expect(rows).toEqual(
        KYLIN_SALES_ROWS.map((row) =>
          Object.fromEntries(KYLIN_SALES_COLUMNS.map((column, i) => [column.name, row[i]])),
        ),
      )

      const refused = await api('', {
        method: 'POST',
        headers: { Accept: V4, 'Content-Type': 'application/json' },
        body: JSON.stringify({ sql: 'select 1', project: 'learn_kylin', format: 'txt' }),
      })
      expect(refused.status).toBe(200)
      expect(await refused.json()).toEqual({
        code: 'KE-020040001(Asynchronous query illegal parameters)',
        data: {
          query_id: null,
          status: 'FAILED',
          info: 'Format txt unsupported. Only [csv, json, xlsx, parquet, ndjson, arrow] are supported',
        },
        msg: '',
      })
    })

    it('writes every format at submit and at download time, each read back by its own reader', async () => {
      const labels = KYLIN_SALES_COLUMNS.map((column) => column.name)
      const expected = KYLIN_SALES_ROWS.map((row) => row.map((cell) => cell ?? null))
      const readers: Record<string, (bytes: Uint8Array) => Promise<unknown[][]>> = {
        // Every reader gives the cells as text again, so one comparison serves all.
        xlsx: async (bytes) => {
          const book = XLSX.read(bytes, { type: 'array', cellDates: true })
          expect(book.SheetNames).toEqual(['query_result'])
          const rows = XLSX.utils.sheet_to_json<unknown[]>(book.Sheets.query_result!, {
            header: 1,
            raw: true,
            defval: null,
          })
          // SheetJS makes a date cell a Date at local midnight.
          return rows.map((row) =>
            row.map((cell) => (cell instanceof Date ? toLocalDate(cell) : toText(cell))),
          )
        },
        parquet: async (bytes) => {
          const rows = await parquetReadObjects({ file: bytes.slice().buffer })
          // hyparquet reads a DECIMAL as a double (unscaled × 10^-scale): 15 digits undo that.
          const toDecimalText = (value: unknown) =>
            typeof value === 'number' && !Number.isInteger(value)
              ? String(Number(value.toPrecision(15)))
              : toText(value)
          return rows.map((row) => labels.map((label) => toDecimalText(row[label])))
        },
        arrow: async (bytes) => {
          const table = tableFromIPC(bytes)
          expect(table.schema.fields.map((field) => field.name)).toEqual(labels)
          const columns = table.schema.fields.map((field) => {
            return Array.from({ length: table.numRows }, (_, i) => {
              const value = table.getChild(field.name)!.get(i) as unknown
              if (value === null) return null
              if (DataType.isDecimal(field.type)) {
                const unscaled = BigInt(util.bigNumToBigInt(value as never)).toString()
                const digits = unscaled.padStart(field.type.scale + 1, '0')
                const at = digits.length - field.type.scale
                return field.type.scale ? `${digits.slice(0, at)}.${digits.slice(at)}` : digits
              }
              // DateDay reads as milliseconds since 1970.
              if (DataType.isDate(field.type)) return toText(new Date(value as number))
              return toText(value)
            })
          })
          return Array.from({ length: table.numRows }, (_, i) => columns.map((c) => c[i]!))
        },
      }
      const csvId = await submit({ sql: 'select * from kylin_sales' }, { accept: V4 })
      expect((await waitForEnd(csvId)).status).toBe('SUCCESSFUL')
      for (const format of ['xlsx', 'parquet', 'arrow']) {
        const id = await submit({ sql: 'select * from kylin_sales', format }, { accept: V4 })
        expect((await waitForEnd(id)).status).toBe('SUCCESSFUL')
        const res = await api(`/${id}/result_download`, { headers: { Accept: V4 } })
        expect(res.status).toBe(200)
        const bytes = new Uint8Array(await res.arrayBuffer())
        const size = (await (await api(`/${id}/file_status`)).json()) as Envelope<number>
        expect(size.data).toBe(bytes.length)
        expect(res.headers.get('content-length')).toBe(String(bytes.length))
        const rows = await readers[format]!(bytes)
        expect(rows).toEqual(expected)

        const converted = await api(`/${csvId}/result_download?format=${format}`, {
          headers: { Accept: V4 },
        })
        expect(converted.status).toBe(200)
        const again = await readers[format]!(new Uint8Array(await converted.arrayBuffer()))
        expect(again).toEqual(expected)
      }

      const gbk = await submit({ sql: 'select * from kylin_sales', encode: 'gbk' }, { accept: V4 })
      expect((await waitForEnd(gbk)).status).toBe('SUCCESSFUL')
      const gbkRes = await api(`/${gbk}/result_download`, { headers: { Accept: V4 } })
      expect(gbkRes.headers.get('content-type')).toBe('application/csv;charset=gbk')
      const csvText = KYLIN_SALES_ROWS.map((row) => encodeCsvRow(row, ',')).join('')
      expect(iconv.decode(Buffer.from(await gbkRes.arrayBuffer()), 'gbk')).toBe(csvText)
      const gbkConverted = await api(`/${csvId}/result_download?encode=GBK`)
      expect(iconv.decode(Buffer.from(await gbkConverted.arrayBuffer()), 'gbk')).toBe(csvText)
    })

    it('exports 50,000 rows intact with a custom separator and file name', async () => {
      const id = await submit({ sql: 'select * from rows_50000', separator: '|', file_name: 'big' })
      expect((await waitForEnd(id)).status).toBe('SUCCESSFUL')
      const res = await api(`/${id}/result_download`)
      expect(res.headers.get('content-disposition')).toBe('attachment; filename="big.csv"')
      const lines = (await res.text()).split('\n')
      expect(lines).toHaveLength(50_001)
      expect(lines[0]).toBe(toGeneratedRow(1).join('|'))
      expect(lines[49_999]).toBe(toGeneratedRow(50_000).join('|'))
    })

    it("ends FAILED with Kylin's own message, and serves no file", async () => {
      const id = await submit({ sql: 'select * from no_such_table' })
      const status = await waitForEnd(id)
      expectFailedWithKylinMessage(status, "Object 'NO_SUCH_TABLE' not found")
      const res = await api(`/${id}/result`)
      expect(res.status).toBe(404)
      expect(((await res.json()) as Envelope).msg).toBe(
        'Can’t find the query by this query ID in this project. Please check and try again.',
      )
    })

    it('ends FAILED with a clear message when the upstream breaks off mid-body', async () => {
      target.kylin.setQueryHandler((_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json' })
        res.write('{"columnMetas":[],"results":[["a"],["b"')
        setTimeout(() => res.destroy(), 20)
      })
      try {
        const id = await submit({ sql: 'select * from kylin_sales' })
        const status = await waitForEnd(id)
        expect(status.status).toBe('FAILED')
        expect(status.info).toMatch(/upstream Kylin/)
        expect((await api(`/${id}/result`)).status).toBe(404)
      } finally {
        target.kylin.setQueryHandler(null)
      }
    })

    it('keeps each query private to its submitter and open to admins', async () => {
      const id = await submit({ sql: 'select * from kylin_sales' })
      await waitForEnd(id)
      for (const path of [
        'status',
        'metadata',
        'file_status',
        'result',
        'result_download',
        'result_path',
      ]) {
        const other = await api(`/${id}/${path}`, { auth: BASIC.MODELER })
        expect(other.status, path).toBe(403)
        const body = (await other.json()) as Envelope
        expect(body.code).toBe('401')
        expect(body.msg).toMatch(/^Access denied/)
        expect(JSON.stringify(body)).not.toContain('Shanghai')
        const admin = await api(`/${id}/${path}`, { auth: BASIC.ADMIN })
        expect(admin.status, path).toBe(200)
        await admin.arrayBuffer()
      }
    })

    it('refuses missing and wrong credentials with 401', async () => {
      const none = await api(`/${crypto.randomUUID()}/status`, { auth: null })
      expect(none.status).toBe(401)
      expect(((await none.json()) as Envelope).code).toBe('999')
      const wrong = await api('', {
        method: 'POST',
        auth: `Basic ${Buffer.from('ADMIN:nope').toString('base64')}`,
        body: '{"sql":"select 1"}',
      })
      expect(wrong.status).toBe(401)
    })

    it('answers MISSING for unknown ids and Chinese for Accept-Language cn', async () => {
      const res = await api(`/${crypto.randomUUID()}/status`, {
        headers: { 'Accept-Language': 'cn' },
      })
      const json = (await res.json()) as Envelope<Status>
      expect(json.data.status).toBe('MISSING')
      expect(json.data.info).toBe('查询状态已丢失')
    })

    it('rejects a bad body with 400 and a clear message', async () => {
      const res = await api('', { method: 'POST', body: '{"project":"p"}' })
      expect(res.status).toBe(400)
      expect(((await res.json()) as Envelope).msg).toContain('sql is required')
    })

    it('answers a repeated Idempotency-Key with the same query, 409 for another request, per user', async () => {
      const key = `conformance-${Date.now()}`
      const post = (sql: string, auth: string) =>
        api('', {
          method: 'POST',
          auth,
          headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key },
          body: JSON.stringify({ sql, project: 'learn_kylin' }),
        })
      const first = (await (
        await post('select * from kylin_sales', BASIC.ANALYST)
      ).json()) as Envelope<Status>
      const again = (await (
        await post('select * from kylin_sales', BASIC.ANALYST)
      ).json()) as Envelope<Status>
      expect(again.data.queryID).toBe(first.data.queryID)
      const conflict = await post('select 1', BASIC.ANALYST)
      expect(conflict.status).toBe(409)
      expect(((await conflict.json()) as Envelope).msg).toContain('Idempotency-Key')
      // Another user's key of the same name is theirs alone.
      const other = (await (
        await post('select * from kylin_sales', BASIC.MODELER)
      ).json()) as Envelope<Status>
      expect(other.data.queryID).not.toBe(first.data.queryID)
      // Once the query is deleted, the key starts a new one.
      await waitForEnd(first.data.queryID!)
      expect((await api(`/${first.data.queryID}`, { method: 'DELETE' })).status).toBe(200)
      const fresh = (await (
        await post('select * from kylin_sales', BASIC.ANALYST)
      ).json()) as Envelope<Status>
      expect(fresh.data.queryID).not.toBe(first.data.queryID)
    })

    it('deletes one query (owner) and all queries (admin only)', async () => {
      const id = await submit({ sql: 'select * from kylin_sales' })
      await waitForEnd(id)
      expect((await api(`/${id}`, { method: 'DELETE', auth: BASIC.MODELER })).status).toBe(403)
      expect(await (await api(`/${id}`, { method: 'DELETE' })).json()).toEqual({
        code: '000',
        data: true,
        msg: '',
      })
      expect((await waitForEnd(id)).status).toBe('MISSING')
      expect((await api(`/${id}/result`)).status).toBe(404)

      const other = await submit({ sql: 'select * from kylin_sales' }, { auth: BASIC.MODELER })
      await waitForEnd(other, BASIC.MODELER)
      expect((await api('', { method: 'DELETE' })).status).toBe(403)
      expect(await (await api('', { method: 'DELETE', auth: BASIC.ADMIN })).json()).toEqual({
        code: '000',
        data: true,
        msg: '',
      })
      expect((await waitForEnd(other, BASIC.MODELER)).status).toBe('MISSING')
    })

    it('serves downloads with ETag, HEAD, ranges, 304, 416 and gzip', async () => {
      const id = await submit({ sql: 'select * from rows_20000' })
      expect((await waitForEnd(id)).status).toBe('SUCCESSFUL')
      const full = new Uint8Array(await (await api(`/${id}/result`)).arrayBuffer())
      const sha = createHash('sha256').update(full).digest('hex')

      // HEAD over node:http: undici's fetch drops its socket after a HEAD and may race reusing it.
      const head = await rawRequest('HEAD', `${target.url}/kylin/api/async_query/${id}/result`, {
        Authorization: BASIC.ANALYST,
      })
      expect(head.status).toBe(200)
      expect(head.headers.etag).toBe(`"${sha}"`)
      expect(head.headers['content-length']).toBe(String(full.byteLength))
      expect(head.body.byteLength).toBe(0)

      const range = await api(`/${id}/result`, { headers: { Range: 'bytes=100-199' } })
      expect(range.status).toBe(206)
      expect(range.headers.get('content-range')).toBe(`bytes 100-199/${full.byteLength}`)
      expect(new Uint8Array(await range.arrayBuffer())).toEqual(full.subarray(100, 200))

      const tail = await api(`/${id}/result`, {
        headers: { Range: 'bytes=-10', 'If-Range': `"${sha}"` },
      })
      expect(tail.status).toBe(206)
      expect(new Uint8Array(await tail.arrayBuffer())).toEqual(full.subarray(full.byteLength - 10))

      const past = await api(`/${id}/result`, { headers: { Range: `bytes=${full.byteLength}-` } })
      expect(past.status).toBe(416)
      await past.arrayBuffer()

      const cached = await api(`/${id}/result`, { headers: { 'If-None-Match': `"${sha}"` } })
      expect(cached.status).toBe(304)

      // Ask for gzip and read the raw bytes: node:http shows what went over the wire.
      const gz = await rawRequest('GET', `${target.url}/kylin/api/async_query/${id}/result`, {
        Authorization: BASIC.ANALYST,
        'Accept-Encoding': 'gzip',
      })
      expect(gz.status).toBe(200)
      if (target.gzips) {
        expect(gz.headers['content-encoding']).toBe('gzip')
        expect(new Uint8Array(gunzipSync(gz.body))).toEqual(full)
      } else {
        // Workers: the edge compresses for the client; the Worker itself sends identity.
        expect(gz.headers['content-encoding']).toBeUndefined()
        expect(new Uint8Array(gz.body)).toEqual(full)
      }
    })

    it('says what a result is (rows, bytes, sha256) and sends the same digest with the file', async () => {
      const id = await submit({ sql: 'select * from rows_2000' })
      const done = await waitForEnd(id)
      expect(done.status).toBe('SUCCESSFUL')
      const full = new Uint8Array(await (await api(`/${id}/result`)).arrayBuffer())
      const digest = createHash('sha256').update(full).digest()
      const integrity = { rows: 2000, bytes: full.byteLength, sha256: digest.toString('hex') }
      expect(done).toMatchObject(integrity)
      const meta = (await (await api(`/${id}/metadata`)).json()) as Record<string, unknown>
      expect(meta).toMatchObject({ code: '000', ...integrity })
      const head = await rawRequest('HEAD', `${target.url}/kylin/api/async_query/${id}/result`, {
        Authorization: BASIC.ANALYST,
      })
      expect(head.headers['repr-digest']).toBe(`sha-256=:${digest.toString('base64')}:`)
      const range = await api(`/${id}/result`, { headers: { Range: 'bytes=0-9' } })
      expect(range.headers.get('repr-digest')).toBe(`sha-256=:${digest.toString('base64')}:`)
      await range.arrayBuffer()
    })

    it('passes other Kylin calls through unchanged, Set-Cookie included', async () => {
      const res = await fetch(`${target.url}/kylin/api/projects?limit=1&offset=0`, {
        headers: { Authorization: BASIC.ADMIN, 'X-Custom': 'yes' },
      })
      expect(res.status).toBe(200)
      expect(res.headers.getSetCookie()).toContain('echo=1; Path=/kylin')
      const echo = (await res.json()) as {
        method: string
        path: string
        query: string
        headers: Record<string, string>
      }
      expect(echo).toMatchObject({
        method: 'GET',
        path: '/kylin/api/projects',
        query: 'limit=1&offset=0',
      })
      expect(echo.headers['x-custom']).toBe('yes')
      expect(echo.headers.authorization).toBe(BASIC.ADMIN)
    })

    it('accepts a Kylin session cookie obtained through the pass-through', async () => {
      const login = await fetch(`${target.url}/kylin/api/user/authentication`, {
        method: 'POST',
        headers: { Authorization: BASIC.MODELER },
      })
      expect(login.status).toBe(200)
      const session = login.headers
        .getSetCookie()
        .find((c) => c.startsWith('JSESSIONID='))
        ?.split(';')[0]
      expect(session).toBeDefined()
      const res = await api('', {
        method: 'POST',
        auth: null,
        headers: { Cookie: session!, 'Content-Type': 'application/json' },
        body: JSON.stringify({ sql: 'select * from kylin_sales', project: 'learn_kylin' }),
      })
      expect(res.status).toBe(200)
      const id = ((await res.json()) as Envelope<Status>).data.queryID!
      expect((await waitForEnd(id, BASIC.MODELER)).status).toBe('SUCCESSFUL')
    })

    for (const addCases of FEATURE_CASES) addCases(context)
  })
}
