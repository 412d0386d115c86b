/** Columns from Kylin's columnMetas, and the record's {names, types}. Portable. */
import { describe, expect, it } from 'vitest'
import { toColumnMetadata, toColumns, toColumnsOfMetadata } from '../../src/export/columns.ts'

describe('export/columns', () => {
  it('reads label, name, type, precision, scale and nullability', () => {
    const columns = toColumns([
      { label: 'L', name: 'N', columnTypeName: 'DECIMAL', precision: 19, scale: 4, isNullable: 0 },
      { label: 'only label' },
      'not an object',
    ])
    expect(columns).toEqual([
      { label: 'L', name: 'N', typeName: 'DECIMAL', precision: 19, scale: 4, nullable: false },
      {
        label: 'only label',
        name: 'only label',
        typeName: '',
        precision: null,
        scale: null,
        nullable: null,
      },
      { label: '', name: '', typeName: '', precision: null, scale: null, nullable: null },
    ])
    expect(toColumnMetadata(columns)).toEqual({
      names: ['N', 'only label', ''],
      types: ['DECIMAL', '', ''],
    })
    expect(toColumns(null)).toEqual([])
  })

  it('makes columns of a stored record', () => {
    const metadata = { names: ['A', 'B'], types: ['VARCHAR', 'DATE'] }
    expect(toColumnMetadata(toColumnsOfMetadata(metadata))).toEqual(metadata)
  })
})
