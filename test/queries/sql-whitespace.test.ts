/** SQL whitespace normalisation for result reuse: outside quotes collapsed, inside kept. */
import { describe, expect, it } from 'vitest'
import { normaliseSqlWhitespace } from '../../src/queries/sql-whitespace.ts'

describe('queries/sql-whitespace', () => {
  it('collapses runs of whitespace between tokens and trims the ends', () => {
    expect(normaliseSqlWhitespace('  select\t*\r\n  from   kylin_sales \n')).toBe(
      'select * from kylin_sales',
    )
    expect(normaliseSqlWhitespace('select 1')).toBe('select 1')
    expect(normaliseSqlWhitespace(' \n\t ')).toBe('')
    // Unicode whitespace counts as whitespace too.
    expect(normaliseSqlWhitespace('select\u00a0\u3000 1')).toBe('select 1')
  })

  it('keeps whitespace inside string literals and quoted identifiers as written', () => {
    expect(normaliseSqlWhitespace("select  'a   b'  from  t")).toBe("select 'a   b' from t")
    expect(normaliseSqlWhitespace('select  "My  Col"\nfrom t')).toBe('select "My  Col" from t')
    expect(normaliseSqlWhitespace("where x = ' \n '")).toBe("where x = ' \n '")
    // The same SQL with different spacing inside a literal is another query.
    expect(normaliseSqlWhitespace("select 'a b'")).not.toBe(normaliseSqlWhitespace("select 'a  b'"))
  })

  it('reads doubled quotes as part of the literal, and the other quote as plain text', () => {
    expect(normaliseSqlWhitespace("select 'it''s   here',   2")).toBe("select 'it''s   here', 2")
    expect(normaliseSqlWhitespace('select "a""  b"   ,  1')).toBe('select "a""  b" , 1')
    expect(normaliseSqlWhitespace(`select 'say "hi   there"'   x`)).toBe(
      `select 'say "hi   there"' x`,
    )
    expect(normaliseSqlWhitespace(`select "it's   col"   x`)).toBe(`select "it's   col" x`)
  })

  it('keeps an unclosed quote to the end, whitespace included', () => {
    expect(normaliseSqlWhitespace("select 'open   end   ")).toBe("select 'open   end   ")
  })

  it('does not change case or anything else', () => {
    expect(normaliseSqlWhitespace('SELECT  1')).not.toBe(normaliseSqlWhitespace('select 1'))
  })

  it('keeps backquoted identifiers as written', () => {
    expect(normaliseSqlWhitespace('select  `My   Col`  from t')).toBe('select `My   Col` from t')
    expect(normaliseSqlWhitespace('select `a``  b`   x')).toBe('select `a``  b` x')
  })

  it('keeps comments as written, and the line break that ends a line comment', () => {
    expect(normaliseSqlWhitespace('select 1 --  note')).toBe('select 1 --  note')
    expect(normaliseSqlWhitespace('select a -- why\r\n   ,  b from t')).toBe(
      'select a -- why\n, b from t',
    )
    // Without its line break the comment would swallow ", b from t": another query.
    expect(normaliseSqlWhitespace('select a -- x\n, b from t')).not.toBe(
      normaliseSqlWhitespace('select a -- x , b from t'),
    )
    expect(normaliseSqlWhitespace('select /*  a   b */   1')).toBe('select /*  a   b */ 1')
    expect(normaliseSqlWhitespace("select '--  not a comment'   x")).toBe(
      "select '--  not a comment' x",
    )
    expect(normaliseSqlWhitespace('select 1 /* open   end')).toBe('select 1 /* open   end')
  })
})
