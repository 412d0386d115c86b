/**
 * The stored-CSV source: Kylin CSV read back into columns and rows, and the round trip stored
 * CSV → source → CSV writer, byte for byte, for every separator and header option. Portable.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { exportResult } from '../../../src/export/export-result.ts'
import { createStoredCsvSource } from '../../../src/export/sources/stored-csv.ts'
import type { Cell, Column, RowBatch } from '../../../src/export/types.ts'
import { separator as anySeparator, split, text, toOffsets } from '../kylin-responses.ts'
import { readAll, toSplitStream } from '../support.ts'
import { toWellFormed } from '../../../src/export/csv/well-formed.ts'

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { ignoreBOM: true })

/** Reads `csv` cut at `offsets`: the columns and the rows the source gives. */
function readBack(csv: string, separator: string, header: boolean, offsets: number[] = []) {
  let columns: readonly Column[] | null = null
  const rows: Cell[][] = []
  const source = createStoredCsvSource(
    { separator, header, metadata: { names: ['a', 'b'], types: ['VARCHAR', 'DATE'] } },
    {
      start: (c) => {
        expect(columns).toBeNull()
        columns = c
      },
      rows: (batch: RowBatch) => {
        let from = 0
        for (const end of batch.rowEnds) {
          rows.push(batch.cells.slice(from, end))
          from = end
        }
      },
    },
  )
  const bytes = encoder.encode(csv)
  let from = 0
  for (const cut of [
    ...offsets.filter((o) => o > 0 && o < bytes.length).sort((a, b) => a - b),
    bytes.length,
  ]) {
    source.push(bytes.subarray(from, cut))
    from = cut
  }
  const summary = source.finish()
  return { columns: columns as readonly Column[] | null, rows, summary }
}

/** Stored CSV → stored-CSV source → CSV writer, with the same options. */
async function convert(
  stored: Uint8Array,
  offsets: readonly number[],
  separator: string,
  header: boolean,
  names: string[],
) {
  const metadata = { names, types: names.map(() => 'VARCHAR') }
  const { stream, summary } = exportResult(toSplitStream(stored, offsets), {
    source: { kind: 'stored-csv', separator, header, metadata },
    format: { kind: 'csv', separator, includeHeader: header },
  })
  const { bytes } = await readAll(stream)
  return { bytes, summary: await summary }
}

const equals = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((x, i) => x === b[i])

describe('export/sources/stored-csv', () => {
  it('reads cells, quotes, nulls and empty lines', () => {
    const csv = 'a,"b,c",,"q""x"\n"line\r\nbreak",""\n\n'
    for (const offsets of [
      [],
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20],
    ]) {
      const { rows, summary } = readBack(csv, ',', false, offsets)
      expect(rows).toEqual([['a', 'b,c', null, 'q"x'], ['line\r\nbreak', ''], [null]])
      expect(summary.rows).toBe(3)
      expect(summary.partial).toBe(false)
    }
  })

  it('takes the labels from the header row and the types from the record', () => {
    const { columns, rows } = readBack('L1|L2\nx|y\n', '|', true)
    expect(columns?.map((c) => [c.label, c.name, c.typeName])).toEqual([
      ['L1', 'a', 'VARCHAR'],
      ['L2', 'b', 'DATE'],
    ])
    expect(rows).toEqual([['x', 'y']])
    expect(readBack('x|y\n', '|', false).columns?.map((c) => c.label)).toEqual(['a', 'b'])
  })

  it('reads separators of several characters, cut anywhere, and non-ASCII', () => {
    const csv = 'é€||"a||b"||😀\n||\n'
    for (let at = 0; at <= encoder.encode(csv).length; at++) {
      expect(readBack(csv, '||', false, [at]).rows).toEqual([
        ['é€', 'a||b', '😀'],
        [null, null],
      ])
    }
  })

  it('keeps a leading U+FEFF as content', () => {
    expect(readBack('\ufeffa,b\n', ',', false).rows).toEqual([['\ufeffa', 'b']])
  })

  it('refuses a separator holding a quote, and fails on an unclosed quote', () => {
    expect(() => readBack('a"b\n', '"', false)).toThrow(/separator holds a quote/)
    expect(() => readBack('a\n\nb\n', '\n\n', false)).toThrow(/separator holds a line end/)
    expect(() => readBack('a\rb\n', '\r', false)).toThrow(/separator holds a line end/)
    expect(() => readBack('"abc\n', ',', false)).toThrow(/quoted cell is not closed/)
    expect(() => readBack('"a"b\n', ',', false)).toThrow(/neither the separator nor a line end/)
  })

  describe('round trip: stored CSV → source → CSV writer', () => {
    // A separator holding `"` or a line end cannot be read back, nor header labels that hold the separator
    // or end in a `\n` (Kylin does not escape the header): see stored-csv.ts.
    const separator = anySeparator.filter((s) => !s.includes('"') && !/[\r\n]/.test(s))
    const cell = fc.oneof(
      { weight: 1, arbitrary: fc.constant(null) },
      { weight: 5, arbitrary: text },
    )

    it('reproduces a stored CSV byte for byte, any separator, header and split', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.array(cell, { maxLength: 5 }), { maxLength: 8 }),
          fc.array(text, { maxLength: 4 }),
          separator,
          fc.boolean(),
          split,
          async (rows, labels, separator, header, split) => {
            const sep = toWellFormed(separator)
            const parts = labels.map(toWellFormed)
            // (As written: a label's lone surrogate may pair with the separator's.)
            const line = toWellFormed(labels.join(separator))
            fc.pre(parts.length === 0 || equals(line.split(sep), parts))
            fc.pre(!(parts.at(-1) ?? '').includes('\n'))
            // The stored CSV as the gateway writes it: the fused kernel from Kylin JSON.
            const body = encoder.encode(
              JSON.stringify({ columnMetas: labels.map((l) => ({ label: l })), results: rows }),
            )
            const written = exportResult(toSplitStream(body, []), {
              source: { kind: 'kylin-json' },
              format: { kind: 'csv', separator, includeHeader: header },
            })
            const stored = (await readAll(written.stream)).bytes
            const { bytes } = await convert(
              stored,
              toOffsets(split, stored.length),
              separator,
              header,
              labels,
            )
            expect(decoder.decode(bytes)).toBe(decoder.decode(stored))
            expect(bytes).toEqual(stored)
          },
        ),
        { numRuns: 500 },
      )
    }, 60_000)

    it('reproduces a stored CSV at every single split point', async () => {
      const stored = encoder.encode('H1;;H2\n"a;;b";;\n"q""\n";;😀é\n;;\n\n')
      for (let at = 0; at <= stored.length; at++) {
        const { bytes, summary } = await convert(stored, [at], ';;', true, ['a', 'b'])
        expect(bytes).toEqual(stored)
        expect(summary.rows).toBe(4)
      }
    })
  })
})
