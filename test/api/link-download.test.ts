/**
 * Signed links through app.request(): made by the owner or an admin, downloaded with no
 * credentials by the same protocol as a download, and refused once changed, expired, deleted,
 * rotated away or turned off. Memory store and registry, a clock the test moves.
 */
import { createHash } from 'node:crypto'
import { beforeEach, describe, expect, it } from 'vitest'
import { createApp } from '../../src/app.ts'
import type { Config } from '../../src/config/config.ts'
import type { Logger } from '../../src/logger.ts'
import { ADMIN, ANALYST, MODELER, makeTestDeps, type TestDeps } from '../support/test-deps.ts'

const BASE = 'http://gateway.test/kylin/api/async_query'
const SECRET = 'current-link-secret-of-enough-length-0123'
const NEXT_SECRET = 'next-link-secret-after-rotation-4567890ab'
const LINKS: NonNullable<Config['links']> = {
  credentials: { secret: SECRET },
  maxTtlSeconds: 7 * 86_400,
}

interface Envelope<T = unknown> {
  code: string
  data: T
  msg: string
  url?: string
}

type LinkAnswer = Envelope<{ url: string; expires_at: string }>

let deps: TestDeps
let app: ReturnType<typeof createApp>

beforeEach(() => {
  deps = makeTestDeps({ links: LINKS })
  app = createApp(deps)
})

function call(
  method: string,
  path: string,
  options: { auth?: string | null; body?: unknown; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { ...options.headers }
  const auth = options.auth === undefined ? ANALYST : options.auth
  if (auth) headers.Authorization = auth
  let body: string | undefined
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body)
    headers['Content-Type'] = 'application/json'
  }
  return app.request(`${BASE}${path}`, { method, headers, body })
}

async function submitAndWait(body: Record<string, unknown> = {}, auth = ANALYST) {
  const res = await call('POST', '', { auth, body: { sql: 'select 1', ...body } })
  const id = ((await res.json()) as Envelope<{ queryID: string }>).data.queryID
  await deps.settle()
  return id
}

async function makeLink(id: string, body: unknown = { ttl: 600 }, auth = ANALYST) {
  const res = await call('POST', `/${id}/link`, { auth, body })
  expect(res.status, await res.clone().text()).toBe(200)
  expect(res.headers.get('cache-control')).toBe('no-store')
  return ((await res.json()) as LinkAnswer).data
}

/** A link fetched as a browser would: no credentials, no cookie. */
function open(url: string, init: RequestInit = {}) {
  const headers = new Headers(init.headers)
  expect(headers.has('authorization')).toBe(false)
  return app.request(url, { ...init, headers })
}

async function errorOf(res: Response) {
  return (await res.json()) as Envelope
}

