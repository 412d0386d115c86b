/**
 * The emulator's tables as Kylin 2–4 describes them: the JDBC `TableMeta` / `ColumnMeta` of
 * `GET /kylin/api/tables_and_columns` (QueryService#getMetadata over Calcite's DatabaseMetaData,
 * Jackson's names: `table_SCHEM`, `column_NAME`, `type_NAME`, …) and the `TableDesc` of
 * `GET /kylin/api/tables` (`name`, `database`, `columns[].datatype` in Hive's spelling). Node only.
 */
import type { DuckDBType } from '@duckdb/node-api'
import { toKylinType } from './column-metas.ts'
import type { KylinDatabase, KylinProject } from './database.ts'

/** Kylin's `Constant.FakeCatalogName`: Calcite has no catalog. */
const CATALOG = 'defaultCatalog'
/** Fixed, so two runs answer the same metadata. */
export const METADATA_TIME = Date.UTC(2024, 0, 1)

export interface SampleColumn {
  name: string
  type: ReturnType<typeof toKylinType>
}

export interface SampleTable {
  database: string
  name: string
  columns: SampleColumn[]
}

/** Each table of a project with its columns' Kylin types, read from DuckDB without a scan. */
export async function listProjectTables(
  db: KylinDatabase,
  project: KylinProject,
): Promise<SampleTable[]> {
  const connection = await db.instance.connect()
  try {
    const tables: SampleTable[] = []
    for (const qualified of project.tables) {
      const [database, name] = qualified.split('.') as [string, string]
      const prepared = await connection.prepare(`SELECT * FROM "${database}"."${name}"`)
      const columns = Array.from({ length: prepared.columnCount }, (_, i) => ({
        name: prepared.columnName(i).toUpperCase(),
        type: toKylinType(prepared.columnType(i) as DuckDBType),
      }))
      tables.push({ database, name, columns })
    }
    return tables
  } finally {
    connection.closeSync()
  }
}

const CHARACTER_TYPES = new Set(['VARCHAR', 'CHAR'])
const NUMERIC_TYPES = new Set([
  'TINYINT',
  'SMALLINT',
  'INTEGER',
  'BIGINT',
  'FLOAT',
  'DOUBLE',
  'DECIMAL',
])

/** Calcite's type string, as Kylin's JDBC metadata carries it in TYPE_NAME. */
function toCalciteTypeName(column: SampleColumn): string {
  const { name, precision, scale } = column.type
  if (name === 'VARCHAR') {
    return `VARCHAR(${precision}) CHARACTER SET "UTF-16LE" COLLATE "UTF-16LE$en_US$primary"`
  }
  if (name === 'DECIMAL') return `DECIMAL(${precision}, ${scale})`
  return name
}

/** The `datatype` of a `ColumnDesc`: Hive's lower-case spelling, as Kylin's sample tables. */
export function toHiveDatatype(column: SampleColumn): string {
  const { name, precision, scale } = column.type
  if (name === 'VARCHAR') return `varchar(${precision})`
  if (name === 'DECIMAL') return `decimal(${precision},${scale})`
  if (name === 'VARBINARY') return 'binary'
  return name.toLowerCase()
}

/** One element of `tables_and_columns`, with Jackson's names for TableMeta's getters. */
export function toTableMeta(table: SampleTable) {
  return {
    table_CAT: CATALOG,
    table_SCHEM: table.database,
    table_NAME: table.name,
    table_TYPE: 'TABLE',
    remarks: null,
    type_CAT: null,
    type_SCHEM: null,
    type_NAME: null,
    self_REFERENCING_COL_NAME: null,
    ref_GENERATION: null,
    columns: table.columns.map((column, i) => {
      const typeName = column.type.name
      const sized = CHARACTER_TYPES.has(typeName) || typeName === 'DECIMAL'
      return {
        table_CAT: CATALOG,
        table_SCHEM: table.database,
        table_NAME: table.name,
        column_NAME: column.name,
        data_TYPE: column.type.code,
        type_NAME: toCalciteTypeName(column),
        column_SIZE: sized ? column.type.precision : -1,
        buffer_LENGTH: -1,
        decimal_DIGITS: typeName === 'DECIMAL' ? column.type.scale : 0,
        num_PREC_RADIX: NUMERIC_TYPES.has(typeName) ? 10 : 0,
        nullable: 1,
        remarks: null,
        column_DEF: null,
        sql_DATA_TYPE: -1,
        sql_DATETIME_SUB: -1,
        char_OCTET_LENGTH: CHARACTER_TYPES.has(typeName) ? column.type.precision : -1,
        ordinal_POSITION: i + 1,
        is_NULLABLE: 'YES',
        scope_CATLOG: null,
        scope_SCHEMA: null,
        scope_TABLE: null,
        source_DATA_TYPE: -1,
        is_AUTOINCREMENT: null,
      }
    }),
  }
}

/** One element of `GET /kylin/api/tables`: Kylin's TableDesc (and, with `ext=true`, its extras). */
export function toTableDesc(table: SampleTable, project: KylinProject, ext: boolean) {
  const identity = `${table.database}.${table.name}`
  return {
    uuid: toStableUuid(`table:${identity}`),
    last_modified: METADATA_TIME,
    version: '3.0.0.20500',
    name: table.name,
    columns: table.columns.map((column, i) => ({
      id: String(i + 1),
      name: column.name,
      datatype: toHiveDatatype(column),
    })),
    source_type: 0,
    table_type: 'MANAGED_TABLE',
    database: table.database,
    ...(ext
      ? {
          exd: { owner: 'ADMIN', location: `duckdb:${project.name}/${identity}` },
          cardinality: {},
        }
      : {}),
  }
}

/** A UUID-shaped id that is always the same for the same text (FNV-1a, four rounds). */
export function toStableUuid(text: string): string {
  let hex = ''
  for (let round = 0; round < 4; round++) {
    let hash = 0x811c9dc5 ^ round
    for (const char of text) {
      hash ^= char.codePointAt(0)!
      hash = Math.imul(hash, 0x01000193) >>> 0
    }
    hex += hash.toString(16).padStart(8, '0')
  }
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`
}
