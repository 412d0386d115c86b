/**
 * The `format` submit option over HTTP: csv, json and ndjson in any case and every dialect,
 * Kylin 5's answer to a format it does not take, and the download headers of each format.
 */
import { beforeEach, describe, expect, it } from 'vitest'
import { createApp } from '../../src/app.ts'
import { ANALYST, makeTestDeps, type TestDeps } from '../support/test-deps.ts'

const V2 = 'application/vnd.apache.kylin-v2+json'
const V4 = 'application/vnd.apache.kylin-v4-public+json'
const BASE = 'http://gateway.test/kylin/api/async_query'
const ILLEGAL = 'KE-020040001(Asynchronous query illegal parameters)'

/** The default upstream's rows (test-deps.ts), as the json reader sees them. */
const ROWS = [
  { LSTG_FORMAT_NAME: 'Auction', SLR_SEGMENT_CD: '11', GMV: '123.45' },
  { LSTG_FORMAT_NAME: 'Others, "quoted"', SLR_SEGMENT_CD: null, GMV: '7' },
  { LSTG_FORMAT_NAME: '上海', SLR_SEGMENT_CD: '0', GMV: '1\n2' },
]

let deps: TestDeps
let app: ReturnType<typeof createApp>

beforeEach(() => {
  deps = makeTestDeps()
  app = createApp(deps)
})

