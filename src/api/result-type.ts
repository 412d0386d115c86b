/**
 * The media type and file extension of a downloaded result, by its format, encoding and the
 * caller's dialect: Kylin 5 sends `application/<format>;charset=<encode>`, older Kylins
 * `text/csv`. Portable.
 */
import type { ResultEncoding, ResultFormat } from '../domain/query.ts'
import type { Dialect } from './dialect.ts'

export interface ResultType {
  contentType: string
  /** Without the dot. */
  extension: string
}

export function toResultType(
  format: ResultFormat,
  dialect: Dialect['name'],
  encode: ResultEncoding = 'utf-8',
): ResultType {
  const charset = `;charset=${encode}`
  switch (format) {
    case 'csv':
      return {
        contentType: `${dialect === 'v4' ? 'application' : 'text'}/csv${charset}`,
        extension: 'csv',
      }
    case 'json':
      return { contentType: `application/json${charset}`, extension: 'json' }
    case 'ndjson':
      return { contentType: `application/x-ndjson${charset}`, extension: 'ndjson' }
    case 'xlsx':
      // Kylin 5's own answer for xlsx, charset and all (the workbook's text is always UTF-8).
      return { contentType: `application/octet-stream${charset}`, extension: 'xlsx' }
    case 'parquet':
      return { contentType: 'application/vnd.apache.parquet', extension: 'parquet' }
    case 'arrow':
      // The IPC stream format's registered type and extension (a file would be `.arrow`).
      return { contentType: 'application/vnd.apache.arrow.stream', extension: 'arrows' }
  }
}