describe('making a link', () => {
  it('answers a URL of this origin and its expiry in the usual envelope', async () => {
    const id = await submitAndWait()
    const res = await call('POST', `/${id}/link`, { body: { ttl: 120 } })
    expect(res.status).toBe(200)
    const json = (await res.json()) as LinkAnswer
    expect(json.code).toBe('000')
    expect(json.msg).toBe('')
    expect(Object.keys(json.data).sort()).toEqual(['expires_at', 'url'])
    const url = new URL(json.data.url)
    expect(url.origin).toBe('http://gateway.test')
    expect(url.pathname).toMatch(new RegExp(`^/kylin/api/async_query/link/${id}/\\d+/[\\w-]{43}$`))
    const expiresAt = Date.parse(json.data.expires_at)
    expect(expiresAt).toBe(Number(url.pathname.split('/')[6]) * 1000)
    expect(expiresAt - deps.now()).toBeGreaterThan(119_000)
    expect(expiresAt - deps.now()).toBeLessThanOrEqual(121_000)
  })

  it('takes an empty body as an hour, and starts with PUBLIC_URL when set', async () => {
    deps = makeTestDeps({ links: LINKS, publicUrl: 'https://kylin.example.com/gw' })
    app = createApp(deps)
    const id = await submitAndWait()
    const res = await call('POST', `/${id}/link`)
    expect(res.status).toBe(200)
    const { data } = (await res.json()) as LinkAnswer
    expect(
      data.url.startsWith(`https://kylin.example.com/gw/kylin/api/async_query/link/${id}/`),
    ).toBe(true)
    const hour = Date.parse(data.expires_at) - deps.now()
    expect(hour).toBeGreaterThan(3_599_000)
    expect(hour).toBeLessThanOrEqual(3_601_000)
  })

  it('refuses a ttl out of bounds or a body it does not know, with 400', async () => {
    const id = await submitAndWait()
    for (const body of [
      { ttl: 0 },
      { ttl: 7 * 86_400 + 1 },
      { ttl: 1.5 },
      { ttl: 'soon' },
      { ttl: -5 },
      { tll: 60 },
      { format: 'txt' },
      { encode: 'latin1' },
      { include_header: 'maybe' },
      [60],
      'not json',
    ]) {
      const res = await call('POST', `/${id}/link`, { body })
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect((await errorOf(res)).code).toBe('999')
    }
    const tooLong = await errorOf(await call('POST', `/${id}/link`, { body: { ttl: 999_999 } }))
    expect(tooLong.msg).toBe(
      'ttl must be a whole number of seconds from 1 to 604800 (LINK_MAX_TTL), not 999999.',
    )
  })

  it('is the owner’s or an admin’s, of a SUCCESSFUL query only', async () => {
    const id = await submitAndWait()
    const other = await call('POST', `/${id}/link`, { auth: MODELER, body: { ttl: 60 } })
    expect(other.status).toBe(403)
    expect((await errorOf(other)).msg).toMatch(/^Access denied/)
    expect((await call('POST', `/${id}/link`, { auth: null })).status).toBe(401)
    await makeLink(id, { ttl: 60 }, ADMIN)

    const failed = await submitAndWait({ sql: 'select fail' })
    const notDone = await call('POST', `/${failed}/link`, { body: { ttl: 60 } })
    expect(notDone.status).toBe(404)
    const unknown = await call('POST', `/${crypto.randomUUID()}/link`, { body: { ttl: 60 } })
    expect(unknown.status).toBe(404)
  })

  it('says links are off, and which setting turns them on, without LINK_SECRET', async () => {
    deps = makeTestDeps()
    app = createApp(deps)
    const id = await submitAndWait()
    const res = await call('POST', `/${id}/link`, { body: { ttl: 60 } })
    expect(res.status).toBe(501)
    expect((await errorOf(res)).msg).toContain('LINK_SECRET')
    const download = await open(`${BASE}/link/${id}/9999999999/${'A'.repeat(43)}`)
    expect(download.status).toBe(501)
    expect((await errorOf(download)).msg).toContain('LINK_SECRET')
  })
})

