/**
 * Real answers of every async path, in every dialect, checked against the served OpenAPI document:
 * the status must be listed, the media type offered, the body valid under the document's schema.
 */
import { beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createApp } from '../../src/app.ts'
import type { OpenApiDocument } from '../../src/api/openapi.ts'
import {
  ADMIN,
  ANALYST,
  MODELER,
  makeTestDeps,
  toSqlResponse,
  toStream,
  type TestDeps,
} from '../support/test-deps.ts'

const ORIGIN = 'http://gateway.test'
const BASE = '/kylin/api/async_query'
const DIALECTS = [
  'application/json',
  'application/vnd.apache.kylin-v2+json',
  'application/vnd.apache.kylin-v4-public+json',
  'application/vnd.apache.kylin-v4+json',
]

let document: OpenApiDocument
/** `METHOD template status media-type` of every answer checked so far. */
const covered = new Set<string>()

let deps: TestDeps
let app: ReturnType<typeof createApp>

beforeAll(async () => {
  const res = await createApp(makeTestDeps()).request(`${ORIGIN}/openapi.json`)
  document = (await res.json()) as OpenApiDocument
})

/** Signed links on, so their answers are checked too. */
const LINKS = {
  credentials: { secret: 'a-link-secret-for-the-document-tests-000' },
  maxTtlSeconds: 86_400,
}

beforeEach(() => {
  deps = makeTestDeps({ maxBodyBytes: 4096, links: LINKS })
  app = createApp(deps)
})

/** Replaces every local `$ref` by what it points at (the document has no cycles). */
function inline(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(inline)
  if (!value || typeof value !== 'object') return value
  const ref = (value as { $ref?: unknown }).$ref
  if (typeof ref === 'string') {
    let target: unknown = document
    for (const key of ref.replace(/^#\//, '').split('/')) {
      target = (target as Record<string, unknown>)[key]
    }
    expect(target, ref).toBeDefined()
    return inline(target)
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, inline(v)]))
}

/** The document's path template for a concrete path; literal segments win over `{id}`. */
function toTemplate(pathname: string): string {
  const templates = Object.keys(document.paths).sort(
    (a, b) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0),
  )
  const template = templates.find((t) =>
    new RegExp(`^${t.replace(/\{\w+\}/g, '[^/]+')}$`).test(pathname),
  )
  expect(template, `a documented path for ${pathname}`).toBeDefined()
  return template!
}

interface Call {
  auth?: string | null
  accept: string
  body?: unknown
  headers?: Record<string, string>
}

/** Calls the app, then checks the answer against the document; returns the parsed body. */
async function call(method: string, path: string, options: Call): Promise<CheckedAnswer> {
  const headers: Record<string, string> = { Accept: options.accept, ...options.headers }
  const auth = options.auth === undefined ? ANALYST : options.auth
  if (auth) headers.Authorization = auth
  let body: string | undefined
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body)
    headers['Content-Type'] = 'application/json'
  }
  const res = await app.request(`${ORIGIN}${BASE}${path}`, { method, headers, body })
  return checkAgainstDocument(method, new URL(res.url || `${ORIGIN}${BASE}${path}`), res)
}

interface CheckedAnswer {
  status: number
  json: Record<string, unknown> | null
  headers: Headers
}

