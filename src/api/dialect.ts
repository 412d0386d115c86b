/**
 * The three async-query dialects, chosen by `Accept`: the legacy shape (plain JSON and KAP v2,
 * `queryID`) and the Kylin 5 shape (v4 / v4-public, `query_id`). Portable.
 */
import type { MessageId } from '../i18n.ts'

export const MEDIA_V2 = 'application/vnd.apache.kylin-v2+json'
export const MEDIA_V4 = 'application/vnd.apache.kylin-v4+json'
export const MEDIA_V4_PUBLIC = 'application/vnd.apache.kylin-v4-public+json'

export interface Dialect {
  name: 'legacy' | 'v4'
  /** The media type answers carry, as Kylin echoes the one it matched. */
  mediaType: string
  /** The id field of submit and status answers. */
  idField: 'queryID' | 'query_id'
  /** The `info` text of a submit answer. */
  submitInfo: MessageId
}

export function toDialect(accept: string | undefined | null): Dialect {
  const value = (accept ?? '').toLowerCase()
  for (const mediaType of [MEDIA_V4_PUBLIC, MEDIA_V4]) {
    if (value.includes(mediaType)) {
      return { name: 'v4', mediaType, idField: 'query_id', submitInfo: 'QUERY_RUNNING_SUBMIT' }
    }
  }
  return {
    name: 'legacy',
    mediaType: value.includes(MEDIA_V2) ? MEDIA_V2 : 'application/json',
    idField: 'queryID',
    submitInfo: 'QUERY_RUNNING',
  }
}
