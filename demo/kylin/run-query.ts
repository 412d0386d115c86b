/**
 * One sync query as Kylin 2–4 answers it: the SQLResponse JSON, streamed chunk by chunk from
 * DuckDB. Each row is turned into its JSON array of strings inside DuckDB (one value per row
 * crosses into JS), which keeps a multi-million-row answer linear and fast.
 */
import type { DuckDBConnection } from '@duckdb/node-api'
import { toColumnMeta, type KylinColumnMeta } from './column-metas.ts'
import type { KylinDatabase, KylinProject } from './database.ts'
import { isSelectStatement, toEngineSql } from './kylin-sql.ts'

export interface KylinQuery {
  sql: string
  project: KylinProject
  limit?: number
  offset?: number
}

export type KylinQueryOutcome =
  | { ok: true; columnMetas: KylinColumnMeta[]; body: ReadableStream<Uint8Array> }
  | { ok: false; message: string }

export const NOT_SUPPORTED_SQL = 'Not Supported SQL.'

export async function runKylinQuery(
  db: KylinDatabase,
  query: KylinQuery,
): Promise<KylinQueryOutcome> {
  const started = Date.now()
  if (!isSelectStatement(query.sql)) return { ok: false, message: NOT_SUPPORTED_SQL }
  const sql = toEngineSql(query.sql, { limit: query.limit, offset: query.offset })
  const connection = await db.instance.connect()
  try {
    await connection.run(`SET search_path = '"${query.project.database}"'`)
    const prepared = await connection.prepare(sql)
    const columnMetas = Array.from({ length: prepared.columnCount }, (_, i) =>
      toColumnMeta(prepared.columnName(i), prepared.columnType(i), i),
    )
    const aliases = columnMetas.map((_, i) => `c${i}`)
    const cells = aliases.map((alias) => `CAST(${alias} AS VARCHAR)`).join(', ')
    const result = await connection.stream(
      `SELECT to_json(list_value(${cells})) FROM (\n${sql}\n) AS kylin_result(${aliases.join(', ')})`,
    )
    // Most errors surface with the first chunk: fetched before answering, they still get a 500.
    const first = await result.fetchChunk()
    const body = toResponseStream(
      connection,
      first,
      () => result.fetchChunk(),
      columnMetas,
      started,
    )
    return { ok: true, columnMetas, body }
  } catch (error) {
    connection.closeSync()
    return { ok: false, message: toKylinErrorMessage(error, query.sql) }
  }
}

interface Chunk {
  rowCount: number
  getColumnValues(index: number): unknown[]
}

function toResponseStream(
  connection: DuckDBConnection,
  first: Chunk | null,
  fetchChunk: () => Promise<Chunk | null>,
  columnMetas: KylinColumnMeta[],
  started: number,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder()
  let next: Chunk | null | undefined = first
  let rows = 0
  let resultBytes = 0
  let closed = false
  let fetching = false
  let cancelled = false
  const close = () => {
    if (closed) return
    closed = true
    connection.closeSync()
  }
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(
        encoder.encode(`{"columnMetas":${JSON.stringify(columnMetas)},"results":[`),
      )
    },
    async pull(controller) {
      try {
        let chunk = next
        if (chunk === undefined) {
          fetching = true
          try {
            chunk = await fetchChunk()
          } finally {
            fetching = false
          }
        }
        next = undefined
        if (cancelled) return close()
        if (chunk && chunk.rowCount > 0) {
          const text = (rows > 0 ? ',' : '') + (chunk.getColumnValues(0) as string[]).join(',')
          const bytes = encoder.encode(text)
          rows += chunk.rowCount
          resultBytes += bytes.byteLength
          controller.enqueue(bytes)
          return
        }
        close()
        // Field order as Jackson writes Kylin 2–4's SQLResponse.
        const trailer = {
          cube: null,
          affectedRowCount: 0,
          isException: false,
          exceptionMessage: null,
          duration: Date.now() - started,
          totalScanCount: rows,
          totalScanBytes: resultBytes,
          hitExceptionCache: false,
          storageCacheUsed: false,
          traceUrl: null,
          pushDown: true,
          partial: false,
        }
        controller.enqueue(encoder.encode(`],${JSON.stringify(trailer).slice(1)}`))
        controller.close()
      } catch (error) {
        // Headers are gone: breaking the body off is how a failing server tells the client.
        close()
        controller.error(error)
      }
    },
    cancel() {
      if (closed) return
      cancelled = true
      connection.interrupt()
      // A fetch still running in DuckDB closes the connection when it returns.
      if (!fetching) close()
    },
  })
}

/**
 * As Kylin's QueryUtil.makeErrorMsgUserFriendly: the cause on one line, then
 * `while executing SQL: "<sql>"`. DuckDB's caret picture of the SQL is left out.
 */
export function toKylinErrorMessage(error: unknown, sql: string): string {
  const raw = error instanceof Error ? error.message : String(error)
  const cause =
    raw
      .replace(
        /^Failed to (?:extract statements|prepare statement|execute prepared statement): /,
        '',
      )
      .split(/\n\s*\nLINE \d+:/)[0]!
      .replace(/\s+/g, ' ')
      .trim() || 'Unknown error.'
  return `${cause}\nwhile executing SQL: "${sql.trim()}"`
}