async function checkAgainstDocument(
  method: string,
  url: URL,
  res: Response,
): Promise<CheckedAnswer> {
  const template = toTemplate(url.pathname)
  const operation = document.paths[template]![method.toLowerCase()]
  expect(operation, `${method} ${template} is documented`).toBeDefined()
  const responses = operation!.responses as Record<string, unknown>
  const status = String(res.status)
  expect(Object.keys(responses), `${method} ${template} lists ${status}`).toContain(status)
  const response = inline(responses[status]) as {
    content?: Record<string, { schema: unknown }>
    headers?: Record<string, unknown>
  }
  for (const name of Object.keys(response.headers ?? {})) {
    // Content-Encoding is sent only when asked for; every other documented header is sent.
    if (name !== 'Content-Encoding' && name !== 'Content-Length') {
      expect(res.headers.has(name), `${method} ${template} ${status} sends ${name}`).toBe(true)
    }
  }
  const mediaType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim()
  covered.add(`${method} ${template} ${status} ${mediaType}`)
  const text = await res.text()
  if (method === 'HEAD' || res.status === 304) {
    expect(text).toBe('')
    return { status: res.status, json: null, headers: res.headers }
  }
  expect(Object.keys(response.content ?? {}), `${method} ${template} ${status}`).toContain(
    mediaType,
  )
  // A download is a file, json or not; only answers without Content-Disposition are envelopes.
  if (!mediaType.endsWith('json') || res.headers.has('content-disposition')) {
    return { status: res.status, json: null, headers: res.headers }
  }
  const json = JSON.parse(text) as Record<string, unknown>
  const schema = z.fromJSONSchema(
    inline(response.content![mediaType]!.schema) as Parameters<typeof z.fromJSONSchema>[0],
  )
  const parsed = schema.safeParse(json)
  expect(
    parsed.success,
    `${method} ${template} ${status} ${mediaType}: ${text} ${JSON.stringify(parsed.error?.issues)}`,
  ).toBe(true)
  return { status: res.status, json, headers: res.headers }
}

const SALES = toSqlResponse(
  [
    { name: 'LSTG_FORMAT_NAME', type: 'VARCHAR' },
    { name: 'GMV', type: 'DECIMAL' },
  ],
  [
    ['Auction', '123.45'],
    ['Others', null],
  ],
)

/** An upstream that answers only when released, so a query can be seen RUNNING. */
function holdUpstream(deps: TestDeps) {
  let release!: () => void
  const released = new Promise<void>((resolve) => (release = resolve))
  deps.setQueryHandler(
    (_query, _credentials, signal) =>
      new Promise((resolve, reject) => {
        signal?.addEventListener('abort', () => reject(signal.reason))
        void released.then(() => resolve(toStream(SALES)))
      }),
  )
  return release
}

const idOf = (answer: CheckedAnswer) => {
  const data = answer.json?.data as Record<string, string>
  return data.queryID ?? data.query_id ?? ''
}

