/**
 * Cuts a put body into multipart parts for the object-store drivers (R2, S3), which share S3's
 * multipart limits. Portable: plain Uint8Arrays, no node:*.
 */

const MIB = 1024 * 1024
/** S3 and R2 refuse to complete an upload whose parts (all but the last) are smaller than this. */
export const MIN_PART_SIZE = 5 * MIB
export const DEFAULT_PART_SIZE = 8 * MIB
/** The part-number limit: the largest blob a store can hold is MAX_PARTS × partSize. */
export const MAX_PARTS = 10_000
/** Most results are small: the part buffer starts here and doubles only as the data needs it. */
const INITIAL_BUFFER_BYTES = 64 * 1024

export interface FilledParts {
  /** Bytes read from the body in all. */
  size: number
  /** What follows the last part sent: the whole blob if none was sent, else the non-empty last part. */
  rest: Uint8Array<ArrayBuffer>
}

/**
 * Reads `chunks` into parts of exactly `partSize` bytes and hands each full part to `sendPart`.
 * A full part goes out only once more bytes arrive, so a blob of exactly one part is left whole in
 * `rest` (a single put), and the last part is never empty. The same buffer is refilled once
 * `sendPart` settles, unless it returns another one of `partSize` bytes to fill meanwhile (so the
 * part it sent stays untouched while in flight).
 */
export async function fillParts(
  chunks: AsyncIterable<Uint8Array>,
  partSize: number,
  sendPart: (part: Uint8Array<ArrayBuffer>) => Promise<Uint8Array<ArrayBuffer> | void>,
): Promise<FilledParts> {
  let buffer = new Uint8Array(Math.min(INITIAL_BUFFER_BYTES, partSize))
  let filled = 0
  let size = 0
  for await (const chunk of chunks) {
    size += chunk.byteLength
    let offset = 0
    while (offset < chunk.byteLength) {
      if (filled === partSize) {
        buffer = (await sendPart(buffer.subarray(0, filled))) ?? buffer
        filled = 0
      }
      if (filled === buffer.byteLength) buffer = grow(buffer, filled, partSize)
      // Every part but the last must be exactly partSize (R2, and R2's S3 API unlike AWS, refuse
      // unequal parts), so a chunk is split across the boundary rather than overfilling a part.
      const count = Math.min(chunk.byteLength - offset, buffer.byteLength - filled)
      buffer.set(chunk.subarray(offset, offset + count), filled)
      filled += count
      offset += count
    }
  }
  return { size, rest: buffer.subarray(0, filled) }
}

/** The error for a blob that would need more than MAX_PARTS parts. */
export function tooManyParts(driver: string, key: string, partSize: number): Error {
  return new Error(`[${driver}] blob ${key} is larger than ${MAX_PARTS} parts of ${partSize} bytes`)
}

/** A larger buffer holding the same first `filled` bytes: doubled, but never beyond `limit`. */
function grow(
  buffer: Uint8Array<ArrayBuffer>,
  filled: number,
  limit: number,
): Uint8Array<ArrayBuffer> {
  const larger = new Uint8Array(Math.min(limit, buffer.byteLength * 2))
  larger.set(buffer.subarray(0, filled))
  return larger
}
