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
  /** The Content-Type of answers: the media type Kylin matched, echoed as Kylin does, UTF-8. */
  contentType: string
  /** The id field of submit and status answers. */
  idField: 'queryID' | 'query_id'
  /** The `info` text of a submit answer. */
  submitInfo: MessageId
}

// One object per dialect, shared by every request that names it.
const V4_PUBLIC = toFrozenDialect('v4', MEDIA_V4_PUBLIC)
const V4 = toFrozenDialect('v4', MEDIA_V4)
const LEGACY_V2 = toFrozenDialect('legacy', MEDIA_V2)
const LEGACY_JSON = toFrozenDialect('legacy', 'application/json')

export function toDialect(accept: string | undefined | null): Dialect {
  const value = (accept ?? '').toLowerCase()
  if (value.includes(MEDIA_V4_PUBLIC)) return V4_PUBLIC
  if (value.includes(MEDIA_V4)) return V4
  return value.includes(MEDIA_V2) ? LEGACY_V2 : LEGACY_JSON
}

function toFrozenDialect(name: Dialect['name'], mediaType: string): Dialect {
  const v4 = name === 'v4'
  return Object.freeze({
    name,
    contentType: `${mediaType};charset=UTF-8`,
    idField: v4 ? 'query_id' : 'queryID',
    submitInfo: v4 ? 'QUERY_RUNNING_SUBMIT' : 'QUERY_RUNNING',
  })
}
