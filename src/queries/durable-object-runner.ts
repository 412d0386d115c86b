/**
 * A runner over one Durable Object per query (Workers): each query runs inside its own object.
 * Portable: it sees the objects only through `QueryObjectDirectory`.
 */
import type { QueryObjectDirectory } from '../registry/durable-object.ts'
import type { QueryRunner } from './runner.ts'

/** Runs each query inside its own object, so it outlives the request that submitted it. */
export function createDurableObjectRunner(
  objects: QueryObjectDirectory,
  countQueued?: () => Promise<number>,
): QueryRunner {
  return {
    start: (record, query, credentials) => objects(record.id).start(record, query, credentials),
    abort: (id, reason) => objects(id).abort(reason),
    // The bytes come from the object that runs the query, whichever isolate asks.
    follow: (id) => objects(id).follow(),
    // Workers have no process to shut down: each query lives in its own object.
    abortAll: async () => {},
    // Spread over many objects and isolates: not known here.
    active: 0,
    queued: 0,
    // Where a limiter object holds the queue, it counts for MAX_QUEUED_QUERIES.
    ...(countQueued ? { countQueued } : {}),
  }
}
