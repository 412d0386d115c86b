/**
 * Hashes of result rows for comparing two results in bounded memory: a 64-bit hash of each row's
 * canonical cells, and the digest of a whole result, order-insensitive (the rows' hashes summed
 * mod 2^64, with the count) or ordered (the hashes in sequence through SHA-256). Portable.
 */
import type { Cell, RowBatch } from '../export/types.ts'
import { sha256Hex, type IncrementalHash } from '../sha256.ts'

const C1 = 0xcc9e2d51
const C2 = 0x1b873593
const SEED_A = 0x9747b28c
const SEED_B = 0x5bd1e995

/**
 * Two murmur3-style 32-bit lanes with different seeds over each cell's UTF-16 units, each cell
 * prefixed by its length (null and '' are one value: a stored CSV cannot tell them apart).
 * `into[at]`, `into[at + 1]`: the row's hash.
 */
export function hashRow(
  cells: readonly Cell[],
  from: number,
  to: number,
  into: Uint32Array,
  at: number,
): void {
  let a = SEED_A
  let b = SEED_B
  for (let i = from; i < to; i++) {
    const text = cells[i] ?? ''
    const length = text.length
    a = mix(a, length + 1)
    b = mix(b, length + 1)
    let j = 0
    for (; j + 1 < length; j += 2) {
      const k = text.charCodeAt(j) | (text.charCodeAt(j + 1) << 16)
      a = mix(a, k)
      b = mix(b, k)
    }
    if (j < length) {
      const k = text.charCodeAt(j)
      a = mix(a, k)
      b = mix(b, k)
    }
  }
  const count = to - from
  into[at] = finish(a ^ count)
  into[at + 1] = finish(b ^ Math.imul(count, 0x85ebca6b))
}

function mix(h: number, input: number): number {
  let k = Math.imul(input, C1)
  k = (k << 15) | (k >>> 17)
  k = Math.imul(k, C2)
  h ^= k
  h = (h << 13) | (h >>> 19)
  return (Math.imul(h, 5) + 0xe6546b64) | 0
}

function finish(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** The hashes of a batch's rows, two 32-bit words a row. */
export function hashBatch(batch: RowBatch): Uint32Array {
  const { cells, rowEnds } = batch
  const hashes = new Uint32Array(rowEnds.length * 2)
  let from = 0
  for (let r = 0; r < rowEnds.length; r++) {
    const to = rowEnds[r]!
    hashRow(cells, from, to, hashes, r * 2)
    from = to
  }
  return hashes
}

/** The digest of a whole result, fed the rows' hashes in the order they come. */
export interface ResultDigest {
  add(hashes: Uint32Array, from: number, to: number): void
  readonly rows: number
  /** The combination of every row hash so far, as hex (ordered: SHA-256 of the sequence). */
  finish(): Promise<string>
}

/** Order-insensitive: the sum of the rows' 64-bit hashes mod 2^64; with the count, a multiset hash. */
export function createUnorderedDigest(): ResultDigest {
  let low = 0
  let high = 0
  let rows = 0
  return {
    add(hashes, from, to) {
      for (let i = from; i < to; i += 2) {
        low += hashes[i]!
        high += hashes[i + 1]!
        if (low >= 0x1_0000_0000) {
          low -= 0x1_0000_0000
          high += 1
        }
        high >>>= 0
      }
      rows += (to - from) / 2
    },
    get rows() {
      return rows
    },
    async finish() {
      return high.toString(16).padStart(8, '0') + low.toString(16).padStart(8, '0')
    },
  }
}

/** Ordered: the rows' hashes in sequence through SHA-256, a buffer of 64 KiB at a time. */
export function createOrderedDigest(createHash: () => IncrementalHash): ResultDigest {
  const hash = createHash()
  const buffer = new Uint32Array(16 * 1024)
  let filled = 0
  let rows = 0
  const flush = () => {
    if (filled === 0) return
    // A copy: the hasher may read it later.
    hash.update(new Uint8Array(buffer.buffer.slice(0, filled * 4)))
    filled = 0
  }
  return {
    add(hashes, from, to) {
      for (let i = from; i < to; i++) {
        buffer[filled++] = hashes[i]!
        if (filled === buffer.length) flush()
      }
      rows += (to - from) / 2
    },
    get rows() {
      return rows
    },
    async finish() {
      flush()
      return hash.digest()
    },
  }
}

/** SHA-256 (hex) of what was compared: the mode, the columns, the row count and the rows' digest. */
export function toResultSha256(parts: {
  ordered: boolean
  names: readonly string[]
  types: readonly string[]
  rows: number
  rowDigest: string
}): Promise<string> {
  const text = JSON.stringify([
    'shadow-v1',
    parts.ordered ? 'ordered' : 'unordered',
    parts.names,
    parts.types,
    parts.rows,
    parts.rowDigest,
  ])
  return sha256Hex(text)
}
