/**
 * SQL building blocks for the sample data: columns as (name, type, expression) and seeded picks.
 * Node only (demo). DuckDB's hash() is deterministic, so every run generates the same rows.
 */

export interface GeneratedColumn {
  name: string
  /** DuckDB type, e.g. `BIGINT`, `DECIMAL(19,4)`, `VARCHAR`. */
  type: string
  /** SQL over the generator's row source. */
  expr: string
}

/** `CREATE TABLE schema.table AS SELECT CAST(expr AS type) AS name, … FROM source`. */
export function toCreateTable(
  schema: string,
  table: string,
  columns: GeneratedColumn[],
  source: string,
): string {
  const list = columns.map((c) => `CAST(${c.expr} AS ${c.type}) AS ${c.name}`).join(',\n  ')
  return `CREATE TABLE "${schema}".${table} AS SELECT\n  ${list}\n${source}`
}

/** A seeded number in [0, n): the same `key` and `salt` always give the same value. */
export function seeded(key: string, salt: string, n: number): string {
  return `CAST(hash(${key}, '${salt}') % ${n} AS BIGINT)`
}

/** A seeded pick from a list of strings. */
export function pick(key: string, salt: string, values: readonly string[]): string {
  return `${toSqlList(values)}[CAST(hash(${key}, '${salt}') % ${values.length} AS INTEGER) + 1]`
}

/** The `i`-th (0-based) element of a list of strings. */
export function nth(index: string, values: readonly string[]): string {
  return `${toSqlList(values)}[CAST(${index} AS INTEGER) + 1]`
}

export function toSqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`
}

function toSqlList(values: readonly string[]): string {
  return `[${values.map(toSqlString).join(', ')}]`
}
