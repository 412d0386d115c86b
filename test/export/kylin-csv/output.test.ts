/**
 * The transcoder's output to a consumer that copies each chunk at once (`copiesAtOnce`, as an
 * export thread gathering its output does): the same bytes as to one that keeps its chunks, on
 * both fast paths, from chunks that are views of the transcoder's own buffer. Portable.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { KylinCsvTranscoder } from '../../../src/export/kylin-csv/transcoder.ts'
import { response, toBodyOf, toOffsets } from '../kylin-responses.ts'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

interface Outcome {
  text?: string
  error?: string
  buffers: Set<ArrayBufferLike>
  chunks: number
}

/** `body` cut at `offsets` through a transcoder whose consumer copies or keeps each chunk. */
function transcode(
  body: Uint8Array,
  offsets: number[],
  csv: { separator: string; includeHeader: boolean },
  kernel: 'js' | 'wasm',
  copiesAtOnce: boolean,
): Outcome {
  const copies: Uint8Array[] = []
  const buffers = new Set<ArrayBufferLike>()
  const transcoder = new KylinCsvTranscoder({ ...csv, kernel, copiesAtOnce }, (chunk) => {
    buffers.add(chunk.buffer)
    copies.push(copiesAtOnce ? chunk.slice() : chunk)
  })
  try {
    let from = 0
    for (const cut of [...new Set(offsets)].sort((a, b) => a - b)) {
      if (cut <= from || cut >= body.length) continue
      transcoder.push(body.subarray(from, cut))
      from = cut
    }
    transcoder.push(body.subarray(from))
    transcoder.finish()
  } catch (error) {
    return { error: (error as Error).message, buffers, chunks: copies.length }
  }
  const text = copies.map((chunk) => decoder.decode(chunk, { stream: true })).join('')
  return { text, buffers, chunks: copies.length }
}

describe('export/kylin-csv/output', () => {
  it('gives a consumer that copies at once the same bytes, on both fast paths', () => {
    fc.assert(
      fc.property(response({ maxRows: 200, maxColumns: 6, size: 'large' }), (r) => {
        const body = encoder.encode(toBodyOf(r))
        const offsets = toOffsets(r.split, body.length)
        for (const kernel of ['js', 'wasm'] as const) {
          const kept = transcode(body, offsets, r, kernel, false)
          const copied = transcode(body, offsets, r, kernel, true)
          expect(copied.text).toEqual(kept.text)
          expect(copied.error).toEqual(kept.error)
        }
      }),
      { numRuns: 40 },
    )
  })

  it('hands such a consumer views of one buffer it writes again, not a buffer per chunk', () => {
    const rows = Array.from({ length: 20_000 }, (_, i) => `["${'v'.repeat(i % 30)}${i}","x"]`)
    const body = `{"columnMetas":[{"label":"A"},{"label":"B"}],"results":[${rows.join(',')}]}`
    const csv = { separator: ',', includeHeader: true }
    for (const kernel of ['js', 'wasm'] as const) {
      const copied = transcode(encoder.encode(body), [7_000, 200_000], csv, kernel, true)
      expect(copied.chunks).toBeGreaterThan(4)
      expect(copied.buffers.size).toBeLessThanOrEqual(2)
    }
  })
})
