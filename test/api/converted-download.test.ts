/**
 * Downloads in another form than the one written at submit: `format`, `encode` and
 * `include_header` / `includeHeader` on result_download and result, made from the stored CSV on
 * the fly; and the answers to a form that cannot be made.
 */
import { beforeEach, describe, expect, it } from 'vitest'
import { createApp } from '../../src/app.ts'
import { ANALYST, makeTestDeps, type TestDeps } from '../support/test-deps.ts'

const V2 = 'application/vnd.apache.kylin-v2+json'
const V4 = 'application/vnd.apache.kylin-v4-public+json'
const BASE = 'http://gateway.test/kylin/api/async_query'
const ILLEGAL = 'KE-020040001(Asynchronous query illegal parameters)'

/** The default upstream's rows (test-deps.ts). */
const CSV = 'Auction,11,123.45\n"Others, ""quoted""",,7\n上海,0,"1\n2"\n'
const HEADER = 'LSTG_FORMAT_NAME,SLR_SEGMENT_CD,GMV\n'

let deps: TestDeps
let app: ReturnType<typeof createApp>

beforeEach(() => {
  deps = makeTestDeps()
  app = createApp(deps)
})

function get(path: string, headers: Record<string, string> = {}, method = 'GET') {
  return app.request(`${BASE}${path}`, {
    method,
    headers: { Authorization: ANALYST, Accept: V4, ...headers },
  })
}

async function run(body: Record<string, unknown> = {}): Promise<string> {
  const res = await app.request(BASE, {
    method: 'POST',
    headers: { Authorization: ANALYST, Accept: V4, 'Content-Type': 'application/json' },
    body: JSON.stringify({ sql: 'select * from kylin_sales', ...body }),
  })
  const json = (await res.json()) as { code: string; data: { query_id: string } }
  expect(json.code).toBe('000')
  await deps.settle()
  return json.data.query_id
}

describe('a CSV result downloaded in another form', () => {
  it('serves the header row on request, either spelling, any case', async () => {
    const id = await run()
    expect(await (await get(`/${id}/result_download`)).text()).toBe(CSV)
    for (const query of ['include_header=true', 'includeHeader=TRUE', 'include_header=True']) {
      const res = await get(`/${id}/result_download?${query}`)
      expect(res.status).toBe(200)
      expect(await res.text()).toBe(HEADER + CSV)
    }
    const off = await run({ include_header: true })
    expect(await (await get(`/${off}/result_download?include_header=false`)).text()).toBe(CSV)
  })

  it('converts to json and ndjson, with their type and name', async () => {
    const id = await run({ file_name: 'sales', separator: '|', include_header: true })
    const json = await get(`/${id}/result_download?format=JSON`)
    expect(json.headers.get('content-type')).toBe('application/json;charset=utf-8')
    expect(json.headers.get('content-disposition')).toBe('attachment; filename="sales.json"')
    expect((JSON.parse(await json.text()) as string[]).map((row) => JSON.parse(row))).toEqual([
      { LSTG_FORMAT_NAME: 'Auction', SLR_SEGMENT_CD: '11', GMV: '123.45' },
      { LSTG_FORMAT_NAME: 'Others, "quoted"', SLR_SEGMENT_CD: null, GMV: '7' },
      { LSTG_FORMAT_NAME: '上海', SLR_SEGMENT_CD: '0', GMV: '1\n2' },
    ])
    const ndjson = await get(`/${id}/result_download?format=ndjson`)
    expect(ndjson.headers.get('content-type')).toBe('application/x-ndjson;charset=utf-8')
    const lines = (await ndjson.text()).split('\n').slice(0, -1)
    expect(lines.map((line) => JSON.parse(line))[0]).toEqual({
      LSTG_FORMAT_NAME: 'Auction',
      SLR_SEGMENT_CD: 11,
      GMV: 123.45,
    })
  })

  it('converts on the older /result route too', async () => {
    const id = await run()
    const res = await get(`/${id}/result?format=ndjson`, { Accept: 'application/json' })
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="result.ndjson"')
    expect((await res.text()).split('\n')).toHaveLength(4)
  })

  it('streams a conversion without length or ranges, under a weak ETag that answers 304', async () => {
    const id = await run()
    const res = await get(`/${id}/result_download?include_header=true`, { Range: 'bytes=0-3' })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-length')).toBeNull()
    expect(res.headers.get('accept-ranges')).toBe('none')
    const etag = res.headers.get('etag') ?? ''
    expect(etag).toMatch(/^W\/"[0-9a-f]{64}-csv-utf-8-h"$/)
    expect(await res.text()).toBe(HEADER + CSV)
    const stored = await get(`/${id}/result_download`)
    expect(stored.headers.get('etag')).not.toBe(etag)
    const again = await get(`/${id}/result_download?include_header=true`, {
      'If-None-Match': etag,
    })
    expect(again.status).toBe(304)
    const head = await get(`/${id}/result_download?include_header=true`, {}, 'HEAD')
    expect(head.status).toBe(200)
    expect(head.headers.get('etag')).toBe(etag)
    expect(await head.text()).toBe('')
  })

  it('gzips a conversion on request', async () => {
    const id = await run()
    const res = await get(`/${id}/result_download?format=json`, { 'Accept-Encoding': 'gzip' })
    expect(res.headers.get('content-encoding')).toBe('gzip')
    const text = await new Response(
      res.body!.pipeThrough(new DecompressionStream('gzip') as never),
    ).text()
    expect(JSON.parse(text)).toHaveLength(3)
  })

  it('serves the stored file, length and ranges, when the asked form is the stored one', async () => {
    const id = await run({ include_header: true })
    const res = await get(`/${id}/result_download?format=csv&encode=UTF-8&include_header=true`, {
      Range: 'bytes=0-3',
    })
    expect(res.status).toBe(206)
    expect(await res.text()).toBe('LSTG')
    // The header choice does not change a json file: no conversion either.
    const json = await run({ format: 'json' })
    const same = await get(`/${json}/result_download?include_header=true`)
    expect(same.headers.get('content-length')).not.toBeNull()
  })
})

describe('forms that cannot be made', () => {
  it.each([
    [
      'format=txt',
      'Format txt unsupported. Only [csv, json, xlsx, parquet, ndjson, arrow] are supported',
    ],
    ['encode=latin1', 'Encoding latin1 unsupported. Only [utf-8, gbk] are supported'],
    ['include_header=yes', 'include_header must be true or false, not "yes".'],
  ])('answers %s with 400 and a message to act on', async (query, msg) => {
    const id = await run()
    const res = await get(`/${id}/result_download?${query}`)
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ code: '999', msg, error_code: ILLEGAL })
  })

  it('serves a result written in another format only as written', async () => {
    const id = await run({ format: 'ndjson' })
    const res = await get(`/${id}/result_download?format=csv`, { Accept: V2 })
    expect(res.status).toBe(400)
    const json = (await res.json()) as { msg: string }
    expect(json.msg).toMatch(
      /^This result was written as ndjson at submit and can be downloaded only as written\./,
    )
  })

  it('cannot read back a separator holding a quote', async () => {
    const id = await run({ separator: '"' })
    const res = await get(`/${id}/result_download?format=json`)
    expect(res.status).toBe(400)
    expect(((await res.json()) as { msg: string }).msg).toMatch(/separator holding a quote/)
  })

  it('still refuses the oldIncludeHeader parameter as Kylin 5 does', async () => {
    const id = await run()
    const res = await get(`/${id}/result_download?oldIncludeHeader=true`)
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ error_code: 'KE-010031304' })
  })
})
