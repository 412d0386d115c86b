/** Kylin type names → the columnar writers' column types, decimals with their parameters. */
import { describe, expect, it } from 'vitest'
import { toColumns } from '../../../../src/export/columns.ts'
import {
  parseTypeName,
  toColumnType,
} from '../../../../src/export/writers/columnar/column-types.ts'

const typeOf = (columnTypeName: string, precision?: number, scale?: number) =>
  toColumnType(toColumns([{ label: 'C', columnTypeName, precision, scale }])[0]!)

describe('export/writers/columnar/column-types', () => {
  it('reads type names in any case, with or without parameters', () => {
    expect(parseTypeName('decimal(19, 4)')).toEqual({ name: 'DECIMAL', precision: 19, scale: 4 })
    expect(parseTypeName(' Numeric(10) ')).toEqual({ name: 'NUMERIC', precision: 10 })
    expect(parseTypeName('VARCHAR(256)')).toEqual({ name: 'VARCHAR', precision: 256 })
    expect(parseTypeName('bigint')).toEqual({ name: 'BIGINT' })
    expect(parseTypeName('DECIMAL(x)')).toEqual({ name: 'DECIMAL' })
    expect(parseTypeName('')).toEqual({ name: '' })
  })

  it.each([
    ['BIGINT', 'int64'],
    ['bigint', 'int64'],
    ['INTEGER', 'int32'],
    ['INT', 'int32'],
    ['SMALLINT', 'int32'],
    ['TINYINT', 'int32'],
    ['DOUBLE', 'double'],
    ['FLOAT', 'double'],
    ['REAL', 'double'],
    ['DATE', 'date'],
    ['TIMESTAMP', 'timestamp'],
    ['timestamp(3)', 'timestamp'],
    ['BOOLEAN', 'boolean'],
    ['VARCHAR', 'string'],
    ['CHAR', 'string'],
    ['TIME', 'string'],
    ['ARRAY', 'string'],
    ['', 'string'],
  ])('%s → %s', (name, kind) => {
    expect(typeOf(name)).toEqual({ kind })
  })

  it('takes a decimal precision and scale from the name, else from the column', () => {
    expect(typeOf('DECIMAL(21,4)', 5, 1)).toEqual({ kind: 'decimal', precision: 21, scale: 4 })
    expect(typeOf('DECIMAL(10)', 5, 1)).toEqual({ kind: 'decimal', precision: 10, scale: 0 })
    expect(typeOf('DECIMAL', 19, 4)).toEqual({ kind: 'decimal', precision: 19, scale: 4 })
    expect(typeOf('numeric', 38, 0)).toEqual({ kind: 'decimal', precision: 38, scale: 0 })
  })

  it('writes a decimal as a string when its precision or scale is unknown or out of range', () => {
    expect(typeOf('DECIMAL')).toEqual({ kind: 'string' })
    expect(typeOf('DECIMAL', 19)).toEqual({ kind: 'string' })
    expect(typeOf('DECIMAL', undefined, 4)).toEqual({ kind: 'string' })
    expect(typeOf('DECIMAL(39,2)')).toEqual({ kind: 'string' })
    expect(typeOf('DECIMAL', 0, 0)).toEqual({ kind: 'string' })
    expect(typeOf('DECIMAL', 4, 5)).toEqual({ kind: 'string' })
  })
})
