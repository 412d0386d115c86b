/**
 * Passthrough against a real loopback upstream (node:http), called directly and through a Hono app
 * served by @hono/node-server, because streaming, encodings and sockets are what matter here.
 */
import { createHash } from 'node:crypto'
import { createServer, request as httpRequest } from 'node:http'
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gzipSync } from 'node:zlib'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { UpstreamError, toErrorResponse } from '../../src/errors.ts'
import type { Logger } from '../../src/logger.ts'
import { createPassthrough } from '../../src/ops/passthrough.ts'

interface Echo {
  method: string
  url: string
  headers: IncomingHttpHeaders
  bodyLength: number
  bodySha256: string
  bodyBase64: string
}

interface Deferred<T> {
  promise: Promise<T>
  resolve: (value: T) => void
}

function defer<T>(): Deferred<T> {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

/** Fails after `ms` instead of hanging: a buffering proxy would never settle these waits. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)
    promise.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error instanceof Error ? error : new Error(String(error)))
      },
    )
  })
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

/** Deterministic, non-repeating-per-chunk bytes so a reordered or dropped chunk changes the hash. */
function patternBytes(length: number, seed: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(length)
  let x = seed >>> 0 || 1
  for (let i = 0; i < length; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    bytes[i] = x & 0xff
  }
  return bytes
}

const FIVE_MB = 5 * 1024 * 1024
const LARGE_BODY = patternBytes(FIVE_MB, 7)
const LARGE_SHA = sha256(LARGE_BODY)
const KYLIN_404 = JSON.stringify({
  code: '999',
  data: null,
  msg: 'Cannot find project "nope".',
  stacktrace: 'org.apache.kylin.rest.exception.NotFoundException: …',
  exception: 'Cannot find project "nope".',
  url: 'http://kylin/kylin/api/projects/nope',
})
const GZIP_JSON = JSON.stringify({
  code: '000',
  data: { rows: Array.from({ length: 200 }, (_, i) => i) },
  msg: '',
})
const COOKIES = [
  'JSESSIONID=ABC123; Path=/kylin; HttpOnly',
  'remember=yes; Expires=Wed, 21 Oct 2026 07:28:00 GMT; Path=/; Secure',
]

// ---------------------------------------------------------------------------------------------
// The loopback upstream Kylin
// ---------------------------------------------------------------------------------------------

let upstream: Server
let upstreamUrl: string
let slowRelease = defer<void>()
let uploadFirstChunk = defer<void>()

function readBody(req: IncomingMessage, onFirstChunk?: () => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => {
      if (chunks.length === 0) onFirstChunk?.()
      chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

function sendEcho(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
  const echo: Echo = {
    method: req.method ?? '',
    url: req.url ?? '',
    headers: req.headers,
    bodyLength: body.length,
    bodySha256: sha256(body),
    bodyBase64: body.length <= 65_536 ? body.toString('base64') : '',
  }
  res.writeHead(200, { 'content-type': 'application/json' })
  res.end(JSON.stringify(echo))
}

async function writeLarge(res: ServerResponse): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-sha256': LARGE_SHA })
  for (let offset = 0; offset < LARGE_BODY.length; offset += 65_536) {
    // Honour backpressure, as a real streaming server would.
    if (!res.write(LARGE_BODY.subarray(offset, offset + 65_536))) {
      await new Promise((resolve) => res.once('drain', resolve))
    }
  }
  res.end()
}

async function handleUpstream(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0]
  switch (path) {
    case '/kylin/api/test/gzip': {
      await readBody(req)
      const gzipped = gzipSync(GZIP_JSON)
      res.writeHead(200, {
        'content-type': 'application/json;charset=UTF-8',
        'content-encoding': 'gzip',
        'content-length': gzipped.length,
        vary: 'Accept-Encoding',
        'x-seen-accept-encoding': req.headers['accept-encoding'] ?? '(none)',
      })
      res.end(gzipped)
      return
    }
    case '/kylin/api/test/compress': {
      // A coding no fetch decodes: the bytes and both headers must reach the client untouched.
      const raw = Buffer.from([0x1f, 0x9d, 0x90, 0x01, 0x02, 0x03])
      res.writeHead(200, { 'content-encoding': 'compress', 'content-length': raw.length })
      res.end(raw)
      return
    }
    case '/kylin/api/test/cookies':
      res.setHeader('set-cookie', COOKIES)
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('{"code":"000","data":null,"msg":""}')
      return
    case '/kylin/api/test/redirect':
      res.writeHead(302, {
        location: '/kylin/login?next=%2Fkylin%2Fapi',
        'content-type': 'text/plain',
      })
      res.end('moved')
      return
    case '/kylin/api/test/redirect-away':
      res.writeHead(307, { location: 'http://unreachable.invalid/elsewhere' })
      res.end()
      return
    case '/kylin/api/test/missing':
      res.writeHead(404, 'Nope', { 'content-type': 'application/json;charset=UTF-8' })
      res.end(KYLIN_404)
      return
    case '/kylin/api/test/error':
      res.writeHead(500, { 'content-type': 'application/json;charset=UTF-8' })
      res.end('{"code":"999","data":null,"msg":"Table not found"}')
      return
    case '/kylin/api/test/no-content':
      res.writeHead(204, { 'x-kept': 'yes' })
      res.end()
      return
    case '/kylin/api/test/large':
      await writeLarge(res)
      return
    case '/kylin/api/test/slow':
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.write('first\n')
      await slowRelease.promise
      res.end('second\n')
      return
    case '/kylin/api/test/hop':
      res.writeHead(200, {
        connection: 'X-Conn-Only, keep-alive',
        'keep-alive': 'timeout=5',
        'x-conn-only': 'secret-to-this-hop',
        'proxy-authenticate': 'Basic realm="proxy"',
        'proxy-connection': 'keep-alive',
        upgrade: 'h2c',
        'x-end-to-end': 'kept',
        'content-type': 'text/plain',
      })
      res.end('ok')
      return
    case '/kylin/api/test/upload':
      sendEcho(req, res, await readBody(req, () => uploadFirstChunk.resolve()))
      return
    default:
      sendEcho(req, res, await readBody(req))
  }
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port))
  })
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  })
}

