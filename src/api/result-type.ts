/**
 * The media type and file extension of a downloaded result, by its format and the caller's
 * dialect: Kylin 5 sends `application/<format>;charset=utf-8`, older Kylins `text/csv`. Portable.
 */
import type { ResultFormat } from '../domain/query.ts'
import type { Dialect } from './dialect.ts'

export interface ResultType {
  contentType: string
  /** Without the dot. */
  extension: string
}

export function toResultType(format: ResultFormat, dialect: Dialect['name']): ResultType {
  switch (format) {
    case 'csv':
      return {
        contentType: `${dialect === 'v4' ? 'application' : 'text'}/csv;charset=utf-8`,
        extension: 'csv',
      }
    case 'json':
      return { contentType: 'application/json;charset=utf-8', extension: 'json' }
    case 'ndjson':
      return { contentType: 'application/x-ndjson;charset=utf-8', extension: 'ndjson' }
  }
}
