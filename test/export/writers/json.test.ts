/**
 * The json writer: Kylin 5's array of row strings, each a JSON object keyed by label, read back
 * with JSON.parse (twice: the document, then each row). Portable.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { toColumns } from '../../../src/export/columns.ts'
import type { Cell, Column } from '../../../src/export/types.ts'
import { createJsonWriter } from '../../../src/export/writers/json.ts'

const decoder = new TextDecoder()

/** The writer's whole output for `rows`, given in batches of `batchSize` rows. */
function write(columns: readonly Column[] | null, rows: Cell[][], batchSize = 2): string {
  const writer = createJsonWriter()
  const parts = columns ? [writer.start(columns)] : []
  for (let i = 0; i < rows.length; i += batchSize) {
    const batch = rows.slice(i, i + batchSize)
    let end = 0
    parts.push(writer.rows({ cells: batch.flat(), rowEnds: batch.map((r) => (end += r.length)) }))
  }
  parts.push(writer.end())
  return parts.map((bytes) => decoder.decode(bytes)).join('')
}

/** The rows as an independent reader sees them. */
function read(text: string): unknown[] {
  const document: unknown = JSON.parse(text)
  expect(Array.isArray(document)).toBe(true)
  return (document as unknown[]).map((row) => {
    expect(typeof row).toBe('string')
    return JSON.parse(row as string)
  })
}

const columns = toColumns([
  { label: 'NAME', columnTypeName: 'VARCHAR' },
  { label: 'PRICE', columnTypeName: 'DECIMAL' },
])

describe('export/writers/json', () => {
  it("writes Kylin 5's shape: one string per row, each an object keyed by label", () => {
    const text = write(columns, [
      ['a1', '1.50'],
      ['a2', null],
    ])
    expect(text).toBe(
      '["{\\"NAME\\":\\"a1\\",\\"PRICE\\":\\"1.50\\"}","{\\"NAME\\":\\"a2\\",\\"PRICE\\":null}"]',
    )
    expect(read(text)).toEqual([
      { NAME: 'a1', PRICE: '1.50' },
      { NAME: 'a2', PRICE: null },
    ])
  })

  it('writes an empty array for no rows, and a whole array without columns', () => {
    expect(write(columns, [])).toBe('[]')
    expect(write(null, [])).toBe('[]')
    expect(read(write(null, [['a', null]]))).toEqual([{ _c0: 'a', _c1: null }])
  })

  it('keeps quotes, CR/LF, separators, unicode, surrogate pairs and lone surrogates', () => {
    const cells = [
      'say "hi"',
      'a\r\nb',
      'x,y;z\t',
      '上海 é',
      '😀 \ud83d\ude00',
      'lone \ud800',
      '\\',
      '',
    ]
    const labels = toColumns(cells.map((_, i) => ({ label: i === 0 ? 'l"a\nb' : `c${i}` })))
    const [row] = read(write(labels, [cells])) as Record<string, string>[]
    expect(Object.values(row!)).toEqual(cells)
    expect(Object.keys(row!)[0]).toBe('l"a\nb')
  })

  it('keeps every cell of repeated labels and of ragged rows', () => {
    const twice = toColumns([{ label: 'A' }, { label: 'A' }, { label: 'A_2' }])
    expect(read(write(twice, [['1', '2', '3', '4'], ['5']]))).toEqual([
      { A: '1', A_2: '2', A_2_2: '3', _c3: '4' },
      { A: '5' },
    ])
  })

  it('keeps huge integers and long decimals exactly, as strings', () => {
    const big = toColumns([{ label: 'B', columnTypeName: 'BIGINT' }, { label: 'D' }])
    const cells = ['123456789012345678901234567890', '0.10000000000000000000001']
    expect(read(write(big, [cells]))).toEqual([{ B: cells[0], D: cells[1] }])
  })

  it('gives back exactly the cells of any rows (property)', () => {
    const cell = fc.option(fc.string({ unit: 'binary' }), { nil: null })
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'binary' }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.array(cell, { minLength: 5, maxLength: 5 }), { maxLength: 20 }),
        fc.integer({ min: 1, max: 7 }),
        (labels, table, batchSize) => {
          // Distinct labels, so every key is the label itself.
          const unique = labels.map((label, i) => `${i}:${label}`)
          const rows = table.map((row) => row.slice(0, unique.length))
          const objects = read(
            write(toColumns(unique.map((label) => ({ label }))), rows, batchSize),
          )
          expect(objects.map((row) => Object.values(row as object))).toEqual(rows)
          for (const row of objects) expect(Object.keys(row as object)).toEqual(unique)
        },
      ),
    )
  })
})
