/**
 * Unit tests of the upstream Kylin client against undici's MockAgent (no network), plus a few
 * end-to-end checks through createUndiciFetch against the loopback fake Kylin. Node only.
 */
import { fetch as undiciFetch, MockAgent } from 'undici'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { UpstreamError } from '../../src/errors.ts'
import type { UpstreamQuery } from '../../src/domain/query.ts'
import { createUndiciFetch } from '../../src/runtime/node/undici-fetch.ts'
import { createKylinClient, type KylinClientOptions } from '../../src/upstream/client.ts'
import { BASIC, startFakeKylin, type FakeKylin } from '../support/fake-kylin.ts'

const ORIGIN = 'http://kylin.test:7070'
const ADMIN_AUTH = 'Basic QURNSU46S1lMSU4='
const QUERY: UpstreamQuery = {
  sql: 'select * from kylin_sales',
  project: 'learn_kylin',
  offset: 0,
  limit: 500,
  acceptPartial: false,
}
const JSON_HEADERS = { 'content-type': 'application/json;charset=UTF-8' }

let mockAgent: MockAgent

beforeEach(() => {
  mockAgent = new MockAgent()
  mockAgent.disableNetConnect()
})

afterEach(async () => {
  await mockAgent.close()
})

function client(options: Partial<KylinClientOptions> = {}) {
  return createKylinClient({
    baseUrl: ORIGIN,
    fetch: ((input: string, init?: RequestInit) =>
      undiciFetch(input, { ...init, dispatcher: mockAgent } as Parameters<
        typeof undiciFetch
      >[1])) as unknown as typeof fetch,
    ...options,
  })
}

function upstream() {
  return mockAgent.get(ORIGIN)
}

/** Case-insensitive view of the headers MockAgent hands a reply callback. */
function headerOf(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined
  for (const [key, value] of Object.entries(headers as Record<string, unknown>)) {
    if (key.toLowerCase() === name.toLowerCase()) return String(value)
  }
  return undefined
}

async function rejectionOf(promise: Promise<unknown>): Promise<UpstreamError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(UpstreamError)
  return error as UpstreamError
}

const KYLIN2_SQL_ERROR = {
  code: '999',
  data: null,
  msg:
    "From line 1, column 15 to line 1, column 27: Object 'NO_SUCH_TABLE' not found\n" +
    'while executing SQL: "select * from no_such_table"',
  stacktrace:
    'org.apache.kylin.rest.exception.InternalErrorException: From line 1 ...\n\tat org.apache.kylin',
  exception:
    "From line 1, column 15 to line 1, column 27: Object 'NO_SUCH_TABLE' not found\n" +
    'while executing SQL: "select * from no_such_table"',
  url: 'http://kylin.test:7070/kylin/api/query',
}

