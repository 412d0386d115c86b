/**
 * Kylin SQL → DuckDB SQL: Kylin 2–4's massaging (`;`, request limit/offset) and the quoting
 * of the DEFAULT database, which must leave strings, quoted names and comments alone.
 */
import { describe, expect, it } from 'vitest'
import { isSelectStatement, quoteDefaultDatabase, toEngineSql } from '../../demo/kylin/kylin-sql.ts'

describe('quoteDefaultDatabase', () => {
  it('quotes DEFAULT before a dot, in any case and spacing', () => {
    expect(quoteDefaultDatabase('select * from DEFAULT.KYLIN_SALES')).toBe(
      'select * from "DEFAULT".KYLIN_SALES',
    )
    expect(quoteDefaultDatabase('select * from default . kylin_sales s join Default.x')).toBe(
      'select * from "DEFAULT" . kylin_sales s join "DEFAULT".x',
    )
  })

  it('leaves DEFAULT alone elsewhere: a keyword, strings, quoted names, comments', () => {
    const sql = `select 'DEFAULT.x', "DEFAULT".y, coalesce(a, default_value) -- DEFAULT.z\n/* DEFAULT.w */ from t`
    expect(quoteDefaultDatabase(sql)).toBe(sql)
    expect(quoteDefaultDatabase(`select 'it''s DEFAULT.x' from DEFAULT.t`)).toBe(
      `select 'it''s DEFAULT.x' from "DEFAULT".t`,
    )
  })
})

describe('toEngineSql', () => {
  it('drops trailing semicolons and whitespace', () => {
    expect(toEngineSql('  select 1 ;; \n')).toBe('select 1')
  })

  it('appends the request limit and offset only when the SQL has none', () => {
    expect(toEngineSql('select * from t', { limit: 50000, offset: 10 })).toBe(
      'select * from t\nLIMIT 50000\nOFFSET 10',
    )
    expect(toEngineSql('select * from t limit 100', { limit: 50000 })).toBe(
      'select * from t limit 100',
    )
    expect(toEngineSql('select * from t', { limit: 0, offset: 0 })).toBe('select * from t')
  })

  it('keeps a trailing line comment from swallowing the appended limit', () => {
    expect(toEngineSql('select 1 -- note', { limit: 5 })).toBe('select 1 -- note\nLIMIT 5')
  })
})

describe('isSelectStatement', () => {
  it('accepts SELECT and WITH after comments and parentheses', () => {
    expect(isSelectStatement('SELECT 1')).toBe(true)
    expect(isSelectStatement('-- top\n/* x */ (select 1) union (select 2)')).toBe(true)
    expect(isSelectStatement('with a as (select 1) select * from a')).toBe(true)
  })

  it('refuses everything else', () => {
    for (const sql of ['drop table t', 'insert into t values (1)', 'set x = 1', 'selectx', '']) {
      expect(isSelectStatement(sql), sql).toBe(false)
    }
  })
})
