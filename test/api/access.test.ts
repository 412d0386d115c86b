/**
 * Who may do what, on every async-query endpoint and in all three dialects: no or rejected
 * credentials get 401 and change nothing; another non-admin learns nothing; owner and admin act.
 */
import { beforeEach, describe, expect, it } from 'vitest'
import { createApp } from '../../src/app.ts'
import { createKylinClient } from '../../src/upstream/client.ts'
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

const BASE = 'http://gateway.test/kylin/api/async_query'
const V2 = 'application/vnd.apache.kylin-v2+json'
const V4 = 'application/vnd.apache.kylin-v4-public+json'

interface Dialect {
  name: string
  accept: string
  idField: 'queryID' | 'query_id'
}

const DIALECTS: Dialect[] = [
  { name: 'plain JSON', accept: 'application/json', idField: 'queryID' },
  { name: 'KAP v2', accept: V2, idField: 'queryID' },
  { name: 'Kylin 5', accept: V4, idField: 'query_id' },
]

/** What the upstream's /kylin/api/user/authentication knows: Kylin 2–4's `{userDetails}`. */
const UPSTREAM_USERS: Record<string, { username: string; authorities: string[] }> = {
  [ADMIN]: { username: 'ADMIN', authorities: ['ROLE_ADMIN', 'ROLE_ANALYST'] },
  [ANALYST]: { username: 'ANALYST', authorities: ['ROLE_ANALYST'] },
  [MODELER]: { username: 'MODELER', authorities: ['ROLE_MODELER'] },
}

const UNAUTHORIZED_PAGE =
  '<!doctype html><html><head><title>HTTP Status 401 – Unauthorized</title></head>' +
  '<body><h1>HTTP Status 401 – Unauthorized</h1></body></html>'

/** The one column and cell of every result: none of it may reach a refused caller. */
const SECRET_COLUMN = 'SECRET_COLUMN'
const SECRET_CELL = 'secret-cell'
const SECRET_CSV = `${SECRET_CELL}\n`

interface Queries {
  /** ANALYST's finished query (a result in the store). */
  done: string
  /** ANALYST's query still running upstream. */
  running: string
}

interface Endpoint {
  name: string
  method: 'GET' | 'POST' | 'DELETE'
  path(q: Queries): string
  /** Kylin 5's refusal of another user: its message and `data`; absent where none applies. */
  denial?: { msg: string; data: unknown }
}

const SUBMIT: Endpoint = { name: 'submit', method: 'POST', path: () => '' }
const DELETE_ALL: Endpoint = { name: 'DELETE all', method: 'DELETE', path: () => '' }

/** Every endpoint that names one query, with what Kylin 5 answers a non-owner. */
const PER_QUERY: Endpoint[] = [
  {
    name: 'status',
    method: 'GET',
    path: (q) => `/${q.done}/status`,
    denial: {
      msg: 'Access denied. Only task submitters or admin users can get the query status',
      data: null,
    },
  },
  {
    name: 'metadata',
    method: 'GET',
    path: (q) => `/${q.done}/metadata`,
    denial: {
      msg: 'Access denied. Only task submitters or admin users can get the metadata',
      data: null,
    },
  },
  ...['filestatus', 'file_status'].map(
    (name): Endpoint => ({
      name,
      method: 'GET',
      path: (q) => `/${q.done}/${name}`,
      denial: {
        msg: 'Access denied. Only task submitters or admin users can get the file status',
        data: 0,
      },
    }),
  ),
  ...['result', 'result_download'].map(
    (name): Endpoint => ({
      name,
      method: 'GET',
      path: (q) => `/${q.done}/${name}`,
      denial: {
        msg: 'Access denied. Only task submitters or admin users can download the query results',
        data: null,
      },
    }),
  ),
  {
    name: 'result_path',
    method: 'GET',
    path: (q) => `/${q.done}/result_path`,
    denial: {
      msg: 'Access denied. Only task submitters or admin users can get the query path',
      data: '',
    },
  },
  {
    name: 'DELETE /stop/{id}',
    method: 'DELETE',
    path: (q) => `/stop/${q.running}`,
    denial: { msg: 'Access denied. Only admin users can stop the query', data: 'Access denied.' },
  },
  {
    name: 'DELETE /{id}',
    method: 'DELETE',
    path: (q) => `/${q.done}`,
    denial: { msg: 'Access denied. Only admin users can delete the query results', data: false },
  },
]

const EVERY_ENDPOINT = [SUBMIT, ...PER_QUERY, DELETE_ALL]

