/**
 * Reading upstream bodies safely: a bounded read of small answers, and errors mid-stream
 * re-worded like errors before the headers. Portable: Web streams.
 */
import type { UpstreamError } from '../errors.ts'

/** Error pages and identity answers are small; beyond this is a stack trace nobody reads. */
export const MAX_READ_BYTES = 64 * 1024

/**
 * Reads at most `maxBytes` of a body as UTF-8 and cancels the rest, so a huge error page or a
 * never-ending body cannot hold memory or the connection.
 */
export async function readLimitedText(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return ''
  const reader = response.body.getReader()
  const decoder = new TextDecoder()
  let text = ''
  let remaining = maxBytes
  try {
    while (remaining > 0) {
      const { done, value } = await reader.read()
      if (done) return text + decoder.decode()
      const chunk = value.byteLength > remaining ? value.subarray(0, remaining) : value
      remaining -= chunk.byteLength
      text += decoder.decode(chunk, { stream: true })
    }
    await reader.cancel().catch(() => {})
    return text + decoder.decode()
  } finally {
    reader.releaseLock()
  }
}

/** What a plain read of a byte stream's wrapper reads at a time (as a socket read). */
const PLAIN_READ_BYTES = 64 * 1024

/**
 * Re-emits the body so a failure mid-stream (timeout, cancel, reset) surfaces as the same
 * UpstreamError a failure before the headers would, not as a bare `terminated`/AbortError. A
 * byte stream stays one: a reader's own buffer (BYOB) is passed through to the body.
 */
export function mapStreamErrors(
  body: ReadableStream<Uint8Array>,
  failure: (error: unknown) => UpstreamError,
): ReadableStream<Uint8Array> {
  const byob = byobReaderOf(body)
  const reader = byob ?? body.getReader()
  /** One pull, its failure re-worded: the stream errors with it. */
  const guarded =
    <C extends { error(reason?: unknown): void }>(pull: (controller: C) => Promise<void>) =>
    async (controller: C) => {
      try {
        await pull(controller)
      } catch (error) {
        controller.error(failure(error))
      }
    }
  const cancel = (reason: unknown) => reader.cancel(reason)
  if (byob) {
    const pull = guarded((c: ReadableByteStreamController) => pullInto(byob, c))
    return new ReadableStream({ type: 'bytes', pull, cancel }, { highWaterMark: 0 })
  }
  const plain = reader as ReadableStreamDefaultReader<Uint8Array>
  const pull = guarded(async (c: ReadableStreamDefaultController<Uint8Array>) => {
    const { done, value } = await plain.read()
    if (done) c.close()
    else c.enqueue(value)
  })
  return new ReadableStream<Uint8Array>({ pull, cancel }, { highWaterMark: 0 })
}

/** A reader of `body` that reads into the caller's buffers, when `body` is a byte stream. */
export function byobReaderOf(body: ReadableStream<Uint8Array>): ReadableStreamBYOBReader | null {
  try {
    return body.getReader({ mode: 'byob' })
  } catch {
    return null
  }
}

/** One read of a byte stream: into the reader's own buffer, or (a plain read) one of ours. */
async function pullInto(
  reader: ReadableStreamBYOBReader,
  controller: ReadableByteStreamController,
): Promise<void> {
  const request = controller.byobRequest
  if (!request) {
    const { done, value } = await reader.read(new Uint8Array(PLAIN_READ_BYTES))
    if (done) controller.close()
    else controller.enqueue(value)
    return
  }
  const view = request.view!
  // The reader's buffer moves to the body's read and comes back in `value`.
  const { done, value } = await reader.read(
    new Uint8Array(view.buffer, view.byteOffset, view.byteLength),
  )
  if (done) controller.close()
  if (value) request.respondWithNewView(value)
}

export function emptyStream(): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.close()
    },
  })
}
