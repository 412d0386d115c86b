/**
 * The status answer's envelope, kept per record version: the memory registry freezes a record and
 * replaces it on every change, so a poll of an unchanged record reuses the JSON built for it.
 * Portable.
 */
import type { QueryRecord, ShadowVerdict } from '../domain/query.ts'
import { translate, type Language } from '../i18n.ts'
import type { Denial } from '../queries/query-service.ts'
import type { Dialect } from './dialect.ts'
import { toEnvelope } from './envelope.ts'

/** What a caller asking for someone else's query gets, Kylin's words. */
export const STATUS_DENIAL: Denial = { message: 'DENIED_STATUS', data: null }

export interface StatusBody {
  text: string
  /** UTF-8 bytes of `text`, for Content-Length. */
  bytes: number
}

const encoder = new TextEncoder()
/** Per record version: its bodies, one slot per id field and language (see `toSlot`). */
const bodiesOf = new WeakMap<QueryRecord, (StatusBody | undefined)[]>()

const toSlot = (dialect: Dialect, lang: Language) =>
  (dialect.idField === 'queryID' ? 0 : 2) + (lang === 'en' ? 0 : 1)

/** The envelope of `/status` for `record` (`null`: MISSING), in the dialect's shape. */
export function toStatusBody(
  id: string,
  record: QueryRecord | null,
  dialect: Dialect,
  lang: Language,
): StatusBody {
  // Only a frozen record is known never to change under its cached body.
  if (!record || !Object.isFrozen(record)) return toBody(toStatusData(id, record, dialect, lang))
  let bodies = bodiesOf.get(record)
  if (!bodies) bodiesOf.set(record, (bodies = []))
  const slot = toSlot(dialect, lang)
  return (bodies[slot] ??= toBody(toStatusData(id, record, dialect, lang)))
}

function toBody(data: Record<string, unknown>): StatusBody {
  const text = JSON.stringify(toEnvelope(data))
  return { text, bytes: encoder.encode(text).byteLength }
}

function toStatusData(
  id: string,
  record: QueryRecord | null,
  dialect: Dialect,
  lang: Language,
): Record<string, unknown> {
  const data: Record<string, unknown> = { [dialect.idField]: id }
  if (!record) {
    Object.assign(data, { status: 'MISSING', info: translate('QUERY_MISSING', lang) })
  } else if (record.state === 'RUNNING') {
    // Progress rides along as extra fields; old clients read only status and info.
    Object.assign(data, {
      status: 'RUNNING',
      info: translate('QUERY_RUNNING', lang),
      rows_written: record.rows,
      bytes_written: record.bytes,
    })
  } else if (record.state === 'SUCCESSFUL') {
    // What the result is, so a client can check what it downloads (additions to Kylin's shape).
    Object.assign(data, {
      status: 'SUCCESSFUL',
      info: translate('QUERY_SUCCESSFUL', lang),
      ...toIntegrity(record),
    })
  } else {
    Object.assign(data, { status: 'FAILED', info: record.error ?? '' })
  }
  if (record?.shadow) data.shadow = toShadowAnswer(record.shadow)
  // Which Kylin made it: a name (its host), never a URL with user or password.
  if (record?.upstream) data.upstream = record.upstream
  return data
}

/**
 * The verdict of a query's shadow run as answered beside Kylin's fields (status, metadata): no
 * row of the shadow's result, only counts, a hash and where the answers differ.
 */
export function toShadowAnswer(shadow: ShadowVerdict): Record<string, unknown> {
  return {
    status: shadow.status,
    match: shadow.match,
    rows: shadow.rows,
    primary_rows: shadow.primaryRows,
    sha256: shadow.sha256,
    first_difference: shadow.firstDifference,
    ...(shadow.message !== undefined ? { message: shadow.message } : {}),
  }
}

/** Rows, bytes and SHA-256 (hex) of a finished result; the hash is absent where none was kept. */
export function toIntegrity(record: QueryRecord): { rows: number; bytes: number; sha256?: string } {
  return {
    rows: record.rows,
    bytes: record.bytes,
    ...(record.sha256 ? { sha256: record.sha256 } : {}),
  }
}