describe('downloading by link', () => {
  it('sends the bytes of the authenticated download, with no credentials', async () => {
    const id = await submitAndWait({ file_name: 'sales' })
    const { url } = await makeLink(id)
    const owned = await call('GET', `/${id}/result_download`)
    const linked = await open(url)
    expect(linked.status).toBe(200)
    const bytes = Buffer.from(await linked.arrayBuffer())
    expect(bytes).toEqual(Buffer.from(await owned.arrayBuffer()))
    expect(bytes.length).toBeGreaterThan(0)
    for (const name of ['content-type', 'etag', 'repr-digest', 'last-modified', 'accept-ranges']) {
      expect(linked.headers.get(name), name).toBe(owned.headers.get(name))
    }
    expect(linked.headers.get('content-length')).toBe(String(bytes.length))
    expect(linked.headers.get('content-disposition')).toBe('attachment; filename="sales.csv"')
    expect(linked.headers.get('referrer-policy')).toBe('no-referrer')
    const digest = createHash('sha256').update(bytes).digest('base64')
    expect(linked.headers.get('repr-digest')).toBe(`sha-256=:${digest}:`)
  })

  it('answers HEAD, ranges, If-Range, 304 and 416 as a download does', async () => {
    const id = await submitAndWait()
    const { url } = await makeLink(id)
    const whole = Buffer.from(await (await open(url)).arrayBuffer())
    const head = await open(url, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.headers.get('content-length')).toBe(String(whole.length))
    expect(await head.text()).toBe('')
    const etag = head.headers.get('etag')!

    const part = await open(url, { headers: { Range: 'bytes=2-9' } })
    expect(part.status).toBe(206)
    expect(part.headers.get('content-range')).toBe(`bytes 2-9/${whole.length}`)
    expect(Buffer.from(await part.arrayBuffer())).toEqual(whole.subarray(2, 10))
    const stale = await open(url, { headers: { Range: 'bytes=2-9', 'If-Range': '"other"' } })
    expect(stale.status).toBe(200)
    const fresh = await open(url, { headers: { Range: 'bytes=2-9', 'If-Range': etag } })
    expect(fresh.status).toBe(206)
    expect((await open(url, { headers: { 'If-None-Match': etag } })).status).toBe(304)
    const past = await open(url, { headers: { Range: `bytes=${whole.length + 5}-` } })
    expect(past.status).toBe(416)
    expect(past.headers.get('content-range')).toBe(`bytes */${whole.length}`)
  })

  it('serves the form it was made for, and that form only', async () => {
    const id = await submitAndWait()
    const { url } = await makeLink(id, { ttl: 60, format: 'JSON', include_header: true })
    expect(new URL(url).search).toBe('?format=json&include_header=true')
    const owned = await call('GET', `/${id}/result?format=json`)
    const linked = await open(url)
    expect(linked.status).toBe(200)
    expect(linked.headers.get('content-type')).toBe(owned.headers.get('content-type'))
    expect(await linked.text()).toBe(await owned.text())
    for (const bent of [
      url.replace('format=json', 'format=csv'),
      url.replace('?format=json&', '?'),
      `${url}&encode=gbk`,
      `${url}&project=learn_kylin`,
      url.split('?')[0]!,
    ]) {
      const res = await open(bent)
      expect(res.status, bent).toBe(403)
      expect((await errorOf(res)).msg).toMatch(/^This link is not valid/)
    }
  })

  it('refuses a form a stored xlsx cannot be converted to when the link is made', async () => {
    const id = await submitAndWait({ format: 'xlsx' })
    expect((await call('POST', `/${id}/link`, { body: { format: 'csv' } })).status).toBe(400)
    const { url } = await makeLink(id, { ttl: 60, format: 'xlsx' })
    expect((await open(url)).status).toBe(200)
  })

  it('answers 403 to a changed id, expiry or signature', async () => {
    const first = await submitAndWait()
    const second = await submitAndWait()
    const { url } = await makeLink(first)
    const [, expires = '', signature = ''] = /\/(\d+)\/([\w-]+)$/.exec(url) ?? []
    const flipped = signature.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'))
    for (const tampered of [
      url.replace(first, second),
      url.replace(`/${expires}/`, `/${Number(expires) + 86_400}/`),
      url.replace(signature, flipped),
      url.replace(signature, signature.slice(0, 20)),
      url.replace(first, 'not-a-query-id'),
    ]) {
      const res = await open(tampered)
      expect(res.status, tampered).toBe(403)
      const body = await errorOf(res)
      expect(body.code).toBe('999')
      expect(body.msg).toMatch(/^This link is not valid/)
    }
    // The second query is still there and the first link still fine: only the change failed.
    expect((await open(url)).status).toBe(200)
  })

  it('answers 410 once expired, saying when', async () => {
    const id = await submitAndWait()
    const { url, expires_at } = await makeLink(id, { ttl: 5 })
    expect((await open(url)).status).toBe(200)
    deps.advance(6_000)
    const res = await open(url)
    expect(res.status).toBe(410)
    expect((await errorOf(res)).msg).toBe(
      `This link expired at ${expires_at}. Ask the query’s owner for a new link.`,
    )
    expect((await open(url, { method: 'HEAD' })).status).toBe(410)
    const chinese = await errorOf(await open(url, { headers: { 'Accept-Language': 'cn' } }))
    expect(chinese.msg).toBe(`此链接已于 ${expires_at} 过期。请向查询的所有者索取新链接。`)
  })

  it('answers 404, as a download does, once the query is deleted', async () => {
    const id = await submitAndWait()
    const { url } = await makeLink(id)
    expect((await call('DELETE', `/${id}`)).status).toBe(200)
    const res = await open(url)
    expect(res.status).toBe(404)
    const download = await call('GET', `/${id}/result`)
    expect(download.status).toBe(404)
    const [linked, owned] = [await errorOf(res), await errorOf(download)]
    expect(linked.msg).toBe(owned.msg)
  })

  it('keeps working after a rotation that keeps its key as the previous one', async () => {
    const id = await submitAndWait()
    const { url } = await makeLink(id)
    const rotated = (links: Config['links']) =>
      createApp({ ...deps, config: { ...deps.config, links } })
    const after = rotated({
      credentials: { secret: NEXT_SECRET, previousSecret: SECRET },
      maxTtlSeconds: 600,
    })
    expect((await after.request(url)).status).toBe(200)
    const dropped = rotated({ credentials: { secret: NEXT_SECRET }, maxTtlSeconds: 600 })
    expect((await dropped.request(url)).status).toBe(403)
  })

  it('opens no other route without credentials', async () => {
    const id = await submitAndWait()
    const { url } = await makeLink(id)
    const path = new URL(url).pathname
    for (const [method, target] of [
      ['POST', url],
      ['DELETE', url],
      ['GET', `${url}/extra`],
      ['GET', `${BASE}/${id}/result`],
      ['GET', `${BASE}/${id}/status`],
      ['POST', `${BASE}/${id}/link`],
    ] as const) {
      const res = await app.request(target, { method })
      expect(res.status, `${method} ${target}`).toBe(401)
    }
    expect(path.startsWith('/kylin/api/async_query/link/')).toBe(true)
  })

  it('is the one operation the document declares without credentials', async () => {
    const res = await app.request('http://gateway.test/openapi.json')
    const document = (await res.json()) as {
      paths: Record<string, Record<string, { security?: unknown[] }>>
    }
    const open = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([, operation]) => operation.security !== undefined)
        .map(([method, operation]) => `${method} ${path} ${JSON.stringify(operation.security)}`),
    )
    expect(open.sort()).toEqual([
      'get /kylin/api/async_query/link/{id}/{expires}/{signature} []',
      'head /kylin/api/async_query/link/{id}/{expires}/{signature} []',
    ])
  })

  it('keeps the signature out of the access log and of error answers', async () => {
    const lines: object[] = []
    const logger: Logger = {
      debug: (obj) => void lines.push(obj),
      info: (obj) => void lines.push(obj),
      warn: (obj) => void lines.push(obj),
      error: (obj) => void lines.push(obj),
      child: () => logger,
      isLevelEnabled: () => true,
    }
    deps = { ...makeTestDeps({ links: LINKS }), logger } as TestDeps
    app = createApp(deps)
    const id = await submitAndWait()
    const { url } = await makeLink(id, { ttl: 1 })
    const signature = url.split('/').at(-1)!
    expect((await open(url)).status).toBe(200)
    deps.advance(5_000)
    const expired = await errorOf(await open(url))
    expect(expired.url).toBe(url.replace(signature, '[redacted]'))
    expect(JSON.stringify(lines)).not.toContain(signature)
    expect(JSON.stringify(lines)).toContain('[redacted]')
  })
})
