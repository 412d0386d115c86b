/**
 * HTTP behaviour of /kylin/api/async_query through app.request(): every endpoint, every
 * dialect, every error path, with a scripted upstream and the memory store.
 */
import { createHash } from 'node:crypto'
import { beforeEach, describe, expect, it } from 'vitest'
import { createApp, createGateway } from '../../src/app.ts'
import { UpstreamError } from '../../src/errors.ts'
import { createMemoryRegistry } from '../../src/registry/memory.ts'
import {
  ADMIN,
  ANALYST,
  MODELER,
  basic,
  makeTestDeps,
  toSqlResponse,
  toStream,
  type TestDeps,
} from '../support/test-deps.ts'

const V2 = 'application/vnd.apache.kylin-v2+json'
const V4 = 'application/vnd.apache.kylin-v4-public+json'
const BASE = 'http://gateway.test/kylin/api/async_query'

let deps: TestDeps
let app: ReturnType<typeof createApp>

beforeEach(() => {
  deps = makeTestDeps()
  app = createApp(deps)
})

interface CallOptions {
  auth?: string | null
  accept?: string
  lang?: string
  body?: unknown
  contentType?: string
  headers?: Record<string, string>
}

function call(method: string, path: string, options: CallOptions = {}) {
  const headers: Record<string, string> = {}
  const auth = options.auth === undefined ? ANALYST : options.auth
  if (auth) headers.Authorization = auth
  if (options.accept) headers.Accept = options.accept
  if (options.lang) headers['Accept-Language'] = options.lang
  Object.assign(headers, options.headers)
  let body: string | undefined
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body)
    headers['Content-Type'] = options.contentType ?? 'application/json'
  }
  return app.request(`${BASE}${path}`, { method, headers, body })
}

async function submit(
  body: unknown = { sql: 'select * from kylin_sales' },
  options: CallOptions = {},
) {
  const res = await call('POST', '', { ...options, body })
  expect(res.status).toBe(200)
  const json = (await res.json()) as { data: Record<string, string> }
  return (json.data.queryID ?? json.data.query_id) as string
}

async function submitAndWait(body?: unknown, options?: CallOptions) {
  const id = await submit(body, options)
  await deps.settle()
  return id
}