describe('query', () => {
  it('posts the exact JSON body with the caller credentials and the required headers', async () => {
    let seen: { body: unknown; headers: unknown } | undefined
    upstream()
      .intercept({ path: '/kylin/api/query', method: 'POST' })
      .reply((request) => {
        seen = { body: request.body, headers: request.headers }
        return {
          statusCode: 200,
          data: '{"results":[]}',
          responseOptions: { headers: JSON_HEADERS },
        }
      })

    const body = await client().query(
      { ...QUERY, offset: 10, limit: 20, acceptPartial: true },
      { authorization: ADMIN_AUTH, cookie: 'JSESSIONID=ABC; other=1' },
    )
    await body.cancel()

    expect(seen?.body).toBe(
      '{"sql":"select * from kylin_sales","project":"learn_kylin","offset":10,"limit":20,"acceptPartial":true}',
    )
    expect(headerOf(seen?.headers, 'authorization')).toBe(ADMIN_AUTH)
    expect(headerOf(seen?.headers, 'cookie')).toBe('JSESSIONID=ABC; other=1')
    expect(headerOf(seen?.headers, 'content-type')).toBe('application/json')
    expect(headerOf(seen?.headers, 'accept')).toBe('application/json')
    expect(headerOf(seen?.headers, 'user-agent')).toBe('kylin-async-gateway')
  })

  it('sends no Cookie and no Authorization header when the caller has none', async () => {
    let headers: unknown
    upstream()
      .intercept({ path: '/kylin/api/query', method: 'POST' })
      .reply((request) => {
        headers = request.headers
        return { statusCode: 200, data: '{}' }
      })

    await (await client().query(QUERY, {})).cancel()

    expect(headerOf(headers, 'cookie')).toBeUndefined()
    expect(headerOf(headers, 'authorization')).toBeUndefined()
  })

  it('resolves with the body unread, once the headers are in', async () => {
    const payload = '{"columnMetas":[],"results":[["1"]],"isException":false}'
    upstream().intercept({ path: '/kylin/api/query', method: 'POST' }).reply(200, payload)

    const body = await client().query(QUERY, { authorization: ADMIN_AUTH })

    expect(body).toBeInstanceOf(ReadableStream)
    expect(body.locked).toBe(false)
    expect(await new Response(body).text()).toBe(payload)
  })

  it('resolves with an empty stream for an empty 2xx body', async () => {
    upstream().intercept({ path: '/kylin/api/query', method: 'POST' }).reply(204, '')

    const body = await client().query(QUERY, {})

    expect(await new Response(body).text()).toBe('')
  })

  it("passes a Kylin 2.x SQL error on as Kylin's msg with the newlines dropped", async () => {
    upstream()
      .intercept({ path: '/kylin/api/query', method: 'POST' })
      .reply(500, JSON.stringify(KYLIN2_SQL_ERROR), { headers: JSON_HEADERS })

    const error = await rejectionOf(client().query(QUERY, { authorization: ADMIN_AUTH }))

    expect(error.message).toBe(
      "From line 1, column 15 to line 1, column 27: Object 'NO_SUCH_TABLE' not found" +
        'while executing SQL: "select * from no_such_table"',
    )
    expect(error.upstreamStatus).toBe(500)
  })

  it('passes a 400 Kylin envelope on as its msg', async () => {
    upstream()
      .intercept({ path: '/kylin/api/query', method: 'POST' })
      .reply(
        400,
        JSON.stringify({ ...KYLIN2_SQL_ERROR, msg: 'SQL should not be empty.', exception: 'x' }),
        { headers: JSON_HEADERS },
      )

    const error = await rejectionOf(client().query({ ...QUERY, sql: '' }, {}))

    expect(error.message).toBe('SQL should not be empty.')
    expect(error.upstreamStatus).toBe(400)
  })

  it('falls back to the envelope exception when msg is empty', async () => {
    upstream()
      .intercept({ path: '/kylin/api/query', method: 'POST' })
      .reply(500, JSON.stringify({ code: '999', data: null, msg: null, exception: 'Boom\nagain' }))

    const error = await rejectionOf(client().query(QUERY, {}))

    expect(error.message).toBe('Boomagain')
  })

  it('says the credentials were rejected on a 401, without echoing them', async () => {
    upstream()
      .intercept({ path: '/kylin/api/query', method: 'POST' })
      .reply(401, '<html><body><h1>HTTP Status 401 – Unauthorized</h1></body></html>', {
        headers: { 'content-type': 'text/html;charset=utf-8' },
      })

    const error = await rejectionOf(client().query(QUERY, { authorization: ADMIN_AUTH }))

    expect(error.message).toBe(
      'The upstream Kylin answered 401 Unauthorized: the credentials were rejected.',
    )
    expect(error.message).not.toContain('QURNSU46S1lMSU4=')
    expect(error.upstreamStatus).toBe(401)
  })

  it('says the user is not allowed on a 403 without a Kylin envelope', async () => {
    upstream().intercept({ path: '/kylin/api/query', method: 'POST' }).reply(403, '')

    const error = await rejectionOf(client().query(QUERY, {}))

    expect(error.message).toMatch(/^The upstream Kylin answered 403 Forbidden: /)
    expect(error.upstreamStatus).toBe(403)
  })

  it('reports an HTML error page as the status plus a short plain-text excerpt', async () => {
    const page =
      '<!doctype html><html><head><title>Error</title><style>h1{color:red}</style></head>' +
      '<body><h1>HTTP Status 500 – Internal   Server Error</h1>\n<p><b>Message</b> ' +
      'Request processing failed &amp; more</p><script>alert(1)</script>' +
      `<pre>${'java.lang.NullPointerException at x '.repeat(50)}</pre></body></html>`
    upstream()
      .intercept({ path: '/kylin/api/query', method: 'POST' })
      .reply(500, page, { headers: { 'content-type': 'text/html' } })

    const error = await rejectionOf(client().query(QUERY, {}))

    expect(error.message).toMatch(
      /^The upstream Kylin answered HTTP 500 Internal Server Error: HTTP Status 500 – Internal Server Error Message Request processing failed & more java\.lang/,
    )
    expect(error.message).not.toMatch(/[<>]|alert|color:red/)
    const excerpt = error.message.slice(error.message.indexOf(': ') + 2)
    expect(excerpt.length).toBeLessThanOrEqual(200)
    expect(error.upstreamStatus).toBe(500)
  })

  it('reads at most 64 KiB of an error body, and keeps a bounded part of its msg', async () => {
    const huge = `{"msg":"${'x'.repeat(200_000)}"}`
    upstream().intercept({ path: '/kylin/api/query', method: 'POST' }).reply(500, huge)

    const error = await rejectionOf(client().query(QUERY, {}))

    // Cut mid-JSON, the envelope's msg is still Kylin's own words, as far as they were read.
    expect(error.message).toMatch(/^x{1000,} … \[message cut: 65\d{3} bytes in all\]$/)
    expect(new TextEncoder().encode(error.message).length).toBeLessThanOrEqual(4096)
  })

  it('reports a redirect instead of following it', async () => {
    upstream()
      .intercept({ path: '/kylin/api/query', method: 'POST' })
      .reply(302, '', { headers: { location: 'http://sso.test/login?token=secret' } })

    const error = await rejectionOf(client().query(QUERY, {}))

    expect(error.message).toBe(
      'The upstream Kylin answered HTTP 302 Found: redirect to http://sso.test/login',
    )
  })

  it('names the upstream and the cause when it cannot be reached', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:7070'), {
      code: 'ECONNREFUSED',
    })
    upstream().intercept({ path: '/kylin/api/query', method: 'POST' }).replyWithError(refused)

    const error = await rejectionOf(client().query(QUERY, { authorization: ADMIN_AUTH }))

    expect(error.message).toBe(
      'Cannot reach the upstream Kylin at http://kylin.test:7070: connection refused (ECONNREFUSED)',
    )
    expect(error.upstreamStatus).toBeUndefined()
    expect(error.cause).toBeInstanceOf(Error)
  })

  it('refuses a connection that MockAgent does not know (no network in unit tests)', async () => {
    const error = await rejectionOf(client().query(QUERY, {}))

    expect(error.message).toMatch(/^Cannot reach the upstream Kylin at http:\/\/kylin\.test:7070: /)
  })

  it('times out a reply delayed beyond timeoutMs', async () => {
    upstream().intercept({ path: '/kylin/api/query', method: 'POST' }).reply(200, '{}').delay(2_000)

    const started = Date.now()
    const error = await rejectionOf(client({ timeoutMs: 50 }).query(QUERY, {}))

    expect(error.message).toMatch(/^The upstream Kylin did not answer the query within 50 ms/)
    expect(Date.now() - started).toBeLessThan(1_500)
  })

  it('says the query was cancelled when the caller aborts', async () => {
    upstream().intercept({ path: '/kylin/api/query', method: 'POST' }).reply(200, '{}').delay(2_000)
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 20)

    const error = await rejectionOf(
      client({ timeoutMs: 10_000 }).query(QUERY, {}, controller.signal),
    )

    expect(error.message).toBe('The query was cancelled.')
  })

  it('says cancelled for a signal that was already aborted', async () => {
    const error = await rejectionOf(client().query(QUERY, {}, AbortSignal.abort()))

    expect(error.message).toBe('The query was cancelled.')
  })
})

