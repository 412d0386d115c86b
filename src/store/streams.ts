/**
 * What every store driver does alike: check a put before its body is read, read it chunk by chunk
 * with abort handling, check keys, make empty bodies, and word its errors. Portable: Web streams.
 */
import { isValidKey } from './types.ts'

/**
 * Yields the body's chunks. Rejects with the body's own error if it errors, and with the signal's
 * reason on abort (the body is then cancelled); stopping early also cancels the body.
 */
export async function* readChunks(
  body: ReadableStream<Uint8Array>,
  signal: AbortSignal | undefined,
  driver: string,
): AsyncGenerator<Uint8Array, void, undefined> {
  const reader = body.getReader()
  // Cancelling settles a pending read, so an abort is noticed even while the producer is stalled.
  const onAbort = () => {
    reader.cancel(signal?.reason).catch(() => {})
  }
  signal?.addEventListener('abort', onAbort, { once: true })
  let ended = false
  try {
    for (;;) {
      const { done, value } = await reader.read()
      signal?.throwIfAborted()
      if (done) {
        ended = true
        return
      }
      if (!(value instanceof Uint8Array)) {
        throw new TypeError(`[${driver}] put body must yield Uint8Array chunks`)
      }
      yield value
    }
  } finally {
    signal?.removeEventListener('abort', onAbort)
    if (!ended) await reader.cancel(signal?.reason).catch(() => {})
    reader.releaseLock()
  }
}

/**
 * The checks a put makes before it reads its body: `check` (the key), then the signal. If one
 * fails, the body is cancelled so its producer is not left waiting. Answers what `check` answers.
 */
export function checkPut<T>(
  body: ReadableStream<Uint8Array>,
  signal: AbortSignal | undefined,
  check: () => T,
): T {
  try {
    const checked = check()
    signal?.throwIfAborted()
    return checked
  } catch (err) {
    discard(body, err)
    throw err
  }
}

/** Cancels a body we will not read, so its producer is not left waiting. */
export function discard(body: ReadableStream<Uint8Array>, reason: unknown): void {
  if (!body.locked) body.cancel(reason).catch(() => {})
}

export function assertKey(key: string): void {
  if (!isValidKey(key)) throw new Error(`Invalid store key: ${describeKey(key)}`)
}

function describeKey(key: unknown): string {
  const text = String(key)
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text)
}

/** `[driver] action failed for key: cause`, keeping the cause. */
export function toDriverError(driver: string, action: string, key: string, cause: unknown): Error {
  return new Error(`[${driver}] ${action} failed for ${key}: ${messageOf(cause)}`, { cause })
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

export function emptyStream(): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({ start: (controller) => controller.close() })
}
