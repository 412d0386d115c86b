/**
 * Upstream bodies: a bounded text read, and the re-emitted body whose failures read as the
 * gateway's own; a byte stream stays one, passing the reader's own buffer through to the body.
 * Portable.
 */
import { describe, expect, it } from 'vitest'
import { UpstreamError } from '../../src/errors.ts'
import { byobReaderOf, mapStreamErrors, readLimitedText } from '../../src/upstream/response-body.ts'

const encoder = new TextEncoder()
const failure = (error: unknown) => new UpstreamError(`mapped: ${(error as Error).message}`)

/** A byte stream that writes `text` into the reader's buffer a few bytes at a time, then fails or ends. */
function byteBody(text: string, failAtEnd = false) {
  const bytes = encoder.encode(text)
  let at = 0
  const seen: ArrayBufferLike[] = []
  const stream = new ReadableStream({
    type: 'bytes',
    pull(controller: ReadableByteStreamController) {
      if (at === bytes.length) {
        if (failAtEnd) return controller.error(new Error('reset'))
        controller.close()
        controller.byobRequest?.respond(0)
        return
      }
      const request = controller.byobRequest!
      const view = request.view!
      seen.push(view.buffer)
      const n = Math.min(5, view.byteLength, bytes.length - at)
      new Uint8Array(view.buffer, view.byteOffset, n).set(bytes.subarray(at, at + n))
      at += n
      request.respond(n)
    },
    autoAllocateChunkSize: 16,
  })
  return { stream, seen }
}

describe('upstream/response-body', () => {
  it('reads at most the bound as text and cancels the rest', async () => {
    const response = new Response('abcdefghij')
    expect(await readLimitedText(response, 4)).toBe('abcd')
  })

  it('re-words a failure of a plain stream mid-body', async () => {
    let sent = false
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent) return controller.error(new Error('reset'))
        sent = true
        controller.enqueue(encoder.encode('part'))
      },
    })
    const mapped = mapStreamErrors(body, failure)
    expect(byobReaderOf(mapped)).toBeNull()
    await expect(new Response(mapped).text()).rejects.toThrow('mapped: reset')
  })

  it("passes the reader's own buffer through to a byte-stream body", async () => {
    const { stream, seen } = byteBody('all of the body')
    const reader = byobReaderOf(mapStreamErrors(stream, failure))!
    expect(reader).not.toBeNull()
    let buffer = new Uint8Array(64)
    let text = ''
    for (;;) {
      const { done, value } = await reader.read(buffer)
      if (done) break
      text += new TextDecoder().decode(value)
      expect(value.buffer.byteLength).toBe(64)
      buffer = new Uint8Array(value.buffer)
    }
    expect(text).toBe('all of the body')
    // The body wrote into the reader's buffer each time: one size, never one of its own.
    expect(seen.every((b) => b.byteLength === 0 || b.byteLength === 64)).toBe(true)
  })

  it('serves a plain reader of a byte-stream body, and re-words its failure', async () => {
    const { stream } = byteBody('plain reads', true)
    const mapped = mapStreamErrors(stream, failure)
    const reader = mapped.getReader()
    let text = ''
    const error = await (async () => {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) return null
        text += new TextDecoder().decode(value)
      }
    })().catch((e: unknown) => e)
    expect(text).toBe('plain reads')
    expect(error).toBeInstanceOf(UpstreamError)
    expect((error as Error).message).toBe('mapped: reset')
  })
})
