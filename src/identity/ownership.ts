/**
 * Who may act on a query: as in Kylin 5, the user who submitted it or an admin (ROLE_ADMIN).
 * Portable.
 */
import type { UserIdentity } from '../domain/caller.ts'
import type { QueryRecord } from '../domain/query.ts'

export function mayAccess(identity: UserIdentity, record: Pick<QueryRecord, 'owner'>): boolean {
  return record.owner === identity.username || identity.isAdmin
}
