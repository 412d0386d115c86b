import { describe, expect, it } from 'vitest'
import { hasTopLevelOrderBy } from '../../src/shadow/order-by.ts'

describe('hasTopLevelOrderBy', () => {
  it.each([
    'select * from t order by 1',
    'SELECT a FROM t ORDER\n  BY a DESC',
    'select a from t order /* why */ by a',
    'select a from t -- note\norder by a',
    'select a from (select a from t) x order by a limit 10',
    'select "order", a from t order by a',
    'with c as (select 1 as a) select a from c order by a',
    'select a from t Order By a',
  ])('finds it in %j', (sql) => {
    expect(hasTopLevelOrderBy(sql)).toBe(true)
  })

  it.each([
    'select * from t',
    'select a from (select a from t order by a) x',
    'select row_number() over (partition by b order by a) from t',
    "select 'order by a' from t",
    'select "order by" from t',
    'select `order by` from t',
    'select a from t -- order by a',
    'select a from t /* order by a */',
    'select border, bypass from t',
    'select a from t where a in (select b from u order by b)',
    "select 'it''s order by' from t",
    'select order_id from t group by order_id',
    'select a, order from t by',
  ])('finds none in %j', (sql) => {
    expect(hasTopLevelOrderBy(sql)).toBe(false)
  })
})