describe('submit', () => {
  it('answers RUNNING at once in the legacy shape for plain JSON', async () => {
    const res = await call('POST', '', { body: { sql: 'select 1', project: 'learn_kylin' } })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/json;charset=UTF-8')
    const json = await res.json()
    expect(json).toEqual({
      code: '000',
      data: {
        queryID: expect.stringMatching(/^[0-9a-f-]{36}$/),
        status: 'RUNNING',
        info: 'still running',
      },
      msg: '',
    })
  })

  it('echoes the KAP v2 media type and keeps queryID', async () => {
    const res = await call('POST', '', { accept: V2, body: { sql: 'select 1' }, contentType: V2 })
    expect(res.headers.get('content-type')).toBe(`${V2};charset=UTF-8`)
    const json = (await res.json()) as { data: Record<string, string> }
    expect(Object.keys(json.data)).toEqual(['queryID', 'status', 'info'])
  })

  it('answers the Kylin 5 shape for the v4 media types', async () => {
    for (const accept of [V4, 'application/vnd.apache.kylin-v4+json']) {
      const res = await call('POST', '', { accept, body: { sql: 'select 1' }, contentType: accept })
      expect(res.headers.get('content-type')).toBe(`${accept};charset=UTF-8`)
      const json = (await res.json()) as { data: Record<string, string> }
      expect(json.data).toEqual({
        query_id: expect.any(String),
        status: 'RUNNING',
        info: 'query still running',
      })
    }
  })

  it('answers in Chinese for Accept-Language cn', async () => {
    const res = await call('POST', '', { lang: 'cn', body: { sql: 'select 1' } })
    const json = (await res.json()) as { data: Record<string, string> }
    expect(json.data.info).toBe('仍在运行')
  })

  it('sends the query with defaults to the upstream with the caller credentials', async () => {
    let seen: string | undefined
    deps.setQueryHandler(async (_q, credentials) => {
      seen = credentials.authorization
      return toStream(toSqlResponse([], []))
    })
    await submitAndWait({ sql: 'select 1' })
    await submitAndWait({
      sql: 'select 2',
      project: 'learn_kylin',
      offset: '5',
      limit: 10,
      acceptPartial: true,
    })
    expect(deps.queries).toEqual([
      { sql: 'select 1', project: 'DEFAULT', offset: 0, limit: 0, acceptPartial: false },
      { sql: 'select 2', project: 'learn_kylin', offset: 5, limit: 10, acceptPartial: true },
    ])
    expect(seen).toBe(ANALYST)
  })

  it('gives every submit a fresh id', async () => {
    const a = await submit()
    const b = await submit()
    expect(a).not.toBe(b)
  })

  it.each([
    ['not JSON', '{"sql": ', 'not valid JSON'],
    ['an array', '[{"sql":"select 1"}]', 'not valid JSON'],
    ['no sql', { project: 'p' }, 'sql is required'],
    ['a numeric sql', { sql: 5 }, 'sql is required'],
    ['a negative limit', { sql: 'select 1', limit: -1 }, 'limit must be 0 or more'],
    ['a fractional offset', { sql: 'select 1', offset: 1.5 }, 'offset must be a whole number'],
    ['a bad boolean', { sql: 'select 1', include_header: 'yes' }, 'include_header'],
    [
      'a file name with a slash',
      { sql: 'select 1', file_name: '../x' },
      'file_name must not contain',
    ],
    // An unsupported format or encoding answers as Kylin 5 does, HTTP 200:
    // test/api/result-formats.test.ts.
  ])('rejects %s with 400 and a clear message', async (_what, body, message) => {
    const res = await call('POST', '', { body })
    expect(res.status).toBe(400)
    const json = (await res.json()) as Record<string, unknown>
    expect(json.code).toBe('999')
    expect(json.data).toBeNull()
    expect(json.msg).toContain(message)
    expect(JSON.stringify(json)).not.toMatch(/\bat .*\.ts:\d+/)
    expect(deps.queries).toHaveLength(0)
  })

  it('rejects empty SQL with Kylin 5 text and error code', async () => {
    const res = await call('POST', '', { body: { sql: '  ' } })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({
      code: '999',
      msg: 'SQL can’t be empty. Please check and try again.',
      error_code: 'KE-010014004',
    })
  })

  it('rejects a body over MAX_BODY_BYTES with 413', async () => {
    deps = makeTestDeps({ maxBodyBytes: 100 })
    app = createApp(deps)
    const res = await call('POST', '', { body: { sql: `select '${'x'.repeat(200)}'` } })
    expect(res.status).toBe(413)
    expect(((await res.json()) as { msg: string }).msg).toContain('100 bytes')
  })
})

describe('authentication', () => {
  it('answers 401 with a Kylin envelope when no credentials are sent', async () => {
    const res = await call('GET', `/${crypto.randomUUID()}/status`, { auth: null })
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toContain('Basic')
    const json = (await res.json()) as Record<string, unknown>
    expect(json).toMatchObject({ code: '999', data: null })
    expect(json.msg).toContain('Unauthorized')
  })

  it('answers 401 when the upstream rejects the credentials, before anything runs', async () => {
    const res = await call('POST', '', { auth: basic('ADMIN', 'wrong'), body: { sql: 'select 1' } })
    expect(res.status).toBe(401)
    expect(((await res.json()) as { msg: string }).msg).toContain('rejected')
    expect(deps.queries).toHaveLength(0)
  })

  it('asks the upstream once per credential while cached', async () => {
    await call('GET', `/${crypto.randomUUID()}/status`)
    await call('GET', `/${crypto.randomUUID()}/status`)
    expect(deps.authCalls).toBe(1)
  })

  it('answers 502 with a clear message when the upstream cannot verify credentials', async () => {
    deps.kylin.authenticate = async () => {
      throw new UpstreamError(
        'Cannot reach the upstream Kylin at http://kylin.test:7070: ECONNREFUSED',
      )
    }
    const res = await call('GET', `/${crypto.randomUUID()}/status`)
    expect(res.status).toBe(502)
    expect(((await res.json()) as { msg: string }).msg).toBe(
      'Cannot verify the credentials: Cannot reach the upstream Kylin at http://kylin.test:7070: ECONNREFUSED',
    )
  })
})

