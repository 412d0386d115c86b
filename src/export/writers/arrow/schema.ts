/**
 * The Arrow schema of a result: one nullable field per column, its type from column-types.ts.
 * Portable.
 */
import { Field, Schema } from 'apache-arrow/schema'
import {
  Bool,
  DateDay,
  Decimal,
  Float64,
  Int32,
  Int64,
  TimestampMicrosecond,
  Utf8,
  type DataType,
} from 'apache-arrow/type'
import type { ColumnType } from '../columnar/column-types.ts'

export function toArrowSchema(names: readonly string[], types: readonly ColumnType[]): Schema {
  return new Schema(types.map((type, i) => new Field(names[i]!, toArrowType(type), true)))
}

function toArrowType(type: ColumnType): DataType {
  switch (type.kind) {
    case 'int64':
      return new Int64()
    case 'int32':
      return new Int32()
    case 'decimal':
      return new Decimal(type.scale, type.precision, 128)
    case 'double':
      return new Float64()
    case 'date':
      return new DateDay()
    case 'timestamp':
      // Wall-clock times without a zone, as Kylin gives them.
      return new TimestampMicrosecond()
    case 'boolean':
      return new Bool()
    case 'string':
      return new Utf8()
  }
}
