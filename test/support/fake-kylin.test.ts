/**
 * The loopback fake Kylin behaves like Kylin 2.x–4.x where the gateway's tests rely on it.
 * Node only (a real server on 127.0.0.1; global fetch as the client).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  BASIC,
  KYLIN_SALES_ROWS,
  startFakeKylin,
  toGeneratedRow,
  type FakeKylin,
} from './fake-kylin.ts'
import { SQL_RESPONSE_FIELDS } from './sql-response-fields.ts'

let fake: FakeKylin

beforeAll(async () => {
  fake = await startFakeKylin()
})

afterAll(async () => {
  await fake.close()
})

afterEach(() => {
  fake.setQueryHandler(null)
})

function query(sql: string, headers: Record<string, string> = { Authorization: BASIC.ADMIN }) {
  return fetch(`${fake.url}/kylin/api/query`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify({
      sql,
      project: 'learn_kylin',
      offset: 0,
      limit: 0,
      acceptPartial: false,
    }),
  })
}

describe('authentication', () => {
  it('answers 401 with a container HTML page to missing or wrong credentials', async () => {
    const attempts: Record<string, string>[] = [{}, { Authorization: 'Basic QURNSU46d3Jvbmc=' }]
    for (const headers of attempts) {
      const response = await query('select 1', headers)
      expect(response.status).toBe(401)
      expect(response.headers.get('content-type')).toMatch(/^text\/html/)
      expect(await response.text()).toContain('HTTP Status 401 – Unauthorized')
    }
    const projects = await fetch(`${fake.url}/kylin/api/projects`)
    expect(projects.status).toBe(401)
  })

  it('returns {userDetails} for good credentials and 401 for bad ones', async () => {
    const ok = await fetch(`${fake.url}/kylin/api/user/authentication`, {
      headers: { Authorization: BASIC.ANALYST },
    })
    expect(await ok.json()).toMatchObject({
      userDetails: { username: 'ANALYST', authorities: [{ authority: 'ROLE_ANALYST' }] },
    })
    const bad = await fetch(`${fake.url}/kylin/api/user/authentication`, {
      headers: { Authorization: 'Basic eDp5' },
    })
    expect(bad.status).toBe(401)
  })

  it('answers the Kylin 5 envelope with authShape kylin5', async () => {
    const five = await startFakeKylin({ authShape: 'kylin5' })
    try {
      const response = await fetch(`${five.url}/kylin/api/user/authentication`, {
        headers: { Authorization: BASIC.ADMIN },
      })
      expect(await response.json()).toMatchObject({
        code: '000',
        data: {
          username: 'ADMIN',
          authorities: expect.arrayContaining([{ authority: 'ROLE_ADMIN' }]),
        },
        msg: '',
      })
    } finally {
      await five.close()
    }
  })

  it('logs in by POST and then accepts the JSESSIONID cookie alone', async () => {
    const login = await fetch(`${fake.url}/kylin/api/user/authentication`, {
      method: 'POST',
      headers: { Authorization: BASIC.MODELER },
    })
    const setCookie = login.headers.get('set-cookie') ?? ''
    expect(setCookie).toMatch(/^JSESSIONID=[0-9A-F]{32}; Path=\/kylin; HttpOnly$/)
    const cookie = setCookie.split(';')[0] ?? ''

    const me = await fetch(`${fake.url}/kylin/api/user/authentication`, {
      headers: { Cookie: cookie },
    })
    expect(await me.json()).toMatchObject({ userDetails: { username: 'MODELER' } })
    expect((await query('select 1', { Cookie: cookie })).status).toBe(200)
    expect((await query('select 1', { Cookie: 'JSESSIONID=NOPE' })).status).toBe(401)
  })
})

describe('POST /kylin/api/query', () => {
  it('answers kylin_sales with a Kylin 2.x SQLResponse, results before isException', async () => {
    const response = await query('  SELECT * FROM kylin_sales  ')
    const text = await response.text()
    const body = JSON.parse(text) as Record<string, unknown>

    expect(response.status).toBe(200)
    expect(Object.keys(body)).toEqual(SQL_RESPONSE_FIELDS)
    expect(text.indexOf('"results"')).toBeLessThan(text.indexOf('"isException"'))
    expect(body.results).toEqual(KYLIN_SALES_ROWS)
    const cells = (body.results as (string | null)[][]).flat()
    expect(cells).toContain(null)
    expect(cells.some((c) => c?.includes(','))).toBe(true)
    expect(cells.some((c) => c?.includes('"'))).toBe(true)
    expect(cells.some((c) => c?.includes('\n'))).toBe(true)
    expect(cells).toContain('上海')
    const metas = body.columnMetas as Record<string, unknown>[]
    expect(metas[0]).toMatchObject({ name: 'TRANS_ID', columnType: -5, columnTypeName: 'BIGINT' })
    expect(Object.keys(metas[0] ?? {})).toHaveLength(19)
  })

  it("answers select '123\"','123' with EXPR$0 and EXPR$1", async () => {
    const body = (await (await query(`select '123"','123'`)).json()) as {
      columnMetas: { label: string }[]
      results: string[][]
    }

    expect(body.columnMetas.map((m) => m.label)).toEqual(['EXPR$0', 'EXPR$1'])
    expect(body.results).toEqual([['123"', '123']])
  })

  it('streams select * from rows_100000 in chunks that parse as one document', async () => {
    const response = await query('select * from rows_100000')
    expect(response.headers.get('transfer-encoding')).toBe('chunked')
    let chunks = 0
    let text = ''
    const decoder = new TextDecoder()
    const reader = response.body!.getReader()
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      chunks++
      text += decoder.decode(read.value, { stream: true })
    }
    const body = JSON.parse(text) as { results: string[][]; columnMetas: { name: string }[] }

    expect(chunks).toBeGreaterThan(1)
    expect(body.columnMetas.map((m) => m.name)).toEqual(['ID', 'NAME', 'PRICE'])
    expect(body.results).toHaveLength(100_000)
    expect(body.results[0]).toEqual(toGeneratedRow(1))
    expect(body.results[99_999]).toEqual(toGeneratedRow(100_000))
  })

  it('answers an unknown table with HTTP 500 and the Kylin 2.x error envelope', async () => {
    const response = await query('select * from no_such_table')
    const body = (await response.json()) as Record<string, unknown>
    const msg =
      "From line 1, column 15 to line 1, column 27: Object 'NO_SUCH_TABLE' not found\n" +
      'while executing SQL: "select * from no_such_table"'

    expect(response.status).toBe(500)
    expect(Object.keys(body)).toEqual(['code', 'data', 'msg', 'stacktrace', 'exception', 'url'])
    expect(body).toMatchObject({ code: '999', data: null, msg, exception: msg })
    expect(body.url).toBe(`${fake.url}/kylin/api/query`)
  })

  it('answers an empty SQL with HTTP 400', async () => {
    const response = await query('   ')

    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ code: '999', msg: 'SQL should not be empty.' })
  })

  it('answers is_exception with HTTP 200 and isException true', async () => {
    const body = (await (await query('select is_exception')).json()) as Record<string, unknown>

    expect(body.isException).toBe(true)
    expect(body.exceptionMessage).toMatch(/is_exception/)
  })

  it('sleeps on sleep_ms_N, counts in-flight queries and stops on disconnect', async () => {
    const started = Date.now()
    const controllers = Array.from({ length: 3 }, () => new AbortController())
    const pending = controllers.map((c) =>
      fetch(`${fake.url}/kylin/api/query`, {
        method: 'POST',
        headers: { Authorization: BASIC.ADMIN, 'Content-Type': 'application/json' },
        body: JSON.stringify({ sql: 'select 1 /* sleep_ms_5000 */', project: 'p' }),
        signal: c.signal,
      }).catch(() => null),
    )
    await expect.poll(() => fake.inFlight).toBeGreaterThanOrEqual(3)
    expect(fake.maxInFlight).toBeGreaterThanOrEqual(3)

    for (const c of controllers) c.abort()
    await Promise.all(pending)
    await expect.poll(() => fake.inFlight).toBe(0)
    expect(Date.now() - started).toBeLessThan(4_000)
  })

  it('answers after sleep_ms_N, then as the rest of the SQL says', async () => {
    const started = Date.now()
    const body = (await (await query('select * from rows_3 /* sleep_ms_150 */')).json()) as {
      results: string[][]
    }

    expect(Date.now() - started).toBeGreaterThanOrEqual(140)
    expect(body.results).toEqual([toGeneratedRow(1), toGeneratedRow(2), toGeneratedRow(3)])
  })

  it('records requests, and setQueryHandler takes over', async () => {
    fake.setQueryHandler((_req, res, ctx) => {
      res.writeHead(418, { 'Content-Type': 'text/plain' })
      res.end(`${ctx.user?.username}:${ctx.sql}`)
    })
    const response = await query('select 42')

    expect(response.status).toBe(418)
    expect(await response.text()).toBe('ADMIN:select 42')
    const recorded = fake.requests.at(-1)
    expect(recorded).toMatchObject({ method: 'POST', path: '/kylin/api/query' })
    expect(JSON.parse(recorded?.body ?? '')).toMatchObject({ sql: 'select 42' })
    expect(recorded?.headers.authorization).toBe(BASIC.ADMIN)
  })
})

describe('other /kylin paths', () => {
  it('echo what arrived, with a Set-Cookie', async () => {
    const response = await fetch(`${fake.url}/kylin/api/cubes?limit=1&offset=0`, {
      headers: { Authorization: BASIC.ADMIN, 'X-Custom': 'v' },
    })
    const body = (await response.json()) as Record<string, unknown>

    expect(response.status).toBe(200)
    expect(response.headers.get('set-cookie')).toMatch(/^echo=1/)
    expect(body).toMatchObject({
      method: 'GET',
      path: '/kylin/api/cubes',
      query: 'limit=1&offset=0',
      body: '',
    })
    expect(body.headers).toMatchObject({ 'x-custom': 'v', authorization: BASIC.ADMIN })
  })
})