describe('status', () => {
  it('goes RUNNING → SUCCESSFUL', async () => {
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    deps.setQueryHandler(async () => {
      await gate
      return toStream(toSqlResponse([], []))
    })
    const id = await submit()
    const running = await (await call('GET', `/${id}/status`)).json()
    expect(running).toEqual({
      code: '000',
      data: {
        queryID: id,
        status: 'RUNNING',
        info: 'still running',
        rows_written: 0,
        bytes_written: 0,
      },
      msg: '',
    })
    release()
    await deps.settle()
    const done = await (await call('GET', `/${id}/status`, { accept: V4 })).json()
    expect(done).toEqual({
      code: '000',
      data: {
        query_id: id,
        status: 'SUCCESSFUL',
        info: 'await fetching results',
        rows: 0,
        bytes: 0,
        sha256: sha256Of(''),
      },
      msg: '',
    })
  })

  it('is FAILED with the upstream message, newlines dropped, and no blob kept', async () => {
    deps.setQueryHandler(async () => {
      throw new UpstreamError('Object \'X\' not found\nwhile executing SQL: "select * from x"')
    })
    const id = await submitAndWait()
    const json = (await (await call('GET', `/${id}/status`)).json()) as {
      data: Record<string, string>
    }
    expect(json.data).toEqual({
      queryID: id,
      status: 'FAILED',
      // Kylin joins the lines of a failure message with "", so the newline simply disappears.
      info: 'Object \'X\' not foundwhile executing SQL: "select * from x"',
    })
    expect(await deps.store.head(`${id}.csv`)).toBeNull()
  })

  it('is FAILED when the upstream answers isException', async () => {
    deps.setQueryHandler(async () =>
      toStream(
        toSqlResponse([], [], { isException: true, exceptionMessage: 'No realization found' }),
      ),
    )
    const id = await submitAndWait()
    const json = (await (await call('GET', `/${id}/status`)).json()) as {
      data: Record<string, string>
    }
    expect(json.data.status).toBe('FAILED')
    expect(json.data.info).toBe('No realization found')
    expect(await deps.store.head(`${id}.csv`)).toBeNull()
  })

  it('is MISSING for unknown ids, ids that are not UUIDs, and another project', async () => {
    const id = await submitAndWait()
    for (const path of [
      `/${crypto.randomUUID()}/status`,
      '/not-a-uuid/status',
      '/..%2F..%2Fetc%2Fpasswd/status',
      `/${id}/status?project=other`,
    ]) {
      const json = (await (await call('GET', path)).json()) as { data: Record<string, string> }
      expect(json.data.status).toBe('MISSING')
      expect(json.data.info).toBe('query status is lost')
    }
  })
})

