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
  }
}
