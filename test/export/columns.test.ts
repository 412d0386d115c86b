/** Columns from Kylin's columnMetas, and the record's column metadata. Portable. */
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
      precisions: [19, null, null],
      scales: [4, null, null],
    })
    expect(toColumns(null)).toEqual([])
  })

  it('makes columns of a stored record', () => {
    const metadata = {
      names: ['A', 'B'],
      types: ['VARCHAR', 'DECIMAL'],
      precisions: [256, 19],
      scales: [0, 4],
    }
    expect(toColumnMetadata(toColumnsOfMetadata(metadata))).toEqual(metadata)
    expect(toColumnsOfMetadata(metadata)[1]).toMatchObject({ precision: 19, scale: 4 })
  })

  it('makes columns of a record kept before precision and scale were', () => {
    const columns = toColumnsOfMetadata({ names: ['A'], types: ['DECIMAL'] })
    expect(columns).toEqual([
      { label: 'A', name: 'A', typeName: 'DECIMAL', precision: null, scale: null, nullable: null },
    ])
  })
})
