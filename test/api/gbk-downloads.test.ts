/**
 * `encode=gbk` over HTTP: real GBK bytes at submit and at download time, read back with
 * iconv-lite; the `charset` of each answer; a value GBK cannot hold ends FAILED, or refuses the
 * conversion, naming the row and the column.
 */
import iconv from 'iconv-lite'
import { beforeEach, describe, expect, it } from 'vitest'
import { createApp } from '../../src/app.ts'
import {
  ANALYST,
  makeTestDeps,
  toSqlResponse,
  toStream,
  type TestDeps,
} from '../support/test-deps.ts'

const V4 = 'application/vnd.apache.kylin-v4-public+json'
const BASE = 'http://gateway.test/kylin/api/async_query'
const CSV = 'Auction,11,123.45\n"Others, ""quoted""",,7\n上海,0,"1\n2"\n'

let deps: TestDeps
let app: ReturnType<typeof createApp>

beforeEach(() => {
  deps = makeTestDeps()
  app = createApp(deps)
})

function get(path: string) {
  return app.request(`${BASE}${path}`, { headers: { Authorization: ANALYST, Accept: V4 } })
}

async function run(body: Record<string, unknown>): Promise<string> {
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

async function bytesOf(res: Response): Promise<Buffer> {
  return Buffer.from(await res.arrayBuffer())
}

describe('encode=gbk at submit', () => {
  it.each([
    ['csv', 'application/csv;charset=gbk'],
    ['json', 'application/json;charset=gbk'],
    ['ndjson', 'application/x-ndjson;charset=gbk'],
  ])('writes %s in GBK, charset=gbk, sized as served', async (format, type) => {
    const id = await run({ format, encode: 'GBK' })
    const res = await get(`/${id}/result_download`)
    expect(res.headers.get('content-type')).toBe(type)
    const bytes = await bytesOf(res)
    expect(res.headers.get('content-length')).toBe(String(bytes.length))
    const size = (await (await get(`/${id}/file_status`)).json()) as { data: number }
    expect(size.data).toBe(bytes.length)
    const text = iconv.decode(bytes, 'gbk')
    expect(text).toContain('上海')
    // 上海 is two bytes a character in GBK, three in UTF-8.
    expect(bytes.includes(Buffer.from('上海', 'utf8'))).toBe(false)
    if (format === 'csv') expect(text).toBe(CSV)
  })

  it('ends FAILED naming the row and column of a value GBK cannot hold, and keeps no file', async () => {
    deps.setQueryHandler(async () =>
      toStream(
        toSqlResponse(
          [
            { name: 'ID', type: 'BIGINT' },
            { name: 'NOTE', type: 'VARCHAR' },
          ],
          [
            ['1', '上海'],
            ['2', 'ok'],
            ['3', 'smile 😀'],
          ],
        ),
      ),
    )
    const id = await run({ encode: 'gbk' })
    const status = (await (await get(`/${id}/status`)).json()) as {
      data: { status: string; info: string }
    }
    expect(status.data.status).toBe('FAILED')
    expect(status.data.info).toMatch(/row 3/)
    expect(status.data.info).toMatch(/NOTE/)
    expect(status.data.info).not.toContain('smile')
    expect((await get(`/${id}/result_download`)).status).toBe(404)
  })
})

describe('encode=gbk at download time', () => {
  it('converts a UTF-8 CSV to GBK and back', async () => {
    const id = await run({})
    const gbk = await get(`/${id}/result_download?encode=gbk`)
    expect(gbk.headers.get('content-type')).toBe('application/csv;charset=gbk')
    expect(iconv.decode(await bytesOf(gbk), 'gbk')).toBe(CSV)
    const stored = await run({ encode: 'gbk' })
    const utf8 = await get(`/${stored}/result_download?encode=utf-8&format=json`)
    expect(utf8.headers.get('content-type')).toBe('application/json;charset=utf-8')
    const rows = (JSON.parse(await utf8.text()) as string[]).map((row) => JSON.parse(row))
    expect(rows[2]).toEqual({ LSTG_FORMAT_NAME: '上海', SLR_SEGMENT_CD: '0', GMV: '1\n2' })
    const csv = await get(`/${stored}/result_download?encode=utf-8`)
    expect(await csv.text()).toBe(CSV)
  })

  it('answers an error envelope when the first rows hold a value GBK cannot hold', async () => {
    deps.setQueryHandler(async () =>
      toStream(toSqlResponse([{ name: 'NOTE', type: 'VARCHAR' }], [['😀']])),
    )
    const id = await run({})
    const res = await get(`/${id}/result_download?encode=gbk`)
    expect(res.status).toBeGreaterThanOrEqual(400)
    const json = (await res.json()) as { code: string; msg: string }
    expect(json.code).toBe('999')
    expect(json.msg).toMatch(/row 1/)
    expect(json.msg).toMatch(/NOTE/)
  })
})
