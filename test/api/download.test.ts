/**
 * The download protocol through app.request(): ETag, HEAD, ranges, conditional requests, gzip.
 */
import { createHash } from 'node:crypto'
import { gunzipSync } from 'node:zlib'
import { beforeEach, describe, expect, it } from 'vitest'
import { parseRange, toContentDisposition } from '../../src/api/download.ts'
import { createApp } from '../../src/app.ts'
import {
  ANALYST,
  makeTestDeps,
  toSqlResponse,
  toStream,
  type TestDeps,
} from '../support/test-deps.ts'

const BASE = 'http://gateway.test/kylin/api/async_query'
const ROWS = Array.from({ length: 500 }, (_, i) => [
  `row-${i}`,
  `value "${i}"`,
  i % 7 ? null : 'x,y',
])
const CSV = ROWS.map((r) =>
  r
    .map((c) => (c === null ? '' : /[",\n\r]/.test(c) ? `"${c.replaceAll('"', '""')}"` : c))
    .join(','),
)
  .map((line) => `${line}\n`)
  .join('')
const BYTES = new TextEncoder().encode(CSV)

let deps: TestDeps
let app: ReturnType<typeof createApp>
let id: string

beforeEach(async () => {
  deps = makeTestDeps()
  deps.setQueryHandler(async () =>
    toStream(
      toSqlResponse(
        [
          { name: 'A', type: 'VARCHAR' },
          { name: 'B', type: 'VARCHAR' },
          { name: 'C', type: 'VARCHAR' },
        ],
        ROWS,
      ),
    ),
  )
  app = createApp(deps)
  const res = await app.request(BASE, {
    method: 'POST',
    headers: { Authorization: ANALYST },
    body: JSON.stringify({ sql: 'select a, b, c from t' }),
  })
  id = ((await res.json()) as { data: { queryID: string } }).data.queryID
  await deps.settle()
})

function download(headers: Record<string, string> = {}, method = 'GET') {
  return app.request(`${BASE}/${id}/result`, {
    method,
    headers: { Authorization: ANALYST, ...headers },
  })
}

describe('download protocol', () => {
  it('sends the whole file with Content-Length and a strong ETag of its SHA-256', async () => {
    const res = await download()
    expect(res.status).toBe(200)
    const sha = createHash('sha256').update(BYTES).digest('hex')
    expect(res.headers.get('etag')).toBe(`"${sha}"`)
    expect(res.headers.get('content-length')).toBe(String(BYTES.byteLength))
    expect(res.headers.get('accept-ranges')).toBe('bytes')
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(BYTES)
  })

  it('answers HEAD with the same headers and no body', async () => {
    const get = await download()
    const head = await download({}, 'HEAD')
    expect(head.status).toBe(200)
    for (const name of ['etag', 'content-length', 'content-type', 'content-disposition']) {
      expect(head.headers.get(name)).toBe(get.headers.get(name))
    }
    expect((await head.arrayBuffer()).byteLength).toBe(0)
  })

  it.each([
    ['bytes=0-99', 0, 99],
    ['bytes=100-', 100, BYTES.byteLength - 1],
    ['bytes=-50', BYTES.byteLength - 50, BYTES.byteLength - 1],
    ['bytes=10-10', 10, 10],
    ['bytes=0-999999999', 0, BYTES.byteLength - 1],
  ])('serves %s as 206 with the exact bytes', async (range, start, end) => {
    const res = await download({ Range: range })
    expect(res.status).toBe(206)
    expect(res.headers.get('content-range')).toBe(`bytes ${start}-${end}/${BYTES.byteLength}`)
    expect(res.headers.get('content-length')).toBe(String(end - start + 1))
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(BYTES.subarray(start, end + 1))
  })

  it('answers 416 for a range past the end', async () => {
    const res = await download({ Range: `bytes=${BYTES.byteLength}-` })
    expect(res.status).toBe(416)
    expect(res.headers.get('content-range')).toBe(`bytes */${BYTES.byteLength}`)
  })

  it('ignores several ranges and other units, sending the whole file', async () => {
    for (const range of ['bytes=0-1,5-6', 'items=0-1', 'bytes=5-1']) {
      const res = await download({ Range: range })
      expect(res.status).toBe(200)
      expect((await res.arrayBuffer()).byteLength).toBe(BYTES.byteLength)
    }
  })

  it('answers 304 for a matching If-None-Match', async () => {
    const etag = (await download()).headers.get('etag')!
    for (const value of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const res = await download({ 'If-None-Match': value })
      expect(res.status).toBe(304)
      expect(res.headers.get('etag')).toBe(etag)
    }
    expect((await download({ 'If-None-Match': '"other"' })).status).toBe(200)
  })

  it('honours Range only while If-Range still matches', async () => {
    const first = await download()
    const etag = first.headers.get('etag')!
    const lastModified = first.headers.get('last-modified')!
    expect((await download({ Range: 'bytes=0-9', 'If-Range': etag })).status).toBe(206)
    expect((await download({ Range: 'bytes=0-9', 'If-Range': lastModified })).status).toBe(206)
    const stale = await download({ Range: 'bytes=0-9', 'If-Range': '"changed"' })
    expect(stale.status).toBe(200)
    expect((await stale.arrayBuffer()).byteLength).toBe(BYTES.byteLength)
  })

  it('compresses with gzip on request when no range is asked', async () => {
    const res = await download({ 'Accept-Encoding': 'br;q=1, gzip;q=0.8' })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-encoding')).toBe('gzip')
    expect(res.headers.get('content-length')).toBeNull()
    expect(res.headers.get('etag')).toMatch(/-gzip"$/)
    const raw = new Uint8Array(await res.arrayBuffer())
    expect(raw.byteLength).toBeLessThan(BYTES.byteLength)
    expect(new Uint8Array(gunzipSync(raw))).toEqual(BYTES)
    const none = await download({ 'Accept-Encoding': 'gzip;q=0' })
    expect(none.headers.get('content-encoding')).toBeNull()
    const ranged = await download({ 'Accept-Encoding': 'gzip', Range: 'bytes=0-9' })
    expect(ranged.status).toBe(206)
    expect(ranged.headers.get('content-encoding')).toBeNull()
  })
})

describe('parseRange', () => {
  it('reads single byte ranges within the size', () => {
    expect(parseRange('bytes=0-0', 10)).toEqual({ start: 0, end: 0 })
    expect(parseRange('bytes=-20', 10)).toEqual({ start: 0, end: 9 })
    expect(parseRange('bytes=9-', 10)).toEqual({ start: 9, end: 9 })
    expect(parseRange('bytes=10-', 10)).toBe('unsatisfiable')
    expect(parseRange('bytes=-0', 10)).toBe('unsatisfiable')
    expect(parseRange('bytes=0-', 0)).toBe('unsatisfiable')
    expect(parseRange('bytes=-', 10)).toBeNull()
    expect(parseRange('bytes=a-b', 10)).toBeNull()
  })
})

describe('toContentDisposition', () => {
  it('quotes ASCII names and adds filename* for others', () => {
    expect(toContentDisposition('result.csv')).toBe('attachment; filename="result.csv"')
    expect(toContentDisposition('é.csv')).toBe(
      `attachment; filename="_.csv"; filename*=UTF-8''%C3%A9.csv`,
    )
  })

  it('escapes quotes and backslashes, and percent-encodes what RFC 8187 does not allow bare', () => {
    expect(toContentDisposition('a"b\\c.csv')).toBe('attachment; filename="a\\"b\\\\c.csv"')
    expect(toContentDisposition("l'été (1)*.csv")).toBe(
      `attachment; filename="l'_t_ (1)*.csv"; filename*=UTF-8''l%27%C3%A9t%C3%A9%20%281%29%2A.csv`,
    )
    expect(toContentDisposition('\ud800.csv')).toBe(
      `attachment; filename="_.csv"; filename*=UTF-8''%EF%BF%BD.csv`,
    )
  })
})

describe('parseRange edge cases', () => {
  it('ignores several ranges, other units and inverted ranges; clamps suffixes and ends', () => {
    expect(parseRange('bytes=0-1,5-6', 10)).toBeNull()
    expect(parseRange('bytes=20-,30-', 10)).toBeNull()
    expect(parseRange('items=0-1', 10)).toBeNull()
    expect(parseRange('bytes=5-1', 10)).toBeNull()
    expect(parseRange('bytes=1e3-', 10)).toBeNull()
    expect(parseRange(' BYTES = 2 - 3 ', 10)).toEqual({ start: 2, end: 3 })
    expect(parseRange('bytes=-99999999999999999999', 10)).toEqual({ start: 0, end: 9 })
    expect(parseRange('bytes=0-99999999999999999999', 10)).toEqual({ start: 0, end: 9 })
    expect(parseRange('bytes=99999999999999999999-', 10)).toBe('unsatisfiable')
  })
})