let deps: TestDeps
let app: ReturnType<typeof createApp>
let queries: Queries
/** Credentials the upstream's authentication endpoint was asked about. */
let upstreamAsked: string[]

beforeEach(async () => {
  deps = makeTestDeps()
  upstreamAsked = []
  // The real client against an upstream that answers 401 to anything it does not know, so
  // "rejected credentials" is Kylin's own 401 page going through the gateway's client.
  const upstream = createKylinClient({
    baseUrl: 'http://kylin.test:7070',
    fetch: async (_input, init) => {
      const headers = new Headers(init?.headers)
      const authorization = headers.get('authorization') ?? ''
      upstreamAsked.push(authorization || headers.get('cookie') || '')
      const user = UPSTREAM_USERS[authorization]
      if (!user) {
        return new Response(UNAUTHORIZED_PAGE, {
          status: 401,
          headers: { 'Content-Type': 'text/html;charset=utf-8' },
        })
      }
      return Response.json({
        userDetails: { ...user, authorities: user.authorities.map(toAuthority) },
      })
    },
  })
  deps.kylin.authenticate = upstream.authenticate
  deps.setQueryHandler((query, _credentials, signal) => {
    if (query.sql.includes('slow')) {
      return new Promise((_resolve, reject) => {
        signal?.addEventListener('abort', () => reject(signal.reason))
      })
    }
    return Promise.resolve(
      toStream(toSqlResponse([{ name: SECRET_COLUMN, type: 'VARCHAR' }], [[SECRET_CELL]])),
    )
  })
  app = createApp(deps)
  const done = await submitAs(ANALYST, 'select secret')
  await deps.settle()
  const running = await submitAs(ANALYST, 'select slow')
  queries = { done, running }
  upstreamAsked = []
})

function toAuthority(authority: string) {
  return { authority }
}

interface CallOptions {
  authorization?: string
  cookie?: string
  accept?: string
  method?: string
}

function call(endpoint: Endpoint, options: CallOptions = {}) {
  const headers: Record<string, string> = {}
  if (options.authorization) headers.Authorization = options.authorization
  if (options.cookie) headers.Cookie = options.cookie
  if (options.accept) headers.Accept = options.accept
  const method = options.method ?? endpoint.method
  const body = method === 'POST' ? JSON.stringify({ sql: 'select 1' }) : undefined
  if (body) headers['Content-Type'] = 'application/json'
  return app.request(`${BASE}${endpoint.path(queries)}`, { method, headers, body })
}

async function submitAs(authorization: string, sql: string): Promise<string> {
  const res = await app.request(BASE, {
    method: 'POST',
    headers: { Authorization: authorization, 'Content-Type': 'application/json' },
    body: JSON.stringify({ sql }),
  })
  expect(res.status).toBe(200)
  return ((await res.json()) as { data: { queryID: string } }).data.queryID
}

/** Nothing was run, stopped or deleted. */
async function expectUntouched() {
  expect(deps.queries).toHaveLength(2)
  expect(await deps.registry.get(queries.done)).toMatchObject({ state: 'SUCCESSFUL' })
  expect(await deps.store.head(`${queries.done}.csv`)).not.toBeNull()
  expect(await deps.registry.get(queries.running)).toMatchObject({ state: 'RUNNING' })
}

/** Nothing of the result in a refusal: no state, metadata, size, location or bytes. */
async function expectNothingLeaked(res: Response) {
  const size = String((await deps.registry.get(queries.done))?.bytes)
  for (const header of ['etag', 'last-modified', 'content-disposition', 'content-range']) {
    expect(res.headers.get(header), header).toBeNull()
  }
  const text = await res.text()
  for (const secret of [SECRET_COLUMN, SECRET_CELL, 'SUCCESSFUL', 'RUNNING', 'memory://']) {
    expect(text).not.toContain(secret)
  }
  if (text) expect((JSON.parse(text) as { data: unknown }).data).not.toBe(Number(size))
}

