/**
 * Whether a record an index pointed at may answer a reuse look-up: an index entry can outlive or
 * lag its record, so the record itself must still be the owner's SUCCESSFUL result of that key.
 * Portable.
 */
import type { QueryRecord } from '../domain/query.ts'

export function isReusableBy(
  record: QueryRecord | null,
  owner: string,
  reuseKey: string,
): record is QueryRecord {
  return (
    record !== null &&
    record.owner === owner &&
    record.state === 'SUCCESSFUL' &&
    record.reuseKey === reuseKey
  )
}
