/**
 * Columns from Kylin's `columnMetas`, and the record's `{names, types}` derived from them.
 * Portable.
 */
import type { ColumnMetadata } from '../domain/query.ts'
import type { Column } from './types.ts'

interface ColumnMeta {
  name?: unknown
  label?: unknown
  columnTypeName?: unknown
  precision?: unknown
  scale?: unknown
  isNullable?: unknown
}

/** Kylin's `columnMetas` as columns; anything but an array of objects counts as none. */
export function toColumns(columnMetas: unknown): Column[] {
  if (!Array.isArray(columnMetas)) return []
  return columnMetas.map((value: unknown): Column => {
    const m: ColumnMeta = typeof value === 'object' && value !== null ? value : {}
    return {
      label: String(m.label ?? m.name ?? ''),
      name: String(m.name ?? m.label ?? ''),
      typeName: String(m.columnTypeName ?? ''),
      precision: toInteger(m.precision),
      scale: toInteger(m.scale),
      // java.sql.ResultSetMetaData: 0 columnNoNulls, 1 columnNullable, 2 columnNullableUnknown.
      nullable: m.isNullable === 0 ? false : m.isNullable === 1 ? true : null,
    }
  })
}

/** Columns known only by the record's names and types (a stored result). */
export function toColumnsOfMetadata(metadata: ColumnMetadata): Column[] {
  return metadata.names.map((name, i) => ({
    label: name,
    name,
    typeName: metadata.types[i] ?? '',
    precision: metadata.precisions?.[i] ?? null,
    scale: metadata.scales?.[i] ?? null,
    nullable: null,
  }))
}

/** What the query record stores and `/metadata` serves. */
export function toColumnMetadata(columns: readonly Column[]): ColumnMetadata {
  return {
    names: columns.map((c) => c.name),
    types: columns.map((c) => c.typeName),
    precisions: columns.map((c) => c.precision),
    scales: columns.map((c) => c.scale),
  }
}

function toInteger(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) ? value : null
}
