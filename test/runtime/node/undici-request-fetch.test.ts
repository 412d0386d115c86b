/**
 * The Kylin client's fetch on undici's request, against a real loopback server: what it sends
 * (no Accept-Encoding), what it answers (statuses, repeated headers, no body where none may be),
 * that it follows no redirect, and that cancelling the body lets the connection go. Node only.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Agent } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRequestFetch } from '../../../src/runtime/node/undici-request-fetch.ts'

let server: Server
let url: string
let seen: IncomingMessage | undefined
let closed = 0
const agent = new Agent()
const requestFetch = createRequestFetch(agent)

beforeAll(async () => {
  server = createServer((req, res) => {
    seen = req
    req.resume()
    res.on('close', () => closed++)
    switch (req.url) {
      case '/cookies':
        res.setHeader('Set-Cookie', ['a=1', 'b=2'])
        res.end('ok')
        return
      case '/empty':
        res.writeHead(204).end()
        return
      case '/moved':
        res.writeHead(302, { Location: '/elsewhere' }).end()
        return
      case '/endless':
        res.writeHead(200, { 'Content-Type': 'application/json' })
        res.write('[')
        return
      default:
        res.writeHead(200, { 'Content-Type': 'application/json' })
        res.end(JSON.stringify({ method: req.method }))
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server.closeAllConnections()
  await agent.destroy()
  await new Promise((resolve) => server.close(resolve))
})

describe('runtime/node/undici-request-fetch', () => {
  it('sends the method, headers and body, asks for no compression, and reads the answer', async () => {
    const response = await requestFetch(`${url}/query`, {
      method: 'POST',
      headers: { Authorization: 'Basic eDp5', 'Content-Type': 'application/json' },
      body: '{"sql":"select 1"}',
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ method: 'POST' })
    expect(seen?.headers.authorization).toBe('Basic eDp5')
    expect(seen?.headers['accept-encoding']).toBeUndefined()
  })

  it('keeps repeated headers, has no body for a 204, and follows no redirect', async () => {
    const cookies = await requestFetch(`${url}/cookies`)
    expect(cookies.headers.getSetCookie()).toEqual(['a=1', 'b=2'])
    expect(await cookies.text()).toBe('ok')
    const empty = await requestFetch(`${url}/empty`)
    expect(empty.status).toBe(204)
    expect(empty.body).toBeNull()
    const moved = await requestFetch(`${url}/moved`, { redirect: 'manual' })
    expect(moved.status).toBe(302)
    expect(moved.headers.get('location')).toBe('/elsewhere')
  })

  it('fails as fetch does when nothing listens, with the cause', async () => {
    const error = (await requestFetch('http://127.0.0.1:9/query').catch((e: unknown) => e)) as Error
    expect(error).toBeInstanceOf(TypeError)
    expect(error.message).toBe('fetch failed')
    expect((error.cause as { code?: string }).code).toBe('ECONNREFUSED')
  })

  it('lets the connection go when the body is cancelled', async () => {
    const before = closed
    const response = await requestFetch(`${url}/endless`)
    const reader = response.body!.getReader()
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('[')
    await reader.cancel()
    await expect.poll(() => closed).toBe(before + 1)
  })

  it('refuses a body it does not send', async () => {
    await expect(
      requestFetch(`${url}/query`, { method: 'POST', body: new Uint8Array([1]) }),
    ).rejects.toThrow('This fetch sends a string body or none.')
  })
})
