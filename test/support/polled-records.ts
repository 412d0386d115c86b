/**
 * The records and requests the status-poll lane tests poll (test/api/status-poll-lane.test.ts,
 * test/runtime/node/poll-listener.test.ts): every state, another project, another owner, and
 * ids, query strings, callers and Accept values that each answer or refuse differently.
 */
import type { QueryRecord } from '../../src/domain/query.ts'
import { makeRecord } from '../registry/contract.ts'
import { ADMIN, ANALYST, MODELER, basic } from './test-deps.ts'

export const V2 = 'application/vnd.apache.kylin-v2+json'
export const V4 = 'application/vnd.apache.kylin-v4+json'
export const V4_PUBLIC = 'application/vnd.apache.kylin-v4-public+json'
/** A generated request id (a version 4 UUID). */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

export const toId = (n: number) => `7d1c0f3e-5b2a-4c8d-9e6f-${String(n).padStart(12, '0')}`
const record = (n: number, patch: Partial<QueryRecord>): QueryRecord => ({
  ...makeRecord(toId(n), 'SUCCESSFUL'),
  owner: 'ANALYST',
  rows: 3,
  bytes: 42,
  ...patch,
})
/** ANALYST's, but the last: SUCCESSFUL, RUNNING, FAILED, of another project, ADMIN's. */
export const RECORDS = [
  record(1, {}),
  record(2, { state: 'RUNNING', rows: 1200, bytes: 48213 }),
  record(3, { state: 'FAILED', error: 'Object \'FAIL\' not found, "quoted" 上海' }),
  record(4, { project: 'other_project' }),
  record(5, { owner: 'ADMIN' }),
]
export const IDS = [...RECORDS.map((r) => r.id), toId(99), toId(1).toUpperCase(), 'not-a-uuid']
export const QUERIES = [
  '',
  '?project=learn_kylin',
  '?project=other_project',
  '?project=',
  '?project=a%20b',
]
/** Authorization values; null sends none. */
export const USERS = [ANALYST, ADMIN, MODELER, basic('NOBODY', 'x'), null]
