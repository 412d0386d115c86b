/**
 * The Parquet schema of a result: one optional field per column, its physical and logical
 * type from column-types.ts. Portable.
 */
import type { SchemaElement } from 'hyparquet'
import type { ColumnType } from '../columnar/column-types.ts'

/** The root element and one leaf per column, named `names[i]`. */
export function toParquetSchema(
  names: readonly string[],
  types: readonly ColumnType[],
): SchemaElement[] {
  return [
    { name: 'root', num_children: types.length },
    ...types.map(
      (type, i): SchemaElement => ({
        name: names[i]!,
        repetition_type: 'OPTIONAL',
        ...toLeafType(type),
      }),
    ),
  ]
}

function toLeafType(type: ColumnType): Omit<SchemaElement, 'name'> {
  switch (type.kind) {
    case 'int64':
      return { type: 'INT64' }
    case 'int32':
      return { type: 'INT32' }
    case 'decimal':
      return toDecimalType(type.precision, type.scale)
    case 'double':
      return { type: 'DOUBLE' }
    case 'date':
      return { type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' } }
    case 'timestamp':
      // Kylin's timestamps are wall-clock times without a zone; no converted type, which
      // would say UTC-adjusted.
      return {
        type: 'INT64',
        logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: false, unit: 'MICROS' },
      }
    case 'boolean':
      return { type: 'BOOLEAN' }
    case 'string':
      return { type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } }
  }
}

/** The narrowest physical type the spec allows: INT32 to 9 digits, INT64 to 18, then bytes. */
function toDecimalType(precision: number, scale: number): Omit<SchemaElement, 'name'> {
  const decimal = {
    converted_type: 'DECIMAL',
    precision,
    scale,
    logical_type: { type: 'DECIMAL', precision, scale },
  } as const
  if (precision <= 9) return { type: 'INT32', ...decimal }
  if (precision <= 18) return { type: 'INT64', ...decimal }
  return { type: 'FIXED_LEN_BYTE_ARRAY', type_length: toByteLength(precision), ...decimal }
}

/** The fewest bytes whose two's complement holds every value of `precision` digits. */
function toByteLength(precision: number): number {
  const largest = 10n ** BigInt(precision) - 1n
  let bytes = 1
  while (largest >= 1n << BigInt(8 * bytes - 1)) bytes++
  return bytes
}
