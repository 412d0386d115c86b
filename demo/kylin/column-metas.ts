/**
 * DuckDB result columns → Kylin's `columnMetas` (SelectedColumnMeta: java.sql.Types codes and
 * Calcite type names) and labels as Calcite gives them (upper-case names, EXPR$n for expressions).
 */
import { DuckDBTypeId, type DuckDBType } from '@duckdb/node-api'

/** One `columnMetas` element, in Jackson's field order of Kylin 2–4. */
export interface KylinColumnMeta {
  isNullable: number
  displaySize: number
  label: string
  name: string
  schemaName: string | null
  catelogName: string | null
  tableName: string | null
  precision: number
  scale: number
  columnType: number
  columnTypeName: string
  readOnly: boolean
  writable: boolean
  caseSensitive: boolean
  searchable: boolean
  currency: boolean
  signed: boolean
  autoIncrement: boolean
  definitelyWritable: boolean
}

interface KylinType {
  name: string
  /** java.sql.Types */
  code: number
  precision: number
  scale: number
  displaySize: number
  numeric: boolean
}

/** Kylin's VARCHAR for a Hive `string` column. */
const VARCHAR_PRECISION = 256

const simple = (name: string, code: number, precision: number, displaySize: number) =>
  ({ name, code, precision, scale: 0, displaySize, numeric: false }) satisfies KylinType
const number = (name: string, code: number, precision: number) =>
  ({
    name,
    code,
    precision,
    scale: 0,
    displaySize: precision + 1,
    numeric: true,
  }) satisfies KylinType

export function toKylinType(type: DuckDBType): KylinType {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return simple('BOOLEAN', 16, 1, 5)
    case DuckDBTypeId.TINYINT:
      return number('TINYINT', -6, 3)
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.UTINYINT:
      return number('SMALLINT', 5, 5)
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.USMALLINT:
      return number('INTEGER', 4, 10)
    // SUM over integers is HUGEINT in DuckDB and BIGINT in Kylin.
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
      return number('BIGINT', -5, 19)
    case DuckDBTypeId.FLOAT:
      return { ...number('FLOAT', 6, 7), displaySize: 15 }
    case DuckDBTypeId.DOUBLE:
      return { ...number('DOUBLE', 8, 15), displaySize: 24 }
    case DuckDBTypeId.DECIMAL:
      return {
        name: 'DECIMAL',
        code: 3,
        precision: type.width,
        scale: type.scale,
        displaySize: type.width + 2,
        numeric: true,
      }
    case DuckDBTypeId.DATE:
      return simple('DATE', 91, 0, 10)
    case DuckDBTypeId.TIME:
    case DuckDBTypeId.TIME_TZ:
    case DuckDBTypeId.TIME_NS:
      return simple('TIME', 92, 0, 8)
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
    case DuckDBTypeId.TIMESTAMP_TZ:
      return simple('TIMESTAMP', 93, 0, 19)
    case DuckDBTypeId.BLOB:
      return simple('VARBINARY', -3, VARCHAR_PRECISION, VARCHAR_PRECISION)
    // VARCHAR, and everything Kylin has no type for, is sent as text.
    default:
      return simple('VARCHAR', 12, VARCHAR_PRECISION, VARCHAR_PRECISION)
  }
}

/**
 * Calcite upper-cases unquoted names and calls an unnamed expression EXPR$<position>. DuckDB
 * names an expression after its text (`count_star()`, `(a + 1)`, `'x'`), so a name that is
 * not an identifier is taken for an expression.
 */
export function toKylinLabel(duckdbName: string, position: number): string {
  if (/^[A-Za-z_][A-Za-z0-9_$]*$/.test(duckdbName)) return duckdbName.toUpperCase()
  if (/^[-+]?[0-9.]/.test(duckdbName) || /[()'"+*/%|<>=,:\[\]-]/.test(duckdbName)) {
    return `EXPR$${position}`
  }
  return duckdbName
}

export function toColumnMeta(
  duckdbName: string,
  type: DuckDBType,
  position: number,
): KylinColumnMeta {
  const kylinType = toKylinType(type)
  const label = toKylinLabel(duckdbName, position)
  return {
    isNullable: 1,
    displaySize: kylinType.displaySize,
    label,
    name: label,
    schemaName: null,
    catelogName: null,
    tableName: null,
    precision: kylinType.precision,
    scale: kylinType.scale,
    columnType: kylinType.code,
    columnTypeName: kylinType.name,
    readOnly: true,
    writable: false,
    caseSensitive: kylinType.name === 'VARCHAR',
    searchable: false,
    currency: false,
    signed: kylinType.numeric,
    autoIncrement: false,
    definitelyWritable: false,
  }
}