describe('authenticate', () => {
  const AUTH_PATH = '/kylin/api/user/authentication'

  it('reads the Kylin 2–4 {userDetails} shape and sees an admin', async () => {
    let headers: unknown
    upstream()
      .intercept({ path: AUTH_PATH, method: 'GET' })
      .reply((request) => {
        headers = request.headers
        return {
          statusCode: 200,
          data: JSON.stringify({
            userDetails: {
              password: null,
              username: 'ADMIN',
              authorities: [
                { authority: 'ROLE_ADMIN' },
                { authority: 'ROLE_MODELER' },
                { authority: 'ROLE_ANALYST' },
              ],
              accountNonExpired: true,
              enabled: true,
            },
          }),
        }
      })

    const identity = await client().authenticate({ authorization: ADMIN_AUTH })

    expect(identity).toEqual({
      username: 'ADMIN',
      authorities: ['ROLE_ADMIN', 'ROLE_MODELER', 'ROLE_ANALYST'],
      isAdmin: true,
    })
    expect(headerOf(headers, 'authorization')).toBe(ADMIN_AUTH)
    expect(headerOf(headers, 'accept')).toBe('application/json')
  })

  it('reads the Kylin 5 envelope shape and sees a non-admin', async () => {
    upstream()
      .intercept({ path: AUTH_PATH, method: 'GET' })
      .reply(
        200,
        JSON.stringify({
          code: '000',
          data: {
            username: 'ANALYST',
            authorities: [{ authority: 'ROLE_ANALYST' }, { authority: 'ALL_USERS' }],
            disabled: false,
            uuid: '0205dac6',
          },
          msg: '',
        }),
      )

    const identity = await client().authenticate({ cookie: 'JSESSIONID=X' })

    expect(identity).toEqual({
      username: 'ANALYST',
      authorities: ['ROLE_ANALYST', 'ALL_USERS'],
      isAdmin: false,
    })
  })

  it('tolerates a bare {username, authorities}', async () => {
    upstream()
      .intercept({ path: AUTH_PATH, method: 'GET' })
      .reply(200, JSON.stringify({ username: 'MODELER', authorities: ['ROLE_MODELER'] }))

    expect(await client().authenticate({})).toEqual({
      username: 'MODELER',
      authorities: ['ROLE_MODELER'],
      isAdmin: false,
    })
  })

  it.each([401, 403])('answers null when the upstream says %i', async (status) => {
    upstream().intercept({ path: AUTH_PATH, method: 'GET' }).reply(status, '<html>no</html>')

    expect(await client().authenticate({ authorization: 'Basic bm86cGU=' })).toBeNull()
  })

  it('rejects an unparseable 2xx', async () => {
    upstream().intercept({ path: AUTH_PATH, method: 'GET' }).reply(200, '<html>login</html>')

    const error = await rejectionOf(client().authenticate({}))

    expect(error.message).toMatch(/authentication check with something other than JSON: login/)
  })

  it('rejects JSON without a user', async () => {
    upstream().intercept({ path: AUTH_PATH, method: 'GET' }).reply(200, '{"hello":"world"}')

    const error = await rejectionOf(client().authenticate({}))

    expect(error.message).toMatch(/without a user name/)
  })

  it('rejects a 5xx with its status', async () => {
    upstream().intercept({ path: AUTH_PATH, method: 'GET' }).reply(503, 'Service Unavailable')

    const error = await rejectionOf(client().authenticate({}))

    expect(error.message).toBe(
      'The upstream Kylin answered HTTP 503 Service Unavailable: Service Unavailable',
    )
    expect(error.upstreamStatus).toBe(503)
  })

  it('rejects a network failure', async () => {
    upstream()
      .intercept({ path: AUTH_PATH, method: 'GET' })
      .replyWithError(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }))

    const error = await rejectionOf(client().authenticate({}))

    expect(error.message).toBe(
      'Cannot reach the upstream Kylin at http://kylin.test:7070: host not found (ENOTFOUND)',
    )
  })

  it('times out after authTimeoutMs', async () => {
    upstream()
      .intercept({ path: AUTH_PATH, method: 'GET' })
      .reply(200, '{"username":"ADMIN"}')
      .delay(2_000)

    const error = await rejectionOf(client({ authTimeoutMs: 30 }).authenticate({}))

    expect(error.message).toMatch(/did not answer the authentication check within 30 ms/)
  })
})