function post(body: Record<string, unknown>, accept = V4) {
  return app.request(BASE, {
    method: 'POST',
    headers: { Authorization: ANALYST, Accept: accept, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  })
}

function get(path: string, accept = V4, method = 'GET') {
  return app.request(`${BASE}${path}`, {
    method,
    headers: { Authorization: ANALYST, Accept: accept },
  })
}

/** Submits, waits for the run, and answers the query id. */
async function run(body: Record<string, unknown>, accept = V4): Promise<string> {
  const res = await post({ sql: 'select * from kylin_sales', ...body }, accept)
  const json = (await res.json()) as { code: string; data: Record<string, string> }
  expect(json.code).toBe('000')
  await deps.settle()
  return json.data.query_id ?? json.data.queryID ?? ''
}

describe('format at submit', () => {
  it('exports csv by default and for csv in any case', async () => {
    for (const format of [undefined, null, '', 'csv', 'CSV', 'Csv']) {
      const id = await run({ format })
      const res = await get(`/${id}/result_download`)
      expect(res.headers.get('content-type')).toBe('application/csv;charset=utf-8')
      expect(await res.text()).toContain('Auction,11,123.45\n')
    }
  })

  it("exports json as Kylin 5's array of row strings, in any case and every dialect", async () => {
    for (const [format, accept] of [
      ['json', V4],
      ['JSON', V4],
      ['Json', V2],
      ['json', 'application/json'],
    ] as const) {
      const id = await run({ format, separator: '|', include_header: true }, accept)
      const res = await get(`/${id}/result_download`, accept)
      expect(res.status).toBe(200)
      const rows = (JSON.parse(await res.text()) as string[]).map((row) => JSON.parse(row))
      // Separator and header belong to CSV: the json document is the same without them.
      expect(rows).toEqual(ROWS)
    }
  })

  it('exports ndjson, one typed object a line', async () => {
    const id = await run({ format: 'NDJSON' })
    const text = await (await get(`/${id}/result_download`)).text()
    expect(
      text
        .split('\n')
        .slice(0, -1)
        .map((line) => JSON.parse(line)),
    ).toEqual([
      { LSTG_FORMAT_NAME: 'Auction', SLR_SEGMENT_CD: 11, GMV: 123.45 },
      { LSTG_FORMAT_NAME: 'Others, "quoted"', SLR_SEGMENT_CD: null, GMV: 7 },
      { LSTG_FORMAT_NAME: '上海', SLR_SEGMENT_CD: 0, GMV: '1\n2' },
    ])
  })

  it('keeps the format in the query record', async () => {
    const id = await run({ format: 'Json' })
    expect((await deps.registry.get(id))?.options.format).toBe('json')
  })

  it.each([
    [V4, 'query_id', 'txt'],
    [V4, 'query_id', 'orc'],
    [V2, 'queryID', 'XLS'],
    ['application/json', 'queryID', 'avro'],
  ])(
    'answers %s (%s) format %s as Kylin 5 does: HTTP 200, FAILED',
    async (accept, idField, format) => {
      const res = await post({ sql: 'select 1', format }, accept)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe(`${accept};charset=UTF-8`)
      expect(await res.json()).toEqual({
        code: ILLEGAL,
        data: {
          [idField]: null,
          status: 'FAILED',
          info: `Format ${format} unsupported. Only [csv, json, xlsx, parquet, ndjson, arrow] are supported`,
        },
        msg: '',
      })
      await deps.settle()
      expect(deps.queries).toHaveLength(0)
    },
  )

  it.each([
    [V4, 'query_id', 'latin1'],
    [V2, 'queryID', 'UTF-16'],
  ])(
    'answers %s (%s) encode %s as a bad format, with a message of its own',
    async (accept, idField, encode) => {
      const res = await post({ sql: 'select 1', encode }, accept)
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({
        code: ILLEGAL,
        data: {
          [idField]: null,
          status: 'FAILED',
          info: `Encoding ${encode} unsupported. Only [utf-8, gbk] are supported`,
        },
        msg: '',
      })
      await deps.settle()
      expect(deps.queries).toHaveLength(0)
    },
  )

  it('keeps the encoding in the query record, in any case', async () => {
    const id = await run({ encode: 'GBK' })
    expect((await deps.registry.get(id))?.options.encode).toBe('gbk')
    const plain = await run({})
    expect((await deps.registry.get(plain))?.options.encode).toBe('utf-8')
  })

  it('answers a bad format in Chinese for Accept-Language cn', async () => {
    const res = await app.request(BASE, {
      method: 'POST',
      headers: { Authorization: ANALYST, Accept: V4, 'Accept-Language': 'cn' },
      body: JSON.stringify({ sql: 'select 1', format: 'txt' }),
    })
    const json = (await res.json()) as { data: { info: string } }
    expect(json.data.info).toBe('不支持格式 txt，仅支持 [csv, json, xlsx, parquet, ndjson, arrow]')
  })

  it('still answers 400 for a format that is not a string', async () => {
    const res = await post({ sql: 'select 1', format: 5 })
    expect(res.status).toBe(400)
    expect(deps.queries).toHaveLength(0)
  })
})

describe('download of each format', () => {
  it.each([
    ['json', V4, 'application/json;charset=utf-8', 'report.json'],
    ['json', V2, 'application/json;charset=utf-8', 'report.json'],
    ['ndjson', V4, 'application/x-ndjson;charset=utf-8', 'report.ndjson'],
    ['csv', V2, 'text/csv;charset=utf-8', 'report.csv'],
    ['xlsx', V4, 'application/octet-stream;charset=utf-8', 'report.xlsx'],
    ['XLSX', V2, 'application/octet-stream;charset=utf-8', 'report.xlsx'],
    ['parquet', V4, 'application/vnd.apache.parquet', 'report.parquet'],
    ['Arrow', V4, 'application/vnd.apache.arrow.stream', 'report.arrows'],
  ])('serves %s (%s) with its type, name and size', async (format, accept, type, name) => {
    const id = await run({ format, file_name: 'report' }, accept)
    const res = await get(`/${id}/result_download`, accept)
    expect(res.headers.get('content-type')).toBe(type)
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${name}"`)
    const bytes = new Uint8Array(await res.arrayBuffer())
    expect(res.headers.get('content-length')).toBe(String(bytes.length))
    const size = (await (await get(`/${id}/file_status`, accept)).json()) as { data: number }
    expect(size.data).toBe(bytes.length)

    const head = await get(`/${id}/result_download`, accept, 'HEAD')
    for (const header of ['content-type', 'content-disposition', 'content-length', 'etag']) {
      expect(head.headers.get(header)).toBe(res.headers.get(header))
    }
    const range = await app.request(`${BASE}/${id}/result_download`, {
      headers: { Authorization: ANALYST, Accept: accept, Range: 'bytes=1-4' },
    })
    expect(range.status).toBe(206)
    expect(new Uint8Array(await range.arrayBuffer())).toEqual(bytes.slice(1, 5))
  })

  it('names the file by extension on the older /result route, and encodes other names', async () => {
    const id = await run({ format: 'ndjson', file_name: '销售' })
    const result = await get(`/${id}/result`, 'application/json')
    expect(result.headers.get('content-type')).toBe('application/x-ndjson;charset=utf-8')
    expect(result.headers.get('content-disposition')).toBe('attachment; filename="result.ndjson"')
    const download = await get(`/${id}/result_download`)
    expect(download.headers.get('content-disposition')).toBe(
      `attachment; filename="__.ndjson"; filename*=UTF-8''${encodeURIComponent('销售.ndjson')}`,
    )
  })

  it('serves a record from before formats as CSV', async () => {
    const id = await run({})
    const record = (await deps.registry.get(id))!
    const { format: _dropped, ...options } = record.options
    await deps.registry.create({ ...record, options })
    expect((await deps.registry.get(id))?.options.format).toBeUndefined()
    const res = await get(`/${id}/result_download`)
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="result.csv"')
  })
})
