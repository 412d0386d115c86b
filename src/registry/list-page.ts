/**
 * The query list's order, index keys and page collection, shared by every registry. Portable.
 * An index key sorts as its list position: `createdAt` in 15 fixed digits, `:`, then the id.
 */
import type { QueryRecord } from '../domain/query.ts'
import type { ListPage, ListPosition, ListQuery, QuerySummary } from './types.ts'

/** Index entries one page may read at most, matching or not: every list call is bounded. */
export const LIST_SCAN_BUDGET = 5000

/** Index entries read per round trip. */
export const LIST_BATCH = 500

const CREATED_DIGITS = 15

/** The index key of a place in the list: lexical order is list order (oldest first). */
export function toListKey(position: ListPosition): string {
  return `${String(Math.max(0, Math.trunc(position.createdAt))).padStart(CREATED_DIGITS, '0')}:${position.id}`
}

export function fromListKey(key: string): ListPosition {
  return { createdAt: Number(key.slice(0, CREATED_DIGITS)), id: key.slice(CREATED_DIGITS + 1) }
}

export function toSummary(record: QuerySummary): QuerySummary {
  const { id, owner, project, state, rows, bytes, createdAt, finishedAt } = record
  return {
    id,
    owner,
    project,
    state,
    rows,
    bytes,
    createdAt,
    ...(finishedAt !== undefined ? { finishedAt } : {}),
  }
}

/** Whether a query belongs in the list asked for (owner, status, project). */
export function isListed(summary: QuerySummary, query: ListQuery): boolean {
  return (
    (query.owner === undefined || summary.owner === query.owner) &&
    (query.state === undefined || summary.state === query.state) &&
    (query.project === undefined || summary.project === query.project)
  )
}

/** One index entry as read, newest first; `summary` is `null` for a record that is gone. */
export interface ListEntry {
  key: string
  summary: QuerySummary | null
}

/**
 * Reads up to `count` index entries strictly before `before` (all when absent), newest first.
 */
export type ReadListBatch = (before: string | undefined, count: number) => Promise<ListEntry[]>

/** A page from an index read newest first: stops at `limit` matches, the end, or the budget. */
export async function collectListPage(
  query: ListQuery,
  readBatch: ReadListBatch,
  budget = LIST_SCAN_BUDGET,
): Promise<ListPage> {
  const found: QuerySummary[] = []
  let before = query.after ? toListKey(query.after) : undefined
  let scanned = 0
  while (scanned < budget) {
    const count = Math.min(LIST_BATCH, budget - scanned)
    const batch = await readBatch(before, count)
    for (const entry of batch) {
      scanned++
      before = entry.key
      if (!entry.summary || !isListed(entry.summary, query)) continue
      found.push(entry.summary)
      // One past the limit says there is a next page.
      if (found.length > query.limit) return toPage(found.slice(0, query.limit), true)
    }
    if (batch.length < count) return toPage(found, false)
  }
  // Out of budget: the next page goes on from the last entry read.
  return { queries: found, next: before === undefined ? null : fromListKey(before) }
}

function toPage(queries: QuerySummary[], more: boolean): ListPage {
  const last = queries.at(-1)
  return { queries, next: more && last ? { createdAt: last.createdAt, id: last.id } : null }
}

/** The list order on records held in memory: newest first. */
export function compareNewestFirst(a: QueryRecord, b: QueryRecord): number {
  return b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)
}
