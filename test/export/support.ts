/** Byte streams and readers shared by the export tests. Portable. */
import { pullStreamOf } from '../support/streams.ts'

/** A stream of `bytes` cut in pieces of the given sizes (cycled). */
export function toChunkedStream(bytes: Uint8Array, sizes: readonly number[] = [bytes.length]) {
  const chunks: Uint8Array[] = []
  let offset = 0
  for (let i = 0; offset < bytes.length; i++) {
    const size = Math.max(1, sizes[i % sizes.length] ?? 1)
    chunks.push(bytes.slice(offset, offset + size))
    offset += size
  }
  return pullStreamOf(chunks)
}

/** A stream of `bytes` cut at the given offsets (any order, repeats and out-of-range ignored). */
export function toSplitStream(bytes: Uint8Array, offsets: readonly number[]) {
  const cuts = [...new Set(offsets)].filter((o) => o > 0 && o < bytes.length).sort((a, b) => a - b)
  const chunks: Uint8Array[] = []
  let from = 0
  for (const cut of [...cuts, bytes.length]) {
    chunks.push(bytes.slice(from, cut))
    from = cut
  }
  return pullStreamOf(chunks)
}

export async function readAll(stream: ReadableStream<Uint8Array>) {
  const chunks: Uint8Array[] = []
  const reader = stream.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    chunks.push(value)
  }
  return { bytes: concat(chunks), chunks }
}

/** The parts one after another in one new array. */
export function concat(parts: readonly ArrayLike<number>[]): Uint8Array {
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let offset = 0
  for (const part of parts) {
    bytes.set(part, offset)
    offset += part.length
  }
  return bytes
}
