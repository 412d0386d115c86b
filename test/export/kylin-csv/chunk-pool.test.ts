/**
 * The transcoder's pool of output chunks: a lent chunk is a copy in a buffer of the pool's, taken
 * back once and only if the pool lent it, and reused only after it came back; a transcoder that
 * lends its output writes the same bytes as one that does not, on both fast paths, whatever the
 * consumer does to a chunk it has given back. Portable.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BufferPool } from '../../../src/buffer-pool.ts'
import { ChunkPool } from '../../../src/export/kylin-csv/chunk-pool.ts'
import { OUT_SIZE } from '../../../src/export/kylin-csv/constants.ts'
import { KylinCsvTranscoder } from '../../../src/export/kylin-csv/transcoder.ts'
import {
  hugeCell,
  response,
  toBodyOf,
  toOffsets,
  type GeneratedResponse,
} from '../kylin-responses.ts'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

describe('export/kylin-csv/chunk-pool', () => {
  it('lends a copy, and reuses its buffer only once it has come back', () => {
    const pool = new ChunkPool(new BufferPool(OUT_SIZE, 4))
    const first = pool.lend(Uint8Array.of(1, 2, 3))
    expect([...first]).toEqual([1, 2, 3])
    expect(first.buffer.byteLength).toBe(OUT_SIZE)
    const second = pool.lend(Uint8Array.of(4))
    expect(second.buffer).not.toBe(first.buffer)
    pool.giveBack(first)
    const third = pool.lend(Uint8Array.of(5, 6))
    expect(third.buffer).toBe(first.buffer)
    expect([...third]).toEqual([5, 6])
  })

  it('takes back only what it lent, and each chunk once', () => {
    const pool = new ChunkPool(new BufferPool(OUT_SIZE, 4))
    const lent = pool.lend(Uint8Array.of(1))
    pool.giveBack(new Uint8Array(OUT_SIZE))
    pool.giveBack(lent)
    pool.giveBack(lent)
    const a = pool.lend(Uint8Array.of(2))
    const b = pool.lend(Uint8Array.of(3))
    expect(a.buffer).toBe(lent.buffer)
    expect(b.buffer).not.toBe(lent.buffer)
  })

  it('lends from the pool it is given, shared by every transcoder', () => {
    const buffers = new BufferPool(OUT_SIZE, 4)
    const a = new ChunkPool(buffers)
    const b = new ChunkPool(buffers)
    const lent = a.lend(Uint8Array.of(1))
    // Another transcoder's chunk is not b's to take back.
    b.giveBack(lent)
    expect(b.lend(Uint8Array.of(2)).buffer).not.toBe(lent.buffer)
    a.giveBack(lent)
    expect(b.lend(Uint8Array.of(3)).buffer).toBe(lent.buffer)
  })

  describe('a transcoder that lends its output', () => {
    type Outcome = { text: string; rows: number } | { error: string }

    /** Each chunk read (copied) as it comes, then spoiled and given back when `giveBack` says. */
    function transcode(
      body: Uint8Array,
      offsets: readonly number[],
      r: GeneratedResponse,
      kernel: 'js' | 'wasm',
      recycle: boolean,
      giveBackAfter: (i: number) => number,
    ): Outcome {
      let text = ''
      const out: Uint8Array[] = []
      const waiting: Uint8Array[] = []
      let count = 0
      const transcoder: KylinCsvTranscoder = new KylinCsvTranscoder(
        { separator: r.separator, includeHeader: r.includeHeader, kernel, recycle },
        (chunk) => {
          out.push(chunk.slice())
          waiting.push(chunk)
          // Gives back the chunks read so far but the last few, as a store writing batches does.
          while (waiting.length > giveBackAfter(count)) {
            const done = waiting.shift()!
            done.fill(0x21)
            transcoder.giveBack(done)
          }
          count++
        },
      )
      const cuts = [...new Set(offsets)]
        .filter((o) => o > 0 && o < body.length)
        .sort((a, b) => a - b)
      try {
        let from = 0
        for (const cut of [...cuts, body.length]) {
          transcoder.push(body.slice(from, cut))
          from = cut
        }
        const { rows } = transcoder.finish()
        for (const chunk of out) text += decoder.decode(chunk, { stream: true })
        return { text, rows }
      } catch (error) {
        return { error: (error as Error).message }
      }
    }

    const lags = fc.array(fc.nat(4), { minLength: 1, maxLength: 5 })

    function check(r: GeneratedResponse, lagsOf: number[]) {
      const body = encoder.encode(toBodyOf(r))
      const offsets = toOffsets(r.split, body.length)
      for (const kernel of ['js', 'wasm'] as const) {
        const plain = transcode(body, offsets, r, kernel, false, () => Infinity)
        const lent = transcode(body, offsets, r, kernel, true, (i) => lagsOf[i % lagsOf.length]!)
        expect(lent).toEqual(plain)
      }
    }

    it('writes the same bytes as one that does not, whatever is given back when', () => {
      fc.assert(fc.property(response({ maxRows: 8, maxColumns: 6 }), lags, check), {
        numRuns: 300,
      })
    })

    it('does so across output buffers and with cells larger than one', () => {
      fc.assert(
        fc.property(response({ maxRows: 200, maxColumns: 8, size: 'large' }), lags, check),
        { numRuns: 15 },
      )
      fc.assert(fc.property(response({ maxRows: 4, maxColumns: 3, cell: hugeCell }), lags, check), {
        numRuns: 8,
      })
    }, 120_000)

    it('fills the same few buffers again over a large result', () => {
      const rows = Array.from({ length: 40_000 }, (_, i) => `["${i}","row ${i} of the result"]`)
      const body = encoder.encode(
        `{"columnMetas":[{"label":"A"},{"label":"B"}],"results":[${rows.join(',')}],"isException":false}`,
      )
      const buffers = new Set<ArrayBufferLike>()
      let bytes = 0
      const transcoder: KylinCsvTranscoder = new KylinCsvTranscoder(
        { separator: ',', includeHeader: true, recycle: true },
        (chunk) => {
          buffers.add(chunk.buffer)
          bytes += chunk.length
          transcoder.giveBack(chunk)
        },
      )
      for (let at = 0; at < body.length; at += 100_000)
        transcoder.push(body.subarray(at, at + 100_000))
      transcoder.finish()
      expect(bytes).toBeGreaterThan(1_000_000)
      expect(buffers.size).toBeLessThanOrEqual(2)
    })
  })
})