/** A port nothing listens on: bound once, then released. */
async function deadPort(): Promise<number> {
  const server = createServer()
  const port = await listen(server)
  await close(server)
  return port
}

beforeAll(async () => {
  upstream = createServer((req, res) => {
    handleUpstream(req, res).catch((error: unknown) => {
      res.destroy(error instanceof Error ? error : new Error(String(error)))
    })
  })
  upstreamUrl = `http://127.0.0.1:${await listen(upstream)}`
})

afterAll(async () => {
  slowRelease.resolve()
  await close(upstream)
})

beforeEach(() => {
  slowRelease = defer<void>()
  uploadFirstChunk = defer<void>()
})

const passthrough = () => createPassthrough({ upstreamUrl, fetch })
const echoOf = async (response: Response): Promise<Echo> => (await response.json()) as Echo

// ---------------------------------------------------------------------------------------------
// Direct calls: the handler with hand-made Requests
// ---------------------------------------------------------------------------------------------

describe('passthrough: method, path and query', () => {
  it('keeps encoded characters in path and query exactly as sent', async () => {
    const cases: [string, string][] = [
      [
        '/kylin/api/a%20b/c%2Fd/e+f?x=a+b&y=%2F%20&z=%2b',
        '/kylin/api/a%20b/c%2Fd/e+f?x=a+b&y=%2F%20&z=%2b',
      ],
      ['/kylin/api/lower%2fcase/%7E/%41', '/kylin/api/lower%2fcase/%7E/%41'],
      [
        '/kylin/api/%E4%B8%AD/中?q=中&r=%E4%B8%AD',
        '/kylin/api/%E4%B8%AD/%E4%B8%AD?q=%E4%B8%AD&r=%E4%B8%AD',
      ],
      [
        '/kylin/api/tables?project=learn_kylin&ext=true&ext=false',
        '/kylin/api/tables?project=learn_kylin&ext=true&ext=false',
      ],
      ['/kylin/api/query#fragment', '/kylin/api/query'],
    ]
    for (const [sent, expected] of cases) {
      const echo = await echoOf(await passthrough()(new Request(`http://gw.example${sent}`)))
      expect(echo.url, sent).toBe(expected)
    }
  })

  it('prefixes a base path in the upstream URL and tolerates a trailing slash', async () => {
    const handler = createPassthrough({ upstreamUrl: `${upstreamUrl}/base/`, fetch })
    const echo = await echoOf(await handler(new Request('http://gw.example/kylin/api/x%2Fy?a=1')))
    expect(echo.url).toBe('/base/kylin/api/x%2Fy?a=1')
  })

  it.each(['GET', 'HEAD', 'OPTIONS', 'DELETE'])('forwards %s without a body', async (method) => {
    const response = await passthrough()(
      new Request('http://gw.example/kylin/api/jobs/1', { method }),
    )
    expect(response.status).toBe(200)
    if (method === 'HEAD') {
      expect(response.body).toBeNull()
      return
    }
    const echo = await echoOf(response)
    expect(echo.method).toBe(method)
    expect(echo.bodyLength).toBe(0)
    expect(echo.headers['content-length']).toBeUndefined()
  })

  it.each(['POST', 'PUT', 'PATCH', 'DELETE'])(
    'forwards a %s body byte for byte',
    async (method) => {
      const bytes = new Uint8Array(Array.from({ length: 512 }, (_, i) => i % 256))
      const response = await passthrough()(
        new Request('http://gw.example/kylin/api/models', {
          method,
          body: bytes,
          headers: { 'content-type': 'application/octet-stream' },
        }),
      )
      const echo = await echoOf(response)
      expect(echo.method).toBe(method)
      expect(Buffer.from(echo.bodyBase64, 'base64')).toEqual(Buffer.from(bytes))
      expect(echo.headers['content-type']).toBe('application/octet-stream')
    },
  )

  it('drops a content-length that comes without a body', async () => {
    const echo = await echoOf(
      await passthrough()(
        new Request('http://gw.example/kylin/api/x', { headers: { 'content-length': '5' } }),
      ),
    )
    expect(echo.headers['content-length']).toBeUndefined()
  })
})

