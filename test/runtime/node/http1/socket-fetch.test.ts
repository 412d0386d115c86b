/**
 * The socket reader against real loopback servers: what it sends, bodies of every framing read
 * with the reader's own buffer or as copies, no redirect followed, timeouts that fire only while
 * it waits for the server, aborts, cancels that let the connection go, and servers that break
 * the protocol or the connection, each failing as fetch fails. Node only.
 */
import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import {
  createServer as createNetServer,
  type AddressInfo,
  type Server as NetServer,
  type Socket,
} from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import {
  createSocketFetch,
  type SocketFetch,
} from '../../../../src/runtime/node/http1/socket-fetch.ts'

const TIMEOUTS = { connectTimeoutMs: 2_000, headersTimeoutMs: 2_000, bodyTimeoutMs: 2_000 }
/** A body larger than the reader's one buffer, in uneven writes. */
const LARGE = Buffer.alloc(3 * 1024 * 1024 + 17, 0)
for (let i = 0; i < LARGE.length; i++) LARGE[i] = (i * 31 + (i >> 9)) & 0xff

let server: Server
let url: string
let seen: { req: IncomingMessage; body: string } | undefined
let closedResponses = 0
let client: SocketFetch

beforeAll(async () => {
  server = createServer((req, res) => {
    const parts: Buffer[] = []
    req.on('data', (part: Buffer) => parts.push(part))
    req.on('end', () => {
      seen = { req, body: Buffer.concat(parts).toString() }
      res.on('close', () => closedResponses++)
      switch (req.url) {
        case '/large-chunked': {
          res.writeHead(200, { 'Content-Type': 'application/octet-stream' })
          let at = 0
          const writeSome = () => {
            while (at < LARGE.length) {
              const size = 1000 + ((at * 7) % 70_000)
              const ok = res.write(LARGE.subarray(at, at + size))
              at += size
              if (!ok) return void res.once('drain', writeSome)
            }
            res.end()
          }
          writeSome()
          return
        }
        case '/large-length':
          res.writeHead(200, { 'Content-Length': LARGE.length })
          res.end(LARGE)
          return
        case '/empty':
          res.writeHead(204).end()
          return
        case '/moved':
          res.writeHead(302, { Location: '/elsewhere' }).end()
          return
        case '/cookies':
          res.setHeader('Set-Cookie', ['a=1', 'b=2'])
          res.end('ok')
          return
        case '/endless':
          res.writeHead(200)
          res.write('[')
          return
        case '/slow-head':
          return
        default:
          res.writeHead(200, { 'Content-Type': 'application/json' })
          res.end(JSON.stringify({ method: req.method }))
      }
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterEach(async () => {
  await client?.close()
})

afterAll(async () => {
  server.closeAllConnections()
  server.close()
  await once(server, 'close')
})

/** A server that answers each connection with `answer`, raw bytes, the test's to shape. */
async function rawServer(
  answer: (socket: Socket) => void,
): Promise<{ url: string; net: NetServer }> {
  const net = createNetServer((socket) => {
    socket.once('data', () => answer(socket))
    socket.on('error', () => {})
  })
  net.listen(0, '127.0.0.1')
  await once(net, 'listening')
  return { url: `http://127.0.0.1:${(net.address() as AddressInfo).port}`, net }
}

/** Reads a body with one buffer of our own, again and again, as the export does. */
async function readByob(body: ReadableStream<Uint8Array>, size = 64 * 1024): Promise<Buffer> {
  const reader = body.getReader({ mode: 'byob' })
  const parts: Buffer[] = []
  let buffer = new Uint8Array(size)
  const first = buffer.buffer
  for (;;) {
    const { done, value } = await reader.read(buffer)
    if (done) break
    expect(value.buffer.byteLength).toBe(size)
    parts.push(Buffer.from(value))
    buffer = new Uint8Array(value.buffer)
  }
  // The buffer we gave went into the read and came back: none was made per read.
  expect(first.byteLength).toBe(0)
  return Buffer.concat(parts)
}

function causeCode(error: unknown): unknown {
  return ((error as { cause?: { code?: unknown } }).cause ?? {}).code
}

describe('runtime/node/http1/socket-fetch', () => {
  it('sends the method, headers and body, asks for no compression, and reads the answer', async () => {
    client = createSocketFetch(TIMEOUTS)
    const response = await client.fetch(`${url}/query?x=1`, {
      method: 'POST',
      headers: { Authorization: 'Basic eDp5', 'Content-Type': 'application/json' },
      body: '{"sql":"select \u00e9"}',
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ method: 'POST' })
    expect(seen!.req.url).toBe('/query?x=1')
    expect(seen!.body).toBe('{"sql":"select \u00e9"}')
    expect(seen!.req.headers).toMatchObject({
      authorization: 'Basic eDp5',
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength('{"sql":"select \u00e9"}')),
      host: new URL(url).host,
      connection: 'close',
    })
    expect(seen!.req.headers['accept-encoding']).toBeUndefined()
  })

  it.each(['/large-chunked', '/large-length'])(
    "reads %s into the reader's own buffer, byte for byte",
    async (path) => {
      client = createSocketFetch(TIMEOUTS)
      const response = await client.fetch(`${url}${path}`, { method: 'POST', body: '{}' })
      // Written into the reader's buffer, never queued as a copy of its own.
      const enqueue = vi.spyOn(ReadableByteStreamController.prototype, 'enqueue')
      try {
        expect((await readByob(response.body!)).equals(LARGE)).toBe(true)
        expect(enqueue).not.toHaveBeenCalled()
      } finally {
        enqueue.mockRestore()
      }
    },
  )

  it('gives a plain reader copies that stay as they were', async () => {
    client = createSocketFetch(TIMEOUTS)
    const response = await client.fetch(`${url}/large-chunked`)
    const reader = response.body!.getReader()
    const kept: Uint8Array[] = []
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      kept.push(next.value)
    }
    expect(Buffer.concat(kept).equals(LARGE)).toBe(true)
  })

  it('keeps repeated headers, has no body for a 204, and follows no redirect', async () => {
    client = createSocketFetch(TIMEOUTS)
    const cookies = await client.fetch(`${url}/cookies`)
    expect(cookies.headers.getSetCookie()).toEqual(['a=1', 'b=2'])
    expect(await cookies.text()).toBe('ok')
    const empty = await client.fetch(`${url}/empty`)
    expect([empty.status, empty.body]).toEqual([204, null])
    const moved = await client.fetch(`${url}/moved`, { redirect: 'manual' })
    expect([moved.status, moved.headers.get('location')]).toEqual([302, '/elsewhere'])
    expect(await moved.text()).toBe('')
  })

  it('reads a body that ends with the connection, after an interim 100 Continue', async () => {
    const raw = await rawServer((socket) => {
      socket.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nX-A: 1\r\n\r\nall of ')
      setTimeout(() => socket.end('it'), 20)
    })
    client = createSocketFetch(TIMEOUTS)
    const response = await client.fetch(raw.url)
    expect([response.status, response.headers.get('x-a')]).toEqual([200, '1'])
    expect(await response.text()).toBe('all of it')
    raw.net.close()
  })

  it('fails as fetch does when nothing listens, with the cause', async () => {
    const raw = await rawServer(() => {})
    raw.net.close()
    await once(raw.net, 'close')
    client = createSocketFetch(TIMEOUTS)
    const error = await client.fetch(raw.url).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TypeError)
    expect((error as Error).message).toBe('fetch failed')
    expect(causeCode(error)).toBe('ECONNREFUSED')
  })

  it("fails with undici's code when no head comes in time", async () => {
    client = createSocketFetch({ ...TIMEOUTS, headersTimeoutMs: 100 })
    const error = await client.fetch(`${url}/slow-head`).catch((e: unknown) => e)
    expect((error as Error).message).toBe('fetch failed')
    expect(causeCode(error)).toBe('UND_ERR_HEADERS_TIMEOUT')
  })

  it('breaks the body off when the server stalls while the reader waits', async () => {
    client = createSocketFetch({ ...TIMEOUTS, bodyTimeoutMs: 100 })
    const response = await client.fetch(`${url}/endless`)
    const error = await response.text().catch((e: unknown) => e)
    expect((error as Error).message).toBe('terminated')
    expect(causeCode(error)).toBe('UND_ERR_BODY_TIMEOUT')
  })

  it('lets a slow reader take its time: the body timeout runs only while it waits', async () => {
    client = createSocketFetch({ ...TIMEOUTS, bodyTimeoutMs: 100 })
    const response = await client.fetch(`${url}/large-length`)
    const reader = response.body!.getReader()
    const parts: Uint8Array[] = []
    for (let i = 0; ; i++) {
      if (i < 3) await new Promise((resolve) => setTimeout(resolve, 250))
      const { done, value } = await reader.read()
      if (done) break
      parts.push(value)
    }
    expect(Buffer.concat(parts).equals(LARGE)).toBe(true)
  })

  it("breaks the body off with undici's words when the connection drops mid-body", async () => {
    const raw = await rawServer((socket) => {
      socket.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this')
    })
    client = createSocketFetch(TIMEOUTS)
    const response = await client.fetch(raw.url)
    const error = await response.text().catch((e: unknown) => e)
    expect((error as Error).message).toBe('terminated')
    expect(causeCode(error)).toBe('UND_ERR_SOCKET')
    raw.net.close()
  })

  it.each([
    ['a status line that is not HTTP/1', 'SSH-2.0-OpenSSH\r\n\r\n', 'head'],
    ['a broken chunk', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 'body'],
  ])('fails on %s', async (_, wire, phase) => {
    const raw = await rawServer((socket) => socket.write(wire))
    client = createSocketFetch(TIMEOUTS)
    const failure = client.fetch(raw.url).then((response) => response.text())
    const error = await failure.catch((e: unknown) => e)
    expect((error as Error).message).toBe(phase === 'head' ? 'fetch failed' : 'terminated')
    expect((error as Error & { cause: Error }).cause.name).toBe('FramingError')
    raw.net.close()
  })

  it('rejects with the abort reason, before the answer and during its body', async () => {
    client = createSocketFetch(TIMEOUTS)
    const before = new AbortController()
    const pending = client.fetch(`${url}/slow-head`, { signal: before.signal })
    before.abort(new Error('stop now'))
    await expect(pending).rejects.toThrow('stop now')
    const during = new AbortController()
    const response = await client.fetch(`${url}/endless`, { signal: during.signal })
    const reading = response.text()
    during.abort(new Error('stop reading'))
    await expect(reading).rejects.toThrow('stop reading')
  })

  it('lets the connection go when the body is cancelled', async () => {
    client = createSocketFetch(TIMEOUTS)
    const before = closedResponses
    const response = await client.fetch(`${url}/endless`)
    await response.body!.cancel()
    for (let i = 0; i < 100 && closedResponses === before; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    expect(closedResponses).toBe(before + 1)
  })

  it('refuses what it does not do: https, a stream body, calls after close', async () => {
    client = createSocketFetch(TIMEOUTS)
    await expect(client.fetch('https://127.0.0.1:1/')).rejects.toThrow(/plain http/)
    await expect(
      client.fetch(url, {
        method: 'POST',
        body: new ReadableStream(),
        duplex: 'half',
      } as RequestInit),
    ).rejects.toThrow(/string body/)
    await client.close()
    await expect(client.fetch(url)).rejects.toThrow('fetch failed')
  })

  it('closes once the exchanges in flight have ended', async () => {
    client = createSocketFetch(TIMEOUTS)
    const response = await client.fetch(`${url}/large-length`)
    let closed = false
    const closing = client.close().then(() => (closed = true))
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(closed).toBe(false)
    expect(Buffer.from(await response.arrayBuffer()).equals(LARGE)).toBe(true)
    await closing
    expect(closed).toBe(true)
  })
})