describe('results', () => {
  it('serves metadata, file size, result and result_download', async () => {
    const id = await submitAndWait()
    const meta = await (await call('GET', `/${id}/metadata`)).json()
    const expected = 'Auction,11,123.45\n"Others, ""quoted""",,7\n上海,0,"1\n2"\n'
    const size = new TextEncoder().encode(expected).byteLength
    // Kylin's envelope, with what the result is beside `data`.
    expect(meta).toEqual({
      code: '000',
      data: [
        ['LSTG_FORMAT_NAME', 'SLR_SEGMENT_CD', 'GMV'],
        ['VARCHAR', 'SMALLINT', 'DECIMAL'],
      ],
      msg: '',
      rows: 3,
      bytes: size,
      sha256: sha256Of(expected),
    })
    for (const path of ['filestatus', 'file_status']) {
      expect(await (await call('GET', `/${id}/${path}`)).json()).toEqual({
        code: '000',
        data: size,
        msg: '',
      })
    }
    const result = await call('GET', `/${id}/result`)
    expect(result.status).toBe(200)
    expect(result.headers.get('content-type')).toBe('text/csv;charset=utf-8')
    expect(result.headers.get('content-disposition')).toBe('attachment; filename="result.csv"')
    expect(result.headers.get('content-length')).toBe(String(size))
    expect(await result.text()).toBe(expected)

    const download = await call('GET', `/${id}/result_download`, { accept: V4 })
    expect(download.headers.get('content-type')).toBe('application/csv;charset=utf-8')
    expect(download.headers.get('repr-digest')).toBe(
      `sha-256=:${createHash('sha256').update(expected).digest('base64')}:`,
    )
    expect(await download.text()).toBe(expected)
    // A range is part of the same representation, so it carries the same digest.
    const part = await call('GET', `/${id}/result_download`, { headers: { Range: 'bytes=0-3' } })
    expect(part.status).toBe(206)
    expect(part.headers.get('repr-digest')).toBe(download.headers.get('repr-digest'))
    // A gzipped answer is another representation: no digest of the stored bytes on it.
    const gzipped = await call('GET', `/${id}/result`, { headers: { 'Accept-Encoding': 'gzip' } })
    expect(gzipped.headers.get('content-encoding')).toBe('gzip')
    expect(gzipped.headers.get('repr-digest')).toBeNull()
  })

  it('applies separator, include_header and file_name from the submit', async () => {
    const id = await submitAndWait({
      sql: 'select 1',
      separator: '|',
      include_header: true,
      file_name: 'sales_2024',
    })
    const res = await call('GET', `/${id}/result_download`, { accept: V2 })
    expect(res.headers.get('content-type')).toBe('text/csv;charset=utf-8')
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="sales_2024.csv"')
    expect(await res.text()).toBe(
      'LSTG_FORMAT_NAME|SLR_SEGMENT_CD|GMV\nAuction|11|123.45\n"Others, ""quoted"""||7\n上海|0|"1\n2"\n',
    )
  })

  it('encodes a non-ASCII file name in Content-Disposition', async () => {
    const id = await submitAndWait({ sql: 'select 1', file_name: '销售' })
    const res = await call('GET', `/${id}/result_download`)
    expect(res.headers.get('content-disposition')).toBe(
      `attachment; filename="__.csv"; filename*=UTF-8''${encodeURIComponent('销售.csv')}`,
    )
  })

  it('takes the download-time header choice that Kylin 5 refuses, in either spelling', async () => {
    const id = await submitAndWait()
    for (const query of ['includeHeader=true', 'include_header=true']) {
      const res = await call('GET', `/${id}/result_download?${query}`)
      expect(res.status).toBe(200)
      expect(await res.text()).toMatch(/^LSTG_FORMAT_NAME,SLR_SEGMENT_CD,GMV\n/)
    }
  })

  it('gives the store location as result_path', async () => {
    const id = await submitAndWait()
    expect(await (await call('GET', `/${id}/result_path`)).json()).toEqual({
      code: '000',
      data: `memory://${id}.csv`,
      msg: '',
    })
  })

  it('answers 404 with Kylin text for unknown and not-ready queries', async () => {
    deps.setQueryHandler(() => new Promise(() => {}))
    const running = await submit()
    for (const id of [crypto.randomUUID(), running, 'nope']) {
      for (const path of ['metadata', 'filestatus', 'file_status', 'result', 'result_download']) {
        const res = await call('GET', `/${id}/${path}`)
        expect(res.status).toBe(404)
        const json = (await res.json()) as Record<string, unknown>
        expect(json.code).toBe('999')
        expect(json.msg).toBe(
          'Can’t find the query by this query ID in this project. Please check and try again.',
        )
      }
    }
    const path = await call('GET', `/${crypto.randomUUID()}/result_path`)
    expect(path.status).toBe(404)
  })
})