describe('passthrough: request headers', () => {
  it('passes end-to-end headers unchanged and uses the upstream host', async () => {
    const headers = {
      Authorization: 'Basic QURNSU46S1lMSU4=',
      Cookie: 'JSESSIONID=abc; other=1',
      Accept: 'application/vnd.apache.kylin-v4-public+json',
      'Accept-Language': 'cn',
      'Content-Type': 'application/json;charset=utf-8',
      'User-Agent': 'kylin-cli/1.0 (+https://kylin.apache.org)',
      Host: 'evil.example',
      'X-Custom': 'kept',
    }
    const echo = await echoOf(
      await passthrough()(
        new Request('http://gw.example/kylin/api/query', { method: 'POST', headers, body: '{}' }),
      ),
    )
    expect(echo.headers.authorization).toBe(headers.Authorization)
    expect(echo.headers.cookie).toBe(headers.Cookie)
    expect(echo.headers.accept).toBe(headers.Accept)
    expect(echo.headers['accept-language']).toBe(headers['Accept-Language'])
    expect(echo.headers['content-type']).toBe(headers['Content-Type'])
    expect(echo.headers['user-agent']).toBe(headers['User-Agent'])
    expect(echo.headers['x-custom']).toBe('kept')
    expect(echo.headers.host).toBe(new URL(upstreamUrl).host)
  })

  it('removes hop-by-hop headers, including those named in Connection', async () => {
    const echo = await echoOf(
      await passthrough()(
        new Request('http://gw.example/kylin/api/query', {
          method: 'POST',
          body: 'x',
          headers: {
            Connection: 'X-Drop-Me, keep-alive',
            'Keep-Alive': 'timeout=5',
            'X-Drop-Me': 'per-hop',
            'Proxy-Authorization': 'Basic cHJveHk6c2VjcmV0',
            'Proxy-Connection': 'keep-alive',
            TE: 'trailers',
            Trailer: 'X-Checksum',
            Upgrade: 'websocket',
            'Transfer-Encoding': 'chunked',
            Expect: '100-continue',
            'X-Kept': 'yes',
          },
        }),
      ),
    )
    for (const name of [
      'keep-alive',
      'x-drop-me',
      'proxy-authorization',
      'proxy-connection',
      'te',
      'trailer',
      'upgrade',
      'expect',
    ]) {
      expect(echo.headers[name], name).toBeUndefined()
    }
    // Node's client sets its own `connection`/`transfer-encoding` for the upstream hop; ours are gone.
    expect(echo.headers.connection ?? '').not.toMatch(/x-drop-me/i)
    expect(echo.headers['x-kept']).toBe('yes')
    expect(Buffer.from(echo.bodyBase64, 'base64').toString()).toBe('x')
  })

  it('adds X-Forwarded-Host and X-Forwarded-Proto from the incoming URL', async () => {
    const echo = await echoOf(
      await passthrough()(new Request('http://gw.example:8080/kylin/api/x')),
    )
    expect(echo.headers['x-forwarded-host']).toBe('gw.example:8080')
    expect(echo.headers['x-forwarded-proto']).toBe('http')
  })

  it('appends to X-Forwarded-* values set by proxies in front', async () => {
    const echo = await echoOf(
      await passthrough()(
        new Request('https://gw.internal/kylin/api/x', {
          headers: { 'X-Forwarded-Host': 'kylin.example.com', 'X-Forwarded-Proto': 'https' },
        }),
      ),
    )
    expect(echo.headers['x-forwarded-host']).toBe('kylin.example.com, gw.internal')
    expect(echo.headers['x-forwarded-proto']).toBe('https, https')
  })

  it("forwards the client's Accept-Encoding, minus zstd whose decoding varies by runtime", async () => {
    const seen = async (acceptEncoding: string): Promise<string | undefined> => {
      const request = new Request('http://gw.example/kylin/api/x', {
        headers: { 'Accept-Encoding': acceptEncoding },
      })
      return (await echoOf(await passthrough()(request))).headers['accept-encoding']
    }
    expect(await seen('gzip, deflate, br')).toBe('gzip, deflate, br')
    expect(await seen('br;q=1.0, gzip;q=0.8, *;q=0.1')).toBe('br;q=1.0, gzip;q=0.8, *;q=0.1')
    expect(await seen('gzip, deflate, br, zstd')).toBe('gzip, deflate, br')
    expect(await seen('zstd;q=1, gzip;q=0.5')).toBe('gzip;q=0.5')
  })
})

