/**
 * The query list kept in a Durable Object's storage (an index object per owner, and one of all
 * queries): each entry is a query's summary under its list key, so a page is one call to one
 * object, never a read of every record. Portable: it sees the storage through `IndexStorage`.
 */
import { collectListPage, toListKey } from './list-page.ts'
import type { ListPage, ListPosition, ListQuery, QuerySummary } from './types.ts'

/** What it needs of Durable Object storage (`ctx.storage`): ordered keys, listed backwards. */
export interface IndexStorage {
  put(key: string, value: QuerySummary): Promise<void>
  delete(key: string): Promise<boolean>
  list(options: {
    prefix: string
    end?: string
    reverse: boolean
    limit: number
  }): Promise<Map<string, unknown>>
}

const PREFIX = 'list:'

export interface ListIndex {
  /** Adds a query, or replaces its summary (the same place in the list). */
  put(summary: QuerySummary): Promise<void>
  drop(position: ListPosition): Promise<void>
  page(query: ListQuery): Promise<ListPage>
}

export function createListIndex(storage: IndexStorage): ListIndex {
  return {
    put: (summary) => storage.put(PREFIX + toListKey(summary), summary),
    async drop(position) {
      await storage.delete(PREFIX + toListKey(position))
    },
    page: (query) =>
      collectListPage(query, async (before, count) => {
        const entries = await storage.list({
          prefix: PREFIX,
          ...(before === undefined ? {} : { end: PREFIX + before }),
          reverse: true,
          limit: count,
        })
        return [...entries].map(([key, summary]) => ({
          key: key.slice(PREFIX.length),
          summary: summary as QuerySummary,
        }))
      }),
  }
}
