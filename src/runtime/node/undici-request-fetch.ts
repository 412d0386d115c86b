/**
 * A fetch for the Kylin client's own calls (the sync query and the identity check) to an `https:`
 * Kylin (a plain-`http:` one is read by http1/socket-fetch.ts) on undici's `request`: the answer is read from undici's Node stream through one lean web stream rather than
 * through fetch's body machinery, which takes about twice the CPU to drain the same answer (README,
 * Performance). Only what those calls use:
 * a string body or none, no redirects followed, no content decoding (no Accept-Encoding is sent,
 * so Kylin answers uncompressed). Failures look as fetch's do (`TypeError` with the cause), so
 * they read the same. Node only.
 */
import { createRequire } from 'node:module'
import type { Readable } from 'node:stream'
import type { Dispatcher } from 'undici'
import { requestUrlOf } from './request-url.ts'

/**
 * undici's `request` alone, called on the given dispatcher, instead of undici's index: the index
 * also loads fetch, WebSocket, the caches and the mocks, ~8 MB of RSS that the export path never
 * uses (README, Operations: Memory). undici has no `exports` map, so the
 * file can be required directly (a moved file fails at start, not later).
 */
const undiciRequest = createRequire(import.meta.url)('undici/lib/api/api-request.js') as (
  this: Dispatcher,
  options: Dispatcher.RequestOptions,
) => Promise<Dispatcher.ResponseData>

export function createRequestFetch(dispatcher: Dispatcher): typeof fetch {
  const requestFetch = async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = requestUrlOf(input)
    if (init.body != null && typeof init.body !== 'string') {
      throw new TypeError('This fetch sends a string body or none.')
    }
    let answer: Dispatcher.ResponseData
    try {
      const target = new URL(url)
      answer = await undiciRequest.call(dispatcher, {
        origin: target.origin,
        path: `${target.pathname}${target.search}`,
        method: (init.method ?? 'GET') as Dispatcher.HttpMethod,
        headers: Object.fromEntries(new Headers(init.headers)),
        body: init.body ?? undefined,
        signal: init.signal ?? undefined,
      })
    } catch (error) {
      throw new TypeError('fetch failed', { cause: error })
    }
    const headers = new Headers()
    for (const [name, value] of Object.entries(answer.headers)) {
      for (const one of Array.isArray(value) ? value : [value]) {
        if (one !== undefined) headers.append(name, one)
      }
    }
    const { statusCode } = answer
    if (statusCode === 204 || statusCode === 304 || init.method === 'HEAD') {
      answer.body.resume()
      return new Response(null, { status: statusCode, headers })
    }
    return new Response(toWebStream(answer.body), { status: statusCode, headers })
  }
  return requestFetch as typeof fetch
}

/** Pulls undici's body a chunk at a time; a cancel destroys it, so the socket is let go. */
function toWebStream(body: Readable): ReadableStream<Uint8Array> {
  const chunks = body[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let next: IteratorResult<Uint8Array>
        try {
          next = await chunks.next()
        } catch (error) {
          // As fetch reports a body that broke off.
          throw new TypeError('terminated', { cause: error })
        }
        if (next.done) controller.close()
        else controller.enqueue(next.value)
      },
      cancel() {
        // Destroyed without an error: nobody is left to hear one.
        body.on('error', () => {})
        body.destroy()
      },
    },
    { highWaterMark: 0 },
  )
}