describe('passthrough: responses', () => {
  it('decodes a gzip response once: no content-encoding, no stale content-length', async () => {
    const response = await passthrough()(
      new Request('http://gw.example/kylin/api/test/gzip', {
        headers: { 'Accept-Encoding': 'gzip' },
      }),
    )
    expect(response.status).toBe(200)
    expect(response.headers.get('x-seen-accept-encoding')).toBe('gzip')
    expect(response.headers.get('content-encoding')).toBeNull()
    expect(response.headers.get('content-length')).toBeNull()
    expect(response.headers.get('vary')).toBe('Accept-Encoding')
    expect(response.headers.get('content-type')).toBe('application/json;charset=UTF-8')
    expect(await response.text()).toBe(GZIP_JSON)
  })

  it('keeps content-encoding and content-length on a HEAD, where nothing was decoded', async () => {
    const response = await passthrough()(
      new Request('http://gw.example/kylin/api/test/gzip', {
        method: 'HEAD',
        headers: { 'Accept-Encoding': 'gzip' },
      }),
    )
    expect(response.headers.get('content-encoding')).toBe('gzip')
    expect(response.headers.get('content-length')).toBe(String(gzipSync(GZIP_JSON).length))
  })

  it('passes a coding fetch does not decode through untouched, headers and bytes', async () => {
    const response = await passthrough()(new Request('http://gw.example/kylin/api/test/compress'))
    expect(response.headers.get('content-encoding')).toBe('compress')
    expect(response.headers.get('content-length')).toBe('6')
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(
      new Uint8Array([0x1f, 0x9d, 0x90, 0x01, 0x02, 0x03]),
    )
  })

  it('keeps every Set-Cookie separate', async () => {
    const response = await passthrough()(new Request('http://gw.example/kylin/api/test/cookies'))
    expect(response.headers.getSetCookie()).toEqual(COOKIES)
  })

  it('does not follow redirects: the 3xx and its Location go back as they are', async () => {
    const response = await passthrough()(new Request('http://gw.example/kylin/api/test/redirect'))
    expect(response.status).toBe(302)
    expect(response.headers.get('location')).toBe('/kylin/login?next=%2Fkylin%2Fapi')
    expect(await response.text()).toBe('moved')

    const away = await passthrough()(new Request('http://gw.example/kylin/api/test/redirect-away'))
    expect(away.status).toBe(307)
    expect(away.headers.get('location')).toBe('http://unreachable.invalid/elsewhere')
  })

  it('passes error statuses, reason phrases and Kylin envelopes unchanged', async () => {
    const missing = await passthrough()(new Request('http://gw.example/kylin/api/test/missing'))
    expect(missing.status).toBe(404)
    expect(missing.statusText).toBe('Nope')
    expect(missing.headers.get('content-type')).toBe('application/json;charset=UTF-8')
    expect(await missing.text()).toBe(KYLIN_404)

    const failed = await passthrough()(
      new Request('http://gw.example/kylin/api/test/error', { method: 'POST', body: '{}' }),
    )
    expect(failed.status).toBe(500)
    expect(await failed.text()).toBe('{"code":"999","data":null,"msg":"Table not found"}')
  })

  it('passes a 204 with its headers and no body', async () => {
    const response = await passthrough()(new Request('http://gw.example/kylin/api/test/no-content'))
    expect(response.status).toBe(204)
    expect(response.headers.get('x-kept')).toBe('yes')
    expect(response.body).toBeNull()
  })

  it('removes hop-by-hop response headers, including those named in Connection', async () => {
    const response = await passthrough()(new Request('http://gw.example/kylin/api/test/hop'))
    for (const name of [
      'connection',
      'keep-alive',
      'x-conn-only',
      'proxy-authenticate',
      'proxy-connection',
      'upgrade',
      'transfer-encoding',
    ]) {
      expect(response.headers.get(name), name).toBeNull()
    }
    expect(response.headers.get('x-end-to-end')).toBe('kept')
    expect(await response.text()).toBe('ok')
  })

  it('streams a 5 MB response through intact', async () => {
    const response = await passthrough()(new Request('http://gw.example/kylin/api/test/large'))
    const bytes = new Uint8Array(await response.arrayBuffer())
    expect(bytes.length).toBe(FIVE_MB)
    expect(sha256(bytes)).toBe(response.headers.get('x-sha256'))
  })

  it('streams the response: the first chunk arrives while the upstream is still writing', async () => {
    const response = await within(
      passthrough()(new Request('http://gw.example/kylin/api/test/slow')),
      5_000,
      'response headers before the upstream finished',
    )
    const reader = response.body!.getReader()
    const decoder = new TextDecoder()
    const first = await within(reader.read(), 5_000, 'the first chunk')
    expect(decoder.decode(first.value)).toBe('first\n')
    slowRelease.resolve()
    let rest = ''
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      rest += decoder.decode(next.value, { stream: true })
    }
    expect(rest).toBe('second\n')
  })

  it('streams the request: the upstream sees the first chunk before the body ends', async () => {
    const encoder = new TextEncoder()
    let pulls = 0
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        pulls += 1
        if (pulls === 1) {
          controller.enqueue(encoder.encode('chunk-1;'))
          return
        }
        await within(uploadFirstChunk.promise, 5_000, 'the upstream to receive chunk 1')
        controller.enqueue(encoder.encode('chunk-2'))
        controller.close()
      },
    })
    const request = new Request('http://gw.example/kylin/api/test/upload', {
      method: 'POST',
      body,
      duplex: 'half',
    } as RequestInit & { duplex: 'half' })
    const echo = await echoOf(await passthrough()(request))
    expect(Buffer.from(echo.bodyBase64, 'base64').toString()).toBe('chunk-1;chunk-2')
    expect(echo.headers['transfer-encoding']).toBe('chunked')
  })
})

