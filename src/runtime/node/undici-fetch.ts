/**
 * A fetch for the upstream Kylin on its own undici connection pool, with connect, header and
 * body-stall timeouts. Node only (npm undici); Workers use their global fetch instead.
 */
import { createRequire } from 'node:module'
import type * as Undici from 'undici'
import { createSocketFetch } from './http1/socket-fetch.ts'
import { requestUrlOf } from './request-url.ts'
import { createRequestFetch } from './undici-request-fetch.ts'

/**
 * The pool alone at start; undici's fetch (its index: fetch, WebSocket, caches, mocks, ~8 MB of
 * RSS) loads on the first pass-through or readiness call, as the export path never uses it
 * (README, Operations: Memory). undici has no `exports` map, so the file can be required
 * directly (a moved file fails at start, not later); the index requires this same file, so the
 * pool is the class its fetch expects.
 */
const Agent = createRequire(import.meta.url)(
  'undici/lib/dispatcher/agent.js',
) as typeof Undici.Agent

let undiciFetch: Promise<typeof Undici.fetch> | undefined
function loadUndiciFetch(): Promise<typeof Undici.fetch> {
  undiciFetch ??= import('undici').then((undici) => undici.fetch)
  return undiciFetch
}

export interface UndiciFetchOptions {
  connectTimeoutMs: number
  /** Until the response headers arrive: Kylin sends none before the whole query has run. */
  headersTimeoutMs: number
  /** The longest pause between two body chunks, not the whole body. */
  bodyTimeoutMs: number
  /** Sockets per upstream origin; unlimited by default. */
  connections?: number
}

export interface UndiciFetch {
  fetch: typeof fetch
  /**
   * The Kylin client's calls: to a plain `http:` Kylin each on a socket of its own read into one
   * buffer (http1/socket-fetch.ts); to an `https:` one on undici's `request`, on the same pool
   * (undici-request-fetch.ts).
   */
  kylinFetch: typeof fetch
  /** Lets in-flight requests finish, then closes the pool's sockets. */
  close(): Promise<void>
}

/** Below Tomcat's 20 s keep-alive, so we never reuse a socket the server is about to close. */
const KEEP_ALIVE_TIMEOUT_MS = 4_000

export function createUndiciFetch(options: UndiciFetchOptions): UndiciFetch {
  const agent = new Agent({
    connect: { timeout: options.connectTimeoutMs },
    headersTimeout: options.headersTimeoutMs,
    bodyTimeout: options.bodyTimeoutMs,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    ...(options.connections === undefined ? {} : { connections: options.connections }),
  })

  async function fetchWithAgent(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const undiciFetch = await loadUndiciFetch()
    // npm undici's fetch does not recognise Node's global Request (a different undici copy):
    // it would stringify it to "[object Request]", so its parts are passed as init instead.
    if (typeof input === 'object' && !(input instanceof URL)) {
      const request = input
      const merged: Record<string, unknown> = {
        method: request.method,
        headers: request.headers,
        body: request.body,
        redirect: request.redirect,
        signal: request.signal,
        ...(request.body ? { duplex: 'half' } : {}),
        ...init,
        dispatcher: agent,
      }
      return undiciFetch(request.url, merged) as unknown as Promise<Response>
    }
    const withAgent: Record<string, unknown> = { ...init, dispatcher: agent }
    if (isStreamBody(init?.body)) withAgent.duplex ??= 'half'
    // undici's Response/RequestInit types differ from lib.dom's in details only (e.g. its own
    // Headers class); at runtime they are the same Web API objects, hence the boundary cast.
    return undiciFetch(input, withAgent) as unknown as Promise<Response>
  }

  const requestFetch = createRequestFetch(agent)
  const socket = createSocketFetch(options)
  const kylinFetch = (input: RequestInfo | URL, init?: RequestInit) => {
    return requestUrlOf(input).startsWith('http:')
      ? socket.fetch(input, init)
      : requestFetch(input, init)
  }

  return {
    fetch: fetchWithAgent as typeof fetch,
    kylinFetch: kylinFetch as typeof fetch,
    close: async () => {
      await Promise.all([agent.close(), socket.close()])
    },
  }
}

function isStreamBody(body: unknown): boolean {
  return typeof ReadableStream !== 'undefined' && body instanceof ReadableStream
}
