/**
 * `handOn` between chunks (what an export thread asks for while its consumer is slow or has only
 * begun) changes how the output is cut, never its bytes: random `SQLResponse`s, random splits and
 * random hand-ons, on both fast paths, against the same body transcoded without any. The chunks
 * are kept as handed on, so a buffer written again after it left would show. Portable.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { KylinCsvKernel } from '../../../src/export/kylin-csv/kernel-choice.ts'
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

type Outcome = { text: string; rows: number } | { error: string }

function transcode(
  body: Uint8Array,
  offsets: readonly number[],
  r: GeneratedResponse,
  kernel: KylinCsvKernel,
  handOnAfter: (piece: number) => boolean,
): Outcome {
  const chunks: Uint8Array[] = []
  const transcoder = new KylinCsvTranscoder(
    { separator: r.separator, includeHeader: r.includeHeader, kernel },
    (chunk) => chunks.push(chunk),
  )
  const cuts = [...new Set(offsets)].filter((o) => o > 0 && o < body.length).sort((a, b) => a - b)
  try {
    let from = 0
    let piece = 0
    for (const cut of [...cuts, body.length]) {
      transcoder.push(body.slice(from, cut))
      if (handOnAfter(piece++)) transcoder.handOn()
      from = cut
    }
    const { rows } = transcoder.finish()
    return { text: chunks.map((chunk) => decoder.decode(chunk, { stream: true })).join(''), rows }
  } catch (error) {
    return { error: (error as Error).message }
  }
}

async function checkHandOns(r: GeneratedResponse, handOns: boolean[]) {
  const body = encoder.encode(toBodyOf(r))
  const offsets = toOffsets(r.split, body.length)
  for (const kernel of ['js', 'wasm'] as const) {
    const plain = transcode(body, offsets, r, kernel, () => false)
    const handedOn = transcode(body, offsets, r, kernel, (i) => handOns[i % handOns.length]!)
    expect(handedOn).toEqual(plain)
  }
}

const handOns = fc.array(fc.boolean(), { minLength: 1, maxLength: 16 })

describe('export/kylin-csv/transcoder handOn', () => {
  it('keeps the bytes, rows and failures whatever chunks it is asked after', async () => {
    await fc.assert(
      fc.asyncProperty(response({ maxRows: 8, maxColumns: 6 }), handOns, checkHandOns),
      { numRuns: 500 },
    )
  }, 120_000)

  it('keeps them across output buffers and with cells larger than one', async () => {
    await fc.assert(
      fc.asyncProperty(
        response({ maxRows: 200, maxColumns: 8, size: 'large' }),
        handOns,
        checkHandOns,
      ),
      { numRuns: 15 },
    )
    await fc.assert(
      fc.asyncProperty(
        response({ maxRows: 4, maxColumns: 3, cell: hugeCell }),
        handOns,
        checkHandOns,
      ),
      { numRuns: 8 },
    )
  }, 120_000)

  it('hands on the rows before an open cell at once', () => {
    const chunks: Uint8Array[] = []
    const transcoder = new KylinCsvTranscoder(
      { separator: ',', includeHeader: false, kernel: 'wasm' },
      (chunk) => chunks.push(chunk),
    )
    transcoder.push(encoder.encode('{"results":[["a","b"],["c","d"],["e'))
    expect(chunks).toHaveLength(0)
    transcoder.handOn()
    expect(chunks.map((chunk) => decoder.decode(chunk)).join('')).toBe('a,b\nc,d\n')
    transcoder.push(encoder.encode('f"]]}'))
    transcoder.finish()
    expect(chunks.map((chunk) => decoder.decode(chunk)).join('')).toBe('a,b\nc,d\nef\n')
  })
})
