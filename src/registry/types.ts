/**
 * The Registry contract every registry (memory, Redis, Durable Objects) keeps.
 * Portable: every method async so remote registries fit the same shape.
 */
import type { QueryRecord, QueryState, ShadowVerdict } from '../domain/query.ts'

/** What the query list shows of a record: never its options, and records keep no SQL. */
export type QuerySummary = Pick<
  QueryRecord,
  'id' | 'owner' | 'project' | 'state' | 'rows' | 'bytes' | 'createdAt' | 'finishedAt'
>

/** A place in the list, which runs newest first: by `createdAt`, then by id, both descending. */
export interface ListPosition {
  createdAt: number
  id: string
}

export interface ListQuery {
  /** Only this owner's queries; absent: everyone's (admins). */
  owner?: string
  state?: QueryState
  project?: string
  /** At most this many queries in the page. */
  limit: number
  /** Only queries after this place (older), as the previous page's `next` gave it. */
  after?: ListPosition
}

export interface ListPage {
  queries: QuerySummary[]
  /**
   * Where the next page starts, or `null` at the end. A page may hold fewer than `limit` queries
   * and still have a next one: each call reads a bounded number of index entries.
   */
  next: ListPosition | null
}

export interface Registry {
  /** Adds a record; a bounded registry rejects (429) when every record it holds is RUNNING. */
  create(record: QueryRecord): Promise<void>
  get(id: string): Promise<QueryRecord | null>
  /**
   * `get` answered at once, by a registry that holds its records in this process (memory). A
   * remote one leaves it out; callers then `get`. Status polls read through it without waiting.
   */
  peek?(id: string): QueryRecord | null
  /**
   * Applies `patch` to a RUNNING record; `null` when the record is gone or already finished
   * (a finished record never changes, so a query cannot end both FAILED and SUCCESSFUL).
   */
  update(id: string, patch: Partial<Omit<QueryRecord, 'id'>>): Promise<QueryRecord | null>
  /**
   * Sets the shadow verdict of a record whatever its state (the shadow runs after the query
   * ended, and changes nothing else); a change like any other: the version rises, waiters wake.
   * `null` when the record is gone. Absent: shadow verdicts cannot be kept.
   */
  updateShadow?(id: string, shadow: ShadowVerdict): Promise<QueryRecord | null>
  /** Removes a record; `false` when it was not there. */
  delete(id: string): Promise<boolean>
  list(): Promise<QueryRecord[]>
  /**
   * The record `owner` submitted with Idempotency-Key `key`, or `null`: a look-up through an
   * index, so its cost does not grow with the number of records.
   */
  findByIdempotencyKey(owner: string, key: string): Promise<QueryRecord | null>
  /**
   * The change notification of one record: resolves with the record as soon as its version is no
   * longer `afterVersion` (an update, a delete: `null`), or with the record as it is when
   * `timeoutMs` has passed or `signal` aborts. It reads the record before it waits, so a change
   * made in between is never lost; waiting is an event from the registry, never a poll. Callers
   * loop on it (wait for completion, live events, following a running result). A registry without
   * one cannot be waited on: callers answer at once.
   */
  waitForChange?(
    id: string,
    afterVersion: number,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<QueryRecord | null>
  /**
   * A page of the query list, newest first, read through an index (per owner, and one of all
   * queries for admins), never by reading every record.
   */
  listPage(query: ListQuery): Promise<ListPage>
  /**
   * The SUCCESSFUL record of `owner` that finished last with `reuseKey` (see
   * `queries/result-reuse.ts`), or `null`: a look-up through an index, not a scan.
   */
  findReusable(owner: string, reuseKey: string): Promise<QueryRecord | null>
}