describe('ownership', () => {
  const denials: [string, string, unknown][] = [
    ['status', 'Access denied. Only task submitters or admin users can get the query status', null],
    ['metadata', 'Access denied. Only task submitters or admin users can get the metadata', null],
    ['filestatus', 'Access denied. Only task submitters or admin users can get the file status', 0],
    [
      'file_status',
      'Access denied. Only task submitters or admin users can get the file status',
      0,
    ],
    [
      'result',
      'Access denied. Only task submitters or admin users can download the query results',
      null,
    ],
    [
      'result_download',
      'Access denied. Only task submitters or admin users can download the query results',
      null,
    ],
    [
      'result_path',
      'Access denied. Only task submitters or admin users can get the query path',
      '',
    ],
  ]

  it.each(denials)(
    'refuses %s to another user with 403 and Kylin code 401',
    async (path, msg, data) => {
      const id = await submitAndWait()
      const res = await call('GET', `/${id}/${path}`, { auth: MODELER })
      expect(res.status).toBe(403)
      const json = (await res.json()) as Record<string, unknown>
      expect(json).toMatchObject({ code: '401', data, msg })
      expect(JSON.stringify(json)).not.toContain('Auction')
    },
  )

  it.each(denials)('lets an admin read %s of anyone', async (path) => {
    const id = await submitAndWait()
    const res = await call('GET', `/${id}/${path}`, { auth: ADMIN })
    expect(res.status).toBe(200)
  })

  it('lets only the owner or an admin delete one query', async () => {
    const id = await submitAndWait()
    const denied = await call('DELETE', `/${id}`, { auth: MODELER })
    expect(denied.status).toBe(403)
    expect(await denied.json()).toMatchObject({
      code: '401',
      data: false,
      msg: 'Access denied. Only admin users can delete the query results',
    })
    const ok = await call('DELETE', `/${id}`)
    expect(await ok.json()).toEqual({ code: '000', data: true, msg: '' })
    const status = (await (await call('GET', `/${id}/status`)).json()) as {
      data: Record<string, string>
    }
    expect(status.data.status).toBe('MISSING')
    expect(await deps.store.head(`${id}.csv`)).toBeNull()
    const again = await call('DELETE', `/${id}`)
    expect(again.status).toBe(404)
  })

  it('stops a running query that is deleted, and its result never appears', async () => {
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    deps.setQueryHandler(async () => {
      await gate
      return toStream(toSqlResponse([{ name: 'A', type: 'VARCHAR' }], [['late']]))
    })
    const id = await submit()
    await call('DELETE', `/${id}`)
    release()
    await deps.settle()
    expect(await deps.store.head(`${id}.csv`)).toBeNull()
    const status = (await (await call('GET', `/${id}/status`)).json()) as {
      data: Record<string, string>
    }
    expect(status.data.status).toBe('MISSING')
  })

  it('lets only admins delete all', async () => {
    const mine = await submitAndWait()
    const theirs = await submitAndWait(undefined, { auth: MODELER })
    const denied = await call('DELETE', '', { auth: ANALYST })
    expect(denied.status).toBe(403)
    expect(await denied.json()).toMatchObject({
      code: '999',
      msg: 'Access denied. Only admin users can delete the query results',
      error_code: 'KE-010024001',
    })
    const ok = await call('DELETE', '', { auth: ADMIN })
    expect(await ok.json()).toEqual({ code: '000', data: true, msg: '' })
    for (const id of [mine, theirs]) {
      expect(await deps.registry.get(id)).toBeNull()
      expect(await deps.store.head(`${id}.csv`)).toBeNull()
    }
    const keys: string[] = []
    for await (const key of deps.store.list()) keys.push(key)
    expect(keys).toEqual([])
  })

  it('deletes by project and older_than, and checks the time format', async () => {
    const old = await submitAndWait({ sql: 'select 1', project: 'p1' })
    const other = await submitAndWait({ sql: 'select 1', project: 'p2' })
    const bad = await call('DELETE', '?project=p1&older_than=2011-11/11%2011:11:11', {
      auth: ADMIN,
    })
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({ error_code: 'KE-010031303' })
    const half = await call('DELETE', '?project=p1', { auth: ADMIN })
    expect(half.status).toBe(400)
    const ok = await call('DELETE', '?project=p1&older_than=2999-01-01%2000:00:00', { auth: ADMIN })
    expect(await ok.json()).toEqual({ code: '000', data: true, msg: '' })
    expect(await deps.registry.get(old)).toBeNull()
    expect(await deps.registry.get(other)).not.toBeNull()
  })
})