describe.each(DIALECTS)('answers for Accept: %s match the document', (accept) => {
  it('submit, status, metadata, sizes, downloads, path, stop and delete', async () => {
    const release = holdUpstream(deps)
    const submitted = await call('POST', '', { accept, body: { sql: 'select * from t' } })
    expect(submitted.status).toBe(200)
    const id = idOf(submitted)
    const running = await call('GET', `/${id}/status`, { accept })
    expect(running.json?.data).toMatchObject({ status: 'RUNNING', rows_written: 0 })
    release()
    await deps.settle()
    const done = await call('GET', `/${id}/status`, { accept })
    expect(done.json?.data).toMatchObject({ status: 'SUCCESSFUL' })
    const waited = await call('GET', `/${id}/status?wait=5`, { accept })
    expect(waited.json?.data).toMatchObject({ status: 'SUCCESSFUL' })
    // A finished query's stream is its final event, then the end.
    expect((await call('GET', `/${id}/events`, { accept })).status).toBe(200)

    const metadata = await call('GET', `/${id}/metadata`, { accept })
    expect(metadata.json?.data).toEqual([
      ['LSTG_FORMAT_NAME', 'GMV'],
      ['VARCHAR', 'DECIMAL'],
    ])
    const size = (await call('GET', `/${id}/filestatus`, { accept })).json?.data
    expect(size).toBeGreaterThan(0)
    expect((await call('GET', `/${id}/file_status`, { accept })).json?.data).toBe(size)
    expect((await call('GET', `/${id}/result_path`, { accept })).status).toBe(200)

    for (const download of ['result', 'result_download']) {
      const whole = await call('GET', `/${id}/${download}`, { accept })
      expect(whole.status).toBe(200)
      const etag = whole.headers.get('etag') ?? ''
      expect((await call('HEAD', `/${id}/${download}`, { accept })).status).toBe(200)
      const part = await call('GET', `/${id}/${download}`, {
        accept,
        headers: { Range: 'bytes=0-3' },
      })
      expect(part.status).toBe(206)
      expect(
        (await call('HEAD', `/${id}/${download}`, { accept, headers: { Range: 'bytes=-2' } }))
          .status,
      ).toBe(206)
      const unchanged = { accept, headers: { 'If-None-Match': etag } }
      expect((await call('GET', `/${id}/${download}`, unchanged)).status).toBe(304)
      expect((await call('HEAD', `/${id}/${download}`, unchanged)).status).toBe(304)
      const past = { accept, headers: { Range: `bytes=${Number(size) + 10}-` } }
      expect((await call('GET', `/${id}/${download}`, past)).status).toBe(416)
    }
    expect((await call('GET', `/${id}/result_download?format=bogus`, { accept })).status).toBe(400)
    expect(
      (await call('GET', `/${id}/result_download?include_header=true`, { accept })).status,
    ).toBe(200)

    expect((await call('DELETE', `/stop/${id}`, { accept })).status).toBe(409)
    expect((await call('DELETE', `/${id}`, { accept })).json?.data).toBe(true)
    const gone = await call('GET', `/${id}/status`, { accept })
    expect(gone.json?.data).toMatchObject({ status: 'MISSING' })
    expect((await call('GET', `/${id}/metadata`, { accept })).status).toBe(404)
    expect((await call('DELETE', `/${id}`, { accept })).status).toBe(404)
    expect((await call('GET', `/${id}/result_path`, { accept })).status).toBe(404)
    expect((await call('DELETE', `/stop/${id}`, { accept })).status).toBe(404)
  })

  it('stopping, failing, repeating with an Idempotency-Key, and deleting everything', async () => {
    holdUpstream(deps)
    const held = idOf(await call('POST', '', { accept, body: { sql: 'select 1' } }))
    expect((await call('DELETE', `/stop/${held}`, { accept })).status).toBe(200)
    await deps.settle()
    const stopped = await call('GET', `/${held}/status`, { accept })
    expect(stopped.json?.data).toMatchObject({ status: 'FAILED' })

    deps.setQueryHandler(async () => toStream(SALES))
    const keyed = { accept, headers: { 'Idempotency-Key': 'nightly-export' } }
    const first = await call('POST', '', { ...keyed, body: { sql: 'select 2' } })
    await deps.settle()
    const again = await call('POST', '', { ...keyed, body: { sql: 'select 2' } })
    expect(again.json?.data).toMatchObject({ status: 'SUCCESSFUL' })
    expect(idOf(again)).toBe(idOf(first))
    expect((await call('POST', '', { ...keyed, body: { sql: 'select 3' } })).status).toBe(409)

    deps.setQueryHandler(async () => {
      throw new Error('Object FAIL not found')
    })
    const failing = idOf(await call('POST', '', { accept, body: { sql: 'select fail' } }))
    await deps.settle()
    expect((await call('GET', `/${failing}/status`, { accept })).json?.data).toMatchObject({
      status: 'FAILED',
    })

    const cutoff = { accept, auth: ADMIN }
    expect(
      (await call('DELETE', '?project=DEFAULT&older_than=2000-01-01%2000:00:00', cutoff)).status,
    ).toBe(200)
    expect((await call('DELETE', '?project=DEFAULT', cutoff)).status).toBe(400)
    expect((await call('DELETE', '?older_than=yesterday&project=P', cutoff)).status).toBe(400)
    expect((await call('DELETE', '', { accept })).status).toBe(403)
    expect((await call('DELETE', '', cutoff)).json?.data).toBe(true)
  })

  it('downloads in every other format, and the answer to a format the gateway does not write', async () => {
    deps.setQueryHandler(async () => toStream(SALES))
    for (const format of ['json', 'ndjson', 'xlsx', 'parquet', 'arrow']) {
      const id = idOf(await call('POST', '', { accept, body: { sql: 'select 1', format } }))
      await deps.settle()
      for (const download of ['result', 'result_download']) {
        expect((await call('GET', `/${id}/${download}`, { accept })).status).toBe(200)
        const part = { accept, headers: { Range: 'bytes=0-3' } }
        expect((await call('GET', `/${id}/${download}`, part)).status).toBe(206)
        expect((await call('HEAD', `/${id}/${download}`, { accept })).status).toBe(200)
      }
    }
    const refused = await call('POST', '', { accept, body: { sql: 'select 1', format: 'txt' } })
    expect(refused.status).toBe(200)
    expect(refused.json?.data).toMatchObject({ status: 'FAILED' })
  })

  it('the query list, its refusals, and a submit answered by reuse', async () => {
    deps.setQueryHandler(async () => toStream(SALES))
    const first = idOf(await call('POST', '', { accept, body: { sql: 'select 1' } }))
    await deps.settle()
    const reused = await call('POST', '', {
      accept,
      body: { sql: ' select   1 ', reuse_max_age: 60 },
    })
    expect(reused.json?.data).toMatchObject({ status: 'SUCCESSFUL', reused: true })
    expect(idOf(reused)).toBe(first)
    const second = idOf(await call('POST', '', { accept, body: { sql: 'select 2' } }))
    await deps.settle()
    const page = await call('GET', '?limit=1', { accept })
    expect(page.status).toBe(200)
    const data = page.json?.data as { queries: Record<string, unknown>[]; next_cursor: string }
    expect(data.queries.map((q) => q.queryID ?? q.query_id)).toEqual([second])
    const next = await call('GET', `?limit=1&cursor=${data.next_cursor}`, { accept })
    expect(next.json?.data).toMatchObject({ next_cursor: null })
    const all = await call('GET', '?status=SUCCESSFUL&project=DEFAULT&user=ANALYST', {
      accept,
      auth: ADMIN,
    })
    expect((all.json?.data as { queries: unknown[] }).queries).toHaveLength(2)
    expect((await call('GET', '?user=ADMIN', { accept })).status).toBe(403)
    expect((await call('GET', '?limit=0', { accept })).status).toBe(400)
    expect((await call('GET', '', { accept, auth: null })).status).toBe(401)
  })

  it('the shadow report (admins), and its refusals', async () => {
    const report = await call('GET', '/shadow_report?hours=1', { accept, auth: ADMIN })
    expect(report.status).toBe(200)
    expect(report.json?.data).toMatchObject({ compared: 0, matched: 0, mismatches: [] })
    expect((await call('GET', '/shadow_report', { accept })).status).toBe(403)
    expect((await call('GET', '/shadow_report?hours=0', { accept, auth: ADMIN })).status).toBe(400)
  })

  it('signed links: made, downloaded in every format with no credentials, refused', async () => {
    deps.setQueryHandler(async () => toStream(SALES))
    /** The link's path below BASE, which `call` puts back in front. */
    const linkOf = async (id: string, body: unknown) => {
      const made = await call('POST', `/${id}/link`, { accept, body })
      expect(made.status).toBe(200)
      const url = (made.json?.data as { url: string }).url
      expect(url.startsWith(`${ORIGIN}${BASE}/link/`)).toBe(true)
      return url.slice(`${ORIGIN}${BASE}`.length)
    }
    const anonymous = (headers: Record<string, string> = {}) => ({ accept, auth: null, headers })
    for (const format of ['csv', 'json', 'ndjson', 'xlsx', 'parquet', 'arrow']) {
      const id = idOf(await call('POST', '', { accept, body: { sql: 'select 1', format } }))
      await deps.settle()
      const link = await linkOf(id, { ttl: 60 })
      expect((await call('GET', link, anonymous())).status).toBe(200)
      expect((await call('GET', link, anonymous({ Range: 'bytes=0-3' }))).status).toBe(206)
      expect((await call('HEAD', link, anonymous())).status).toBe(200)
      expect((await call('HEAD', link, anonymous({ Range: 'bytes=-2' }))).status).toBe(206)
    }
    const id = idOf(await call('POST', '', { accept, body: { sql: 'select 1' } }))
    await deps.settle()
    const link = await linkOf(id, { ttl: 5 })
    const etag = (await call('GET', link, anonymous())).headers.get('etag') ?? ''
    expect((await call('GET', link, anonymous({ 'If-None-Match': etag }))).status).toBe(304)
    expect((await call('GET', link, anonymous({ Range: 'bytes=9999-' }))).status).toBe(416)
    expect((await call('GET', `${link}?format=json`, anonymous())).status).toBe(403)
    const converted = await linkOf(id, { ttl: 60, format: 'xlsx' })
    expect((await call('GET', converted, anonymous())).status).toBe(200)
    expect((await call('POST', `/${id}/link`, { accept, body: { ttl: 0 } })).status).toBe(400)
    expect((await call('POST', `/${id}/link`, { accept, auth: MODELER })).status).toBe(403)
    expect((await call('POST', `/${id}/link`, { accept, auth: null })).status).toBe(401)
    deps.advance(10_000)
    expect((await call('GET', link, anonymous())).status).toBe(410)
    expect((await call('DELETE', `/${id}`, { accept })).status).toBe(200)
    expect((await call('GET', converted, anonymous())).status).toBe(404)
    expect((await call('POST', `/${id}/link`, { accept })).status).toBe(404)
  })

  it('errors: credentials, ownership, bad bodies and sizes', async () => {
    deps.setQueryHandler(async () => toStream(SALES))
    const id = idOf(await call('POST', '', { accept, body: { sql: 'select 1' } }))
    await deps.settle()
    expect((await call('GET', `/${id}/status`, { accept, auth: null })).status).toBe(401)
    expect((await call('POST', '', { accept, auth: null, body: { sql: 'x' } })).status).toBe(401)
    for (const path of ['status', 'metadata', 'filestatus', 'file_status', 'result_path']) {
      expect((await call('GET', `/${id}/${path}`, { accept, auth: MODELER })).status).toBe(403)
    }
    expect((await call('GET', `/${id}/result`, { accept, auth: MODELER })).status).toBe(403)
    expect((await call('DELETE', `/${id}`, { accept, auth: MODELER })).status).toBe(403)
    expect((await call('DELETE', `/stop/${id}`, { accept, auth: MODELER })).status).toBe(403)
    expect((await call('POST', '', { accept, body: { sql: 1 } })).status).toBe(400)
    expect((await call('POST', '', { accept, body: 'not json' })).status).toBe(400)
    expect(
      (await call('POST', '', { accept, body: { sql: 'x' }, headers: { 'Idempotency-Key': '' } }))
        .status,
    ).toBe(400)
    expect((await call('POST', '', { accept, body: { sql: 'x'.repeat(5000) } })).status).toBe(413)
  })
})

describe('coverage of the document by real answers', () => {
  it('saw every documented success answer under every media type it offers', () => {
    const expected: string[] = []
    for (const [template, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        for (const [status, response] of Object.entries(
          operation.responses as Record<string, unknown>,
        )) {
          if (!/^2/.test(status)) continue
          const types = Object.keys((inline(response) as { content?: object }).content ?? {})
          // HEAD answers carry the type a GET would; their own entry lists none.
          if (types.length === 0) expected.push(`${method.toUpperCase()} ${template} ${status}`)
          for (const type of types) {
            expected.push(`${method.toUpperCase()} ${template} ${status} ${type}`)
          }
        }
      }
    }
    const seen = [...covered].map((entry) =>
      entry.startsWith('HEAD ') ? entry.split(' ').slice(0, 3).join(' ') : entry,
    )
    expect(expected.filter((entry) => !seen.includes(entry))).toEqual([])
    expect(expected.length).toBeGreaterThan(40)
  })
})
