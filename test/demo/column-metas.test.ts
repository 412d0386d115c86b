/**
 * DuckDB result types and names → Kylin's columnMetas: java.sql.Types codes, Calcite type
 * names, precision and scale, and Calcite's labels (upper case, EXPR$n for expressions).
 */
import {
  BIGINT,
  BOOLEAN,
  DATE,
  DECIMAL,
  DOUBLE,
  HUGEINT,
  INTEGER,
  LIST,
  SMALLINT,
  TIMESTAMP,
  TINYINT,
  VARCHAR,
} from '@duckdb/node-api'
import { describe, expect, it } from 'vitest'
import { toColumnMeta, toKylinLabel, toKylinType } from '../../demo/kylin/column-metas.ts'

describe('toKylinType', () => {
  it.each([
    [BIGINT, 'BIGINT', -5],
    [HUGEINT, 'BIGINT', -5],
    [INTEGER, 'INTEGER', 4],
    [SMALLINT, 'SMALLINT', 5],
    [TINYINT, 'TINYINT', -6],
    [DOUBLE, 'DOUBLE', 8],
    [BOOLEAN, 'BOOLEAN', 16],
    [DATE, 'DATE', 91],
    [TIMESTAMP, 'TIMESTAMP', 93],
    [VARCHAR, 'VARCHAR', 12],
    [LIST(INTEGER), 'VARCHAR', 12],
  ])('%s → %s (java.sql.Types %i)', (type, name, code) => {
    expect(toKylinType(type)).toMatchObject({ name, code })
  })

  it('keeps DECIMAL precision and scale', () => {
    expect(toKylinType(DECIMAL(19, 4))).toMatchObject({
      name: 'DECIMAL',
      code: 3,
      precision: 19,
      scale: 4,
    })
  })
})

describe('toKylinLabel', () => {
  it('upper-cases identifiers as Calcite does unquoted names', () => {
    expect(toKylinLabel('trans_id', 0)).toBe('TRANS_ID')
    expect(toKylinLabel('gmv', 3)).toBe('GMV')
  })

  it('names expressions EXPR$<position>', () => {
    expect(toKylinLabel('count_star()', 0)).toBe('EXPR$0')
    expect(toKylinLabel('sum(price)', 2)).toBe('EXPR$2')
    expect(toKylinLabel("'abc'", 1)).toBe('EXPR$1')
    expect(toKylinLabel('1', 4)).toBe('EXPR$4')
    expect(toKylinLabel('(a + 1)', 5)).toBe('EXPR$5')
  })
})

describe('toColumnMeta', () => {
  it('has every SelectedColumnMeta field, in Kylin 2–4 order', () => {
    expect(Object.keys(toColumnMeta('price', DECIMAL(19, 4), 0))).toEqual([
      'isNullable',
      'displaySize',
      'label',
      'name',
      'schemaName',
      'catelogName',
      'tableName',
      'precision',
      'scale',
      'columnType',
      'columnTypeName',
      'readOnly',
      'writable',
      'caseSensitive',
      'searchable',
      'currency',
      'signed',
      'autoIncrement',
      'definitelyWritable',
    ])
    expect(toColumnMeta('price', DECIMAL(19, 4), 0)).toMatchObject({
      label: 'PRICE',
      name: 'PRICE',
      columnType: 3,
      columnTypeName: 'DECIMAL',
      precision: 19,
      scale: 4,
      signed: true,
      isNullable: 1,
    })
  })
})
