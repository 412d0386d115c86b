/**
 * The reference Kylin 5 CSV encoder: Kylin's own async-query byte cases plus the quoting rules.
 * Portable (pure functions).
 */
import { describe, expect, it } from 'vitest'
import { encodeCsvCell, encodeCsvHeader, encodeCsvRow } from '../../../src/export/csv/encode.ts'

describe('csv/encode', () => {
  // AysncQueryServiceTest (Kylin 5), query `select '123"','123'`.
  it("writes Kylin's bytes without a header", () => {
    expect(encodeCsvRow(['123"', '123'], ',')).toBe('"123""",123\n')
  })

  it("writes Kylin's bytes with a header", () => {
    const csv = encodeCsvHeader(['EXPR$0', 'EXPR$1'], ',') + encodeCsvRow(['123"', '123'], ',')
    expect(csv).toBe('EXPR$0,EXPR$1\n"123""",123\n')
  })

  it("writes Kylin's bytes with a newline separator", () => {
    expect(encodeCsvRow(['123"', '123'], '\n')).toBe('"123"""\n123\n')
  })

  it('does not escape the header (Kylin 5 push-down behaviour)', () => {
    expect(encodeCsvHeader(['123"', '123'], ',')).toBe('123",123\n')
    expect(encodeCsvHeader(['a,b', 'c'], ',')).toBe('a,b,c\n')
    expect(encodeCsvHeader([], ',')).toBe('\n')
  })

  it('writes null and undefined as empty cells', () => {
    expect(encodeCsvRow([null, 'a', undefined], ',')).toBe(',a,\n')
    expect(encodeCsvCell(null, ',')).toBe('')
  })

  it('quotes a cell that holds the separator', () => {
    expect(encodeCsvRow(['a,b', 'c'], ',')).toBe('"a,b",c\n')
    expect(encodeCsvRow(['a,b', 'c|d'], '|')).toBe('a,b|"c|d"\n')
    expect(encodeCsvRow(['a\tb'], '\t')).toBe('"a\tb"\n')
  })

  it('quotes a cell that holds \\r or \\n, and doubles quotes', () => {
    expect(encodeCsvCell('a\rb', ',')).toBe('"a\rb"')
    expect(encodeCsvCell('a\nb', ',')).toBe('"a\nb"')
    expect(encodeCsvCell('a\r\nb', ',')).toBe('"a\r\nb"')
    expect(encodeCsvCell('say "hi"', ',')).toBe('"say ""hi"""')
    expect(encodeCsvCell('"', ',')).toBe('""""')
  })

  it('matches a multi-character separator as a whole', () => {
    expect(encodeCsvRow(['a|b', 'c||d'], '||')).toBe('a|b||"c||d"\n')
    expect(encodeCsvRow(['x', 'y'], '||')).toBe('x||y\n')
    expect(encodeCsvRow(['a;b'], '€;')).toBe('a;b\n')
    expect(encodeCsvRow(['a€;b', ''], '€;')).toBe('"a€;b"€;\n')
  })

  it('writes numbers and booleans as text, quoted if they hold the separator', () => {
    expect(encodeCsvRow([1, -2.5, true, false, 0], ',')).toBe('1,-2.5,true,false,0\n')
    expect(encodeCsvRow([2.5, 3], '.')).toBe('"2.5".3\n')
    expect(encodeCsvRow([true], 'u')).toBe('"true"\n')
  })

  it('writes an empty row as an empty line', () => {
    expect(encodeCsvRow([], ',')).toBe('\n')
    expect(encodeCsvRow([''], ',')).toBe('\n')
  })
})
