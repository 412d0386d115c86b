/**
 * The chunks of a Web ReadableStream as an async iterable (the DOM typings lack
 * `Symbol.asyncIterator`); leaving the loop early cancels the stream. Node only (the command's own part).
 */
export async function* readChunks(
  stream: ReadableStream<Uint8Array> | null,
): AsyncGenerator<Uint8Array> {
  if (!stream) return
  const reader = stream.getReader()
  let done = false
  try {
    for (;;) {
      const next = await reader.read()
      if (next.done) {
        done = true
        return
      }
      yield next.value
    }
  } finally {
    if (!done) await reader.cancel().catch(() => {})
    reader.releaseLock()
  }
}