describe('concurrency', () => {
  it('runs at most MAX_CONCURRENT_QUERIES upstream; the rest wait RUNNING', async () => {
    deps = makeTestDeps({ maxConcurrentQueries: 2 })
    app = createApp(deps)
    let inFlight = 0
    let maxInFlight = 0
    const releases: (() => void)[] = []
    deps.setQueryHandler(async () => {
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      await new Promise<void>((resolve) => releases.push(resolve))
      inFlight--
      return toStream(toSqlResponse([], []))
    })
    const ids = await Promise.all([1, 2, 3, 4, 5].map(() => submit()))
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(inFlight).toBe(2)
    for (const id of ids) {
      const json = (await (await call('GET', `/${id}/status`)).json()) as {
        data: Record<string, string>
      }
      expect(json.data.status).toBe('RUNNING')
    }
    while (releases.length > 0 || inFlight > 0) {
      releases.splice(0).forEach((release) => release())
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    await deps.settle()
    expect(maxInFlight).toBe(2)
    for (const id of ids) {
      const json = (await (await call('GET', `/${id}/status`)).json()) as {
        data: Record<string, string>
      }
      expect(json.data.status).toBe('SUCCESSFUL')
    }
  })
})

describe('the rest of the app', () => {
  it('passes other /kylin/* requests through', async () => {
    const seen: string[] = []
    deps.fetch = async (input) => {
      seen.push(input instanceof Request ? input.url : String(input))
      return new Response('{"code":"000"}', { status: 200 })
    }
    app = createApp(deps)
    const res = await app.request('http://gateway.test/kylin/api/projects?limit=1', {
      headers: { Authorization: ADMIN },
    })
    expect(res.status).toBe(200)
    expect(seen).toEqual(['http://kylin.test:7070/kylin/api/projects?limit=1'])
  })

  it('answers /healthz without credentials', async () => {
    const res = await app.request('http://gateway.test/healthz')
    expect(res.status).toBe(200)
  })

  it('answers unknown paths outside /kylin with a 404 envelope', async () => {
    const res = await app.request('http://gateway.test/nope')
    expect(res.status).toBe(404)
    expect(await res.json()).toMatchObject({
      code: '999',
      data: null,
      msg: 'No such API: GET /nope',
    })
  })
})

describe('limits and stopping', () => {
  const blockForever = () => new Promise<ReadableStream<Uint8Array>>(() => {})

  it('stops a running query as Kylin 5 does; it ends FAILED saying who stopped it', async () => {
    deps.setQueryHandler(
      (_q, _c, signal) =>
        new Promise((_resolve, reject) => {
          signal?.addEventListener('abort', () => reject(signal.reason))
        }),
    )
    const id = await submit()
    const denied = await call('DELETE', `/stop/${id}`, { auth: MODELER })
    expect(denied.status).toBe(403)
    expect(await denied.json()).toMatchObject({
      code: '401',
      data: 'Access denied.',
      msg: 'Access denied. Only admin users can stop the query',
    })
    const stopped = await call('DELETE', `/stop/${id}`)
    expect(await stopped.json()).toEqual({
      code: '000',
      data: '',
      msg: `Async Query（id=${id}） will be canceled`,
    })
    await deps.settle()
    const status = (await (await call('GET', `/${id}/status`)).json()) as {
      data: Record<string, string>
    }
    expect(status.data).toMatchObject({
      status: 'FAILED',
      info: 'The query was stopped by ANALYST before it finished.',
    })
    const again = await call('DELETE', `/stop/${id}`)
    expect(again.status).toBe(409)
    expect(await again.json()).toMatchObject({
      code: '999',
      data: 'Query is not running',
      msg: 'Query is not running. please check',
    })
    expect((await call('DELETE', `/stop/${crypto.randomUUID()}`)).status).toBe(404)
  })

  it('answers 429 with Retry-After when MAX_QUEUED_QUERIES are waiting', async () => {
    deps = makeTestDeps({ maxConcurrentQueries: 1, maxConcurrentPerUser: 1, maxQueuedQueries: 1 })
    app = createApp(deps)
    deps.setQueryHandler(blockForever)
    await submit()
    await submit()
    await new Promise((resolve) => setTimeout(resolve, 5))
    const refused = await call('POST', '', { body: { sql: 'select 1' } })
    expect(refused.status).toBe(429)
    expect(refused.headers.get('retry-after')).toBe('5')
    expect(await refused.json()).toMatchObject({
      code: '999',
      error_code: 'KE-020040002',
      msg: 'Query failed cause the total number of async queries hit the upper limit set by Admin.Please wait and try again.',
    })
  })

  it('answers 429 when the registry is full of running queries, and evicts none of them', async () => {
    deps.registry = createMemoryRegistry({ maxRecords: 2 })
    app = createApp(deps)
    const releases: (() => void)[] = []
    deps.setQueryHandler(async () => {
      await new Promise<void>((resolve) => releases.push(resolve))
      return toStream(toSqlResponse([{ name: 'A', type: 'VARCHAR' }], [['kept']]))
    })
    const running = [await submit(), await submit()]
    const refused = await call('POST', '', { body: { sql: 'select 1' } })
    expect(refused.status).toBe(429)
    expect(refused.headers.get('retry-after')).toBe('5')
    expect(await refused.json()).toMatchObject({
      code: '999',
      data: null,
      error_code: 'KE-020040002',
      msg: 'All 2 queries the gateway keeps (MAX_QUERIES) are still running, so no new query can be recorded. Please wait for one to finish and try again.',
    })
    releases.splice(0).forEach((release) => release())
    await deps.settle()
    for (const id of running) {
      expect(await (await call('GET', `/${id}/result`)).text()).toBe('kept\n')
    }
    // A finished query makes room again.
    deps.setQueryHandler(async () => toStream(toSqlResponse([], [])))
    await submitAndWait()
    expect(deps.queries).toHaveLength(3)
  })

  it('ends FAILED, keeping nothing, when a result exceeds MAX_RESULT_BYTES', async () => {
    deps = makeTestDeps({ maxResultBytes: 20 })
    app = createApp(deps)
    const id = await submitAndWait()
    const status = (await (await call('GET', `/${id}/status`)).json()) as {
      data: Record<string, string>
    }
    expect(status.data.status).toBe('FAILED')
    expect(status.data.info).toContain('larger than MAX_RESULT_BYTES (20 bytes)')
    expect(await deps.store.head(`${id}.csv`)).toBeNull()
  })

  it('deletes finished results older than RESULT_RETAIN, and nothing else', async () => {
    deps = makeTestDeps({ resultRetainMs: 60_000 })
    const gateway = createGateway(deps)
    app = gateway.app
    const old = await submitAndWait()
    deps.advance(61_000)
    const fresh = await submitAndWait()
    deps.setQueryHandler(() => new Promise(() => {}))
    const running = await submit()
    deps.advance(30_000)
    expect(await gateway.removeExpired()).toBe(1)
    expect(await deps.registry.get(old)).toBeNull()
    expect(await deps.store.head(`${old}.csv`)).toBeNull()
    expect(await deps.registry.get(fresh)).not.toBeNull()
    expect(await deps.registry.get(running)).not.toBeNull()
  })

  it('gives the same query for the same Idempotency-Key and request, 409 for another request', async () => {
    const keyed = (body: unknown, auth = ANALYST) =>
      app.request(BASE, {
        method: 'POST',
        headers: { Authorization: auth, 'Idempotency-Key': 'export-2026-01-02' },
        body: JSON.stringify(body),
      })
    const first = (await (await keyed({ sql: 'select 1' })).json()) as { data: { queryID: string } }
    await deps.settle()
    const again = await keyed({ sql: 'select 1' })
    expect(await again.json()).toEqual({
      code: '000',
      data: { queryID: first.data.queryID, status: 'SUCCESSFUL', info: 'query success' },
      msg: '',
    })
    expect(deps.queries).toHaveLength(1)
    const other = await keyed({ sql: 'select 2' })
    expect(other.status).toBe(409)
    expect(((await other.json()) as { msg: string }).msg).toContain('Idempotency-Key')
    // Keys belong to their user: another user's same key is another query.
    const theirs = (await (await keyed({ sql: 'select 1' }, MODELER)).json()) as {
      data: { queryID: string }
    }
    expect(theirs.data.queryID).not.toBe(first.data.queryID)
    // A gateway that knows the query only from its registry (a restart) finds it too.
    const restarted = createApp(deps)
    const afterRestart = await restarted.request(BASE, {
      method: 'POST',
      headers: { Authorization: ANALYST, 'Idempotency-Key': 'export-2026-01-02' },
      body: JSON.stringify({ sql: 'select 1' }),
    })
    expect(((await afterRestart.json()) as { data: { queryID: string } }).data.queryID).toBe(
      first.data.queryID,
    )
    const bad = await app.request(BASE, {
      method: 'POST',
      headers: { Authorization: ANALYST, 'Idempotency-Key': 'has space' },
      body: JSON.stringify({ sql: 'select 1' }),
    })
    expect(bad.status).toBe(400)
  })
})

function sha256Of(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}
