/** Byte streams for tests and benchmarks; no test-runner imports, so bench/ can use them. */

/** A pull-based stream over `chunks`, one chunk per pull, with the default queuing strategy. */
export function pullStreamOf(chunks: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  let next = 0
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks[next++]
      if (chunk) controller.enqueue(chunk)
      else controller.close()
    },
  })
}