// `fetch` is what pass-through requests take; `kylinFetch` (undici's request) the client's own calls.
describe.each(['fetch', 'kylinFetch'] as const)(
  'against the loopback fake Kylin through createUndiciFetch (%s)',
  (which) => {
    let fake: FakeKylin
    let undici: ReturnType<typeof createUndiciFetch>

    beforeAll(async () => {
      fake = await startFakeKylin()
      undici = createUndiciFetch({
        connectTimeoutMs: 2_000,
        headersTimeoutMs: 10_000,
        bodyTimeoutMs: 10_000,
      })
    })

    afterAll(async () => {
      await undici.close()
      await fake.close()
    })

    function real(options: Partial<KylinClientOptions> = {}) {
      return createKylinClient({ baseUrl: fake.url, fetch: undici[which], ...options })
    }

    it('streams a real SQLResponse', async () => {
      const body = await real().query(
        { ...QUERY, sql: 'select * from rows_2000' },
        { authorization: BASIC.ADMIN },
      )
      const parsed = JSON.parse(await new Response(body).text()) as { results: string[][] }

      expect(parsed.results).toHaveLength(2000)
    })

    it('passes the fake 2.x SQL error through as Kylin wrote it', async () => {
      const error = await rejectionOf(
        real().query(
          { ...QUERY, sql: 'select * from no_such_table' },
          { authorization: BASIC.ADMIN },
        ),
      )

      expect(error.message).toBe(
        "From line 1, column 15 to line 1, column 27: Object 'NO_SUCH_TABLE' not found" +
          'while executing SQL: "select * from no_such_table"',
      )
    })

    it('turns the container 401 page into the credentials message', async () => {
      const error = await rejectionOf(real().query(QUERY, { authorization: 'Basic eDp5' }))

      expect(error.message).toBe(
        'The upstream Kylin answered 401 Unauthorized: the credentials were rejected.',
      )
    })

    it('authenticates by Basic and sees who is admin', async () => {
      expect(await real().authenticate({ authorization: BASIC.ADMIN })).toMatchObject({
        username: 'ADMIN',
        isAdmin: true,
      })
      expect(await real().authenticate({ authorization: BASIC.ANALYST })).toMatchObject({
        username: 'ANALYST',
        isAdmin: false,
      })
      expect(await real().authenticate({ authorization: 'Basic eDp5' })).toBeNull()
    })

    it('times out a slow query mid-flight and the fake sees the disconnect', async () => {
      const error = await rejectionOf(
        real({ timeoutMs: 100 }).query(
          { ...QUERY, sql: 'select sleep_ms_5000' },
          { authorization: BASIC.ADMIN },
        ),
      )

      expect(error.message).toMatch(/within 100 ms/)
      await expect.poll(() => fake.inFlight).toBe(0)
    })

    describe('failures after the headers surface from the stream as UpstreamErrors', () => {
      afterEach(() => fake.setQueryHandler(null))

      function stallAfterHeaders() {
        fake.setQueryHandler((_req, res) => {
          res.writeHead(200, { 'Content-Type': 'application/json;charset=UTF-8' })
          res.write('{"columnMetas":[],"results":[')
        })
      }

      it('a stalled body times out within timeoutMs', async () => {
        stallAfterHeaders()
        const body = await real({ timeoutMs: 150 }).query(QUERY, { authorization: BASIC.ADMIN })

        const error = await rejectionOf(new Response(body).text())

        expect(error.message).toMatch(/^The upstream Kylin did not answer the query within 150 ms/)
      })

      it('a caller abort mid-body says cancelled', async () => {
        stallAfterHeaders()
        const controller = new AbortController()
        const body = await real().query(QUERY, { authorization: BASIC.ADMIN }, controller.signal)
        setTimeout(() => controller.abort(), 30)

        const error = await rejectionOf(new Response(body).text())

        expect(error.message).toBe('The query was cancelled.')
      })

      it('a connection dropped mid-body says the upstream broke off', async () => {
        fake.setQueryHandler((_req, res) => {
          res.writeHead(200, { 'Content-Type': 'application/json;charset=UTF-8' })
          res.write('{"columnMetas":[],"results":[')
          setTimeout(() => res.destroy(), 30)
        })
        const body = await real().query(QUERY, { authorization: BASIC.ADMIN })

        const error = await rejectionOf(new Response(body).text())

        expect(error.message).toMatch(
          new RegExp(
            `^The upstream Kylin at ${fake.url.replace(/\./g, '\\.')} broke off the result: `,
          ),
        )
      })
    })

    it('names a closed port', async () => {
      const closed = await startFakeKylin()
      await closed.close()

      const error = await rejectionOf(
        createKylinClient({ baseUrl: closed.url, fetch: undici.fetch }).query(QUERY, {}),
      )

      expect(error.message).toBe(
        `Cannot reach the upstream Kylin at ${closed.url}: connection refused (ECONNREFUSED)`,
      )
    })

    it('accepts a global Request through the undici fetch', async () => {
      const response = await undici.fetch(
        new Request(`${fake.url}/kylin/api/echo/x?a=1`, {
          method: 'PUT',
          headers: { Authorization: BASIC.ADMIN, 'X-Test': 'yes' },
          body: 'hello',
        }),
      )
      const echo = (await response.json()) as Record<string, unknown>

      expect(echo).toMatchObject({
        method: 'PUT',
        path: '/kylin/api/echo/x',
        query: 'a=1',
        body: 'hello',
      })
      expect((echo.headers as Record<string, string>)['x-test']).toBe('yes')
    })
  },
)
