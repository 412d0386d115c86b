/** The CSV writer: Kylin 5's async CSV rules for rows of cells from any source. Portable. */
import { describe, expect, it } from 'vitest'
import { toColumns } from '../../../src/export/columns.ts'
import { encodeCsvRow } from '../../../src/export/csv/encode.ts'
import { createCsvWriter } from '../../../src/export/writers/csv.ts'

const decoder = new TextDecoder()
const columns = toColumns([{ label: 'a,b', name: 'A' }, { label: 'c' }])

function write(separator: string, includeHeader: boolean, rows: (string | null)[][]) {
  const writer = createCsvWriter({ separator, includeHeader })
  const cells = rows.flat()
  let end = 0
  const rowEnds = rows.map((row) => (end += row.length))
  return [writer.start(columns), writer.rows({ cells, rowEnds }), writer.end()]
    .map((bytes) => decoder.decode(bytes))
    .join('')
}

describe('export/writers/csv', () => {
  it('writes the unescaped label header only when asked', () => {
    expect(write(',', true, [['x', null]])).toBe('a,b,c\nx,\n')
    expect(write(',', false, [['x', null]])).toBe('x,\n')
  })

  it('quotes and escapes as the reference encoder does, any separator', () => {
    const rows = [['123"', '123', 'a,b', 'c||d', 'e\nf', 'g\rh', '', null, '€;'], [], ['']]
    for (const separator of [',', '||', '\t', '€;', '\n']) {
      const expected = rows.map((row) => encodeCsvRow(row, separator)).join('')
      expect(write(separator, false, rows)).toBe(expected)
    }
  })

  it('writes a separator as its UTF-8 bytes say, so it never pairs with a lone surrogate', () => {
    const bytes = createCsvWriter({ separator: '\udc00,', includeHeader: false }).rows({
      cells: ['a\ud800', 'b'],
      rowEnds: [2],
    })
    expect(decoder.decode(bytes)).toBe('a\ufffd\ufffd,b\n')
  })

  it('refuses an empty separator', () => {
    expect(() => createCsvWriter({ separator: '', includeHeader: false })).toThrow(/not be empty/)
  })
})