describe('passthrough: failures and logging', () => {
  it('throws a 502 UpstreamError naming the upstream and the cause when it is unreachable', async () => {
    const url = `http://127.0.0.1:${await deadPort()}`
    const handler = createPassthrough({ upstreamUrl: url, fetch })
    const error = await handler(new Request('http://gw.example/kylin/api/projects')).catch(
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(UpstreamError)
    const upstreamError = error as UpstreamError
    expect(upstreamError.status).toBe(502)
    expect(upstreamError.message).toMatch(
      new RegExp(`^Cannot reach the upstream Kylin at ${url}: .*ECONNREFUSED`),
    )
    const reply = toErrorResponse(error, { lang: 'en', url: 'http://gw/x', requestId: 'r1' })
    expect(reply.status).toBe(502)
    expect(reply.body).toMatchObject({ code: '999', data: null, msg: upstreamError.message })
  })

  it('logs method, path, status and duration at debug, never credentials or cookies', async () => {
    const entries: { level: string; obj: object; msg?: string }[] = []
    const logger: Logger = {
      debug: (obj, msg) => entries.push({ level: 'debug', obj, msg }),
      info: (obj, msg) => entries.push({ level: 'info', obj, msg }),
      warn: (obj, msg) => entries.push({ level: 'warn', obj, msg }),
      error: (obj, msg) => entries.push({ level: 'error', obj, msg }),
      child: () => logger,
    }
    const secrets = {
      Authorization: 'Basic c2VjcmV0LXVzZXI6c2VjcmV0LXBhc3M=',
      Cookie: 'JSESSIONID=secret-session',
    }
    await createPassthrough({ upstreamUrl, fetch, logger })(
      new Request('http://gw.example/kylin/api/test/missing?token=secret-token', {
        headers: secrets,
      }),
    )
    const failing = createPassthrough({
      upstreamUrl: `http://127.0.0.1:${await deadPort()}`,
      fetch,
      logger,
    })
    await failing(new Request('http://gw.example/kylin/api/x', { headers: secrets })).catch(
      () => {},
    )

    expect(entries[0]).toMatchObject({
      level: 'debug',
      obj: { method: 'GET', path: '/kylin/api/test/missing', status: 404 },
    })
    expect(typeof (entries[0]?.obj as { durationMs?: unknown }).durationMs).toBe('number')
    expect(entries[1]?.level).toBe('warn')
    const logged = JSON.stringify(entries)
    expect(logged).not.toMatch(/secret/)
  })
})

// ---------------------------------------------------------------------------------------------
// Served: a Hono app on @hono/node-server, real fetch calls from outside
// ---------------------------------------------------------------------------------------------

describe('passthrough served by Hono on @hono/node-server', () => {
  let gateway: Server
  let gatewayUrl: string
  let downGateway: Server
  let downUrl: string

  function startGateway(upstreamBase: string): Promise<{ server: Server; url: string }> {
    const handler = createPassthrough({ upstreamUrl: upstreamBase, fetch })
    const app = new Hono()
    app.all('/kylin/*', (c) => handler(c.req.raw))
    app.onError((error, c) => {
      const reply = toErrorResponse(error, { lang: 'en', url: c.req.url, requestId: 'test' })
      return c.json(reply.body, reply.status, reply.headers)
    })
    return new Promise((resolve) => {
      const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
        resolve({ server, url: `http://127.0.0.1:${info.port}` })
      }) as Server
    })
  }

  beforeAll(async () => {
    ;({ server: gateway, url: gatewayUrl } = await startGateway(upstreamUrl))
    ;({ server: downGateway, url: downUrl } = await startGateway(
      `http://127.0.0.1:${await deadPort()}`,
    ))
  })

  afterAll(async () => {
    await close(gateway)
    await close(downGateway)
  })

  /** A raw HTTP/1.1 request, so the path goes on the wire exactly as written here. */
  function rawGet(
    path: string,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(`${gatewayUrl}${path}`, { headers }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          }),
        )
        res.on('error', reject)
      })
      req.on('error', reject)
      req.end()
    })
  }

  it('keeps a raw request target exact, escapes and case included', async () => {
    const path = '/kylin/api/a%2fb/c%2Fd/%7e/x+y/%E4%B8%AD?q=a+b&r=%2F%20&s=%e4%b8%ad'
    const response = await rawGet(path)
    const echo = JSON.parse(response.body.toString()) as Echo
    expect(echo.url).toBe(path)
    expect(echo.headers['x-forwarded-host']).toBe(new URL(gatewayUrl).host)
    expect(echo.headers['x-forwarded-proto']).toBe('http')
  })

  it('carries the path, query and headers of a fetch call', async () => {
    const response = await fetch(`${gatewayUrl}/kylin/api/中 文?q=a+b&w=中`, {
      headers: { Authorization: 'Basic QURNSU46S1lMSU4=', Accept: 'application/json' },
    })
    const echo = await echoOf(response)
    expect(echo.url).toBe('/kylin/api/%E4%B8%AD%20%E6%96%87?q=a+b&w=%E4%B8%AD')
    expect(echo.headers.authorization).toBe('Basic QURNSU46S1lMSU4=')
    expect(echo.headers.accept).toBe('application/json')
  })

  it('streams a several-MB request body of unknown length through byte-exact', async () => {
    let offset = 0
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (offset >= LARGE_BODY.length) {
          controller.close()
          return
        }
        controller.enqueue(LARGE_BODY.slice(offset, offset + 100_000))
        offset += 100_000
      },
    })
    const response = await fetch(`${gatewayUrl}/kylin/api/upload`, {
      method: 'PUT',
      body,
      duplex: 'half',
    } as RequestInit & { duplex: 'half' })
    const echo = await echoOf(response)
    expect(echo.method).toBe('PUT')
    expect(echo.bodyLength).toBe(FIVE_MB)
    expect(echo.bodySha256).toBe(LARGE_SHA)
  })

  it('forwards a known Content-Length with a several-MB POST body', async () => {
    const response = await fetch(`${gatewayUrl}/kylin/api/upload`, {
      method: 'POST',
      body: LARGE_BODY,
    })
    const echo = await echoOf(response)
    expect(echo.headers['content-length']).toBe(String(FIVE_MB))
    expect(echo.bodySha256).toBe(LARGE_SHA)
  })

  it('streams the request to the upstream before the client has finished sending', async () => {
    const encoder = new TextEncoder()
    let pulls = 0
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        pulls += 1
        if (pulls === 1) {
          controller.enqueue(encoder.encode('chunk-1;'))
          return
        }
        await within(uploadFirstChunk.promise, 5_000, 'the upstream to receive chunk 1')
        controller.enqueue(encoder.encode('chunk-2'))
        controller.close()
      },
    })
    const response = await fetch(`${gatewayUrl}/kylin/api/test/upload`, {
      method: 'POST',
      body,
      duplex: 'half',
    } as RequestInit & { duplex: 'half' })
    const echo = await echoOf(response)
    expect(Buffer.from(echo.bodyBase64, 'base64').toString()).toBe('chunk-1;chunk-2')
  })

  it('streams responses: 5 MB intact, and a slow body chunk by chunk', async () => {
    const large = await fetch(`${gatewayUrl}/kylin/api/test/large`)
    const bytes = new Uint8Array(await large.arrayBuffer())
    expect(bytes.length).toBe(FIVE_MB)
    expect(sha256(bytes)).toBe(LARGE_SHA)

    const slow = await within(fetch(`${gatewayUrl}/kylin/api/test/slow`), 5_000, 'slow headers')
    const reader = slow.body!.getReader()
    const first = await within(reader.read(), 5_000, 'the first chunk')
    expect(new TextDecoder().decode(first.value)).toBe('first\n')
    slowRelease.resolve()
    let rest = ''
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      rest += new TextDecoder().decode(next.value)
    }
    expect(rest).toBe('second\n')
  })

  it('sends a gzip upstream response on as the decoded body with honest headers', async () => {
    const response = await rawGet('/kylin/api/test/gzip', { 'Accept-Encoding': 'gzip, br' })
    expect(response.status).toBe(200)
    expect(response.headers['x-seen-accept-encoding']).toBe('gzip, br')
    expect(response.headers['content-encoding']).toBeUndefined()
    expect(response.headers['content-length']).toBeUndefined()
    expect(response.body.toString()).toBe(GZIP_JSON)
  })

  it('keeps Set-Cookie headers separate on the wire', async () => {
    const response = await rawGet('/kylin/api/test/cookies')
    expect(response.headers['set-cookie']).toEqual(COOKIES)
  })

  it('returns redirects and error envelopes unchanged', async () => {
    const redirect = await fetch(`${gatewayUrl}/kylin/api/test/redirect`, { redirect: 'manual' })
    expect(redirect.status).toBe(302)
    expect(redirect.headers.get('location')).toBe('/kylin/login?next=%2Fkylin%2Fapi')

    const missing = await fetch(`${gatewayUrl}/kylin/api/test/missing`)
    expect(missing.status).toBe(404)
    expect(await missing.text()).toBe(KYLIN_404)
  })

  it('answers a 502 Kylin envelope when the upstream is down, and keeps serving', async () => {
    const response = await fetch(`${downUrl}/kylin/api/projects`, {
      method: 'POST',
      body: '{"sql":"select 1"}',
    })
    expect(response.status).toBe(502)
    const envelope = (await response.json()) as { code: string; data: unknown; msg: string }
    expect(envelope.code).toBe('999')
    expect(envelope.data).toBeNull()
    expect(envelope.msg).toMatch(/^Cannot reach the upstream Kylin at http:\/\/127\.0\.0\.1:\d+: /)

    const again = await fetch(`${downUrl}/kylin/api/projects`)
    expect(again.status).toBe(502)
  })
})