describe.each(DIALECTS)('access in the $name dialect', ({ accept, idField }) => {
  const mediaType = accept === 'application/json' ? 'application/json' : accept

  it.each(EVERY_ENDPOINT)('$name without credentials: 401, nothing happens', async (endpoint) => {
    const res = await call(endpoint, { accept })
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="Kylin"')
    expect(res.headers.get('content-type')).toBe(`${mediaType};charset=UTF-8`)
    const json = (await res.json()) as Record<string, unknown>
    expect(json).toMatchObject({
      code: '999',
      data: null,
      msg: 'Unauthorized. Please send the credentials of a Kylin user (HTTP Basic authentication).',
    })
    // Refused before the upstream is even asked who this is.
    expect(upstreamAsked).toEqual([])
    await expectUntouched()
  })

  it.each(EVERY_ENDPOINT)(
    '$name with credentials the upstream rejects: 401, nothing happens',
    async (endpoint) => {
      const wrongPassword = basic('ANALYST', 'wrong')
      for (const credentials of [
        { authorization: wrongPassword },
        { cookie: 'JSESSIONID=stale' },
      ]) {
        const res = await call(endpoint, { ...credentials, accept })
        expect(res.status).toBe(401)
        expect(res.headers.get('content-type')).toBe(`${mediaType};charset=UTF-8`)
        expect(await res.json()).toMatchObject({
          code: '999',
          data: null,
          msg: 'Unauthorized. The upstream Kylin rejected these credentials.',
        })
      }
      expect(upstreamAsked).toEqual([wrongPassword, 'JSESSIONID=stale'])
      await expectUntouched()
    },
  )

  it.each(PER_QUERY)(
    "$name of another user's query: refused with Kylin's code 401, nothing learned",
    async (endpoint) => {
      const res = await call(endpoint, { authorization: MODELER, accept })
      expect(res.status).toBe(403)
      const json = (await res.clone().json()) as Record<string, unknown>
      expect(json).toMatchObject({ code: '401', ...endpoint.denial })
      await expectNothingLeaked(res)
      await expectUntouched()
    },
  )

  it.each(PER_QUERY.filter((e) => e.name.startsWith('result')))(
    "HEAD $name of another user's query: refused without the file's headers",
    async (endpoint) => {
      const res = await call(endpoint, { authorization: MODELER, accept, method: 'HEAD' })
      expect(res.status).toBe(403)
      await expectNothingLeaked(res)
    },
  )

  it('DELETE all by a non-admin, owner or not: refused, nothing deleted', async () => {
    for (const authorization of [MODELER, ANALYST]) {
      const res = await call(DELETE_ALL, { authorization, accept })
      expect(res.status).toBe(403)
      expect(await res.json()).toMatchObject({
        code: '999',
        msg: 'Access denied. Only admin users can delete the query results',
        error_code: 'KE-010024001',
      })
    }
    await expectUntouched()
  })

  it.each([
    ['the owner', ANALYST],
    ['an admin', ADMIN],
  ])('%s may use every per-query endpoint', async (_who, authorization) => {
    const get = async (name: string) => {
      const endpoint = PER_QUERY.find((e) => e.name === name)!
      const res = await call(endpoint, { authorization, accept })
      expect(res.status, name).toBe(200)
      return res
    }
    const envelope = async (name: string) =>
      ((await (await get(name)).json()) as { code: string; data: unknown }).data
    const size = new TextEncoder().encode(SECRET_CSV).byteLength

    expect(await envelope('status')).toMatchObject({
      [idField]: queries.done,
      status: 'SUCCESSFUL',
    })
    expect(await envelope('metadata')).toEqual([[SECRET_COLUMN], ['VARCHAR']])
    expect(await envelope('filestatus')).toBe(size)
    expect(await envelope('file_status')).toBe(size)
    expect(await (await get('result')).text()).toBe(SECRET_CSV)
    expect(await (await get('result_download')).text()).toBe(SECRET_CSV)
    expect(await envelope('result_path')).toBe(`memory://${queries.done}.csv`)

    const stop = await get('DELETE /stop/{id}')
    expect(await stop.json()).toMatchObject({ code: '000', data: '' })
    await deps.settle()
    expect(await deps.registry.get(queries.running)).toMatchObject({ state: 'FAILED' })

    expect(await envelope('DELETE /{id}')).toBe(true)
    expect(await deps.registry.get(queries.done)).toBeNull()
    expect(await deps.store.head(`${queries.done}.csv`)).toBeNull()
  })

  it('an admin may delete all, and the owner may submit', async () => {
    const submitted = await call(SUBMIT, { authorization: ANALYST, accept })
    expect(submitted.status).toBe(200)
    expect(((await submitted.json()) as { data: Record<string, string> }).data).toMatchObject({
      status: 'RUNNING',
    })
    const res = await call(DELETE_ALL, { authorization: ADMIN, accept })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ code: '000', data: true, msg: '' })
    expect(await deps.registry.list()).toEqual([])
    expect(await deps.store.head(`${queries.done}.csv`)).toBeNull()
  })
})
