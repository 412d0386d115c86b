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

/**
 * Re-emits the body so a failure mid-stream (timeout, cancel, reset) surfaces as the same
 * UpstreamError a failure before the headers would, not as a bare `terminated`/AbortError.
 */
export function mapStreamErrors(
  body: ReadableStream<Uint8Array>,
  failure: (error: unknown) => UpstreamError,
): ReadableStream<Uint8Array> {
  const reader = body.getReader()
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done, value } = await reader.read()
          if (done) controller.close()
          else controller.enqueue(value)
        } catch (error) {
          controller.error(failure(error))
        }
      },
      cancel(reason) {
        return reader.cancel(reason)
      },
    },
    { highWaterMark: 0 },
  )
}

export function emptyStream(): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.close()
    },
  })
}
