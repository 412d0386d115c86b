/**
 * Compares two results read as row hashes, side by side in bounded memory: columns (names and
 * types), row count and rows, in order or as a multiset. The first difference is found where it
 * is cheap: ordered, the first row whose hashes differ; unordered, only that rows differ. Portable.
 */
import type { IncrementalHash } from '../sha256.ts'
import type { RowHashReader } from './row-hashes.ts'
import {
  createOrderedDigest,
  createUnorderedDigest,
  toResultSha256,
  type ResultDigest,
} from './row-digest.ts'

/** Columns as the two sides describe them: the record's metadata, the shadow's columnMetas. */
export interface ComparedColumns {
  names: readonly string[]
  types: readonly string[]
}

export interface Comparison {
  match: boolean
  primaryRows: number
  shadowRows: number
  /** SHA-256 of the shadow's columns and rows as compared (row-digest.ts#toResultSha256). */
  shadowSha256: string
  firstDifference: string | null
}

/** A first difference is words, not data: bounded so a column list cannot grow the record. */
const MAX_DIFFERENCE_CHARS = 500

interface Side {
  reader: RowHashReader
  digest: ResultDigest
  /** Hashes read and not yet paired with the other side's. */
  queue: Uint32Array
  at: number
  done: boolean
}

export async function compareResults(options: {
  primary: RowHashReader
  /** The primary's columns as recorded; the stored CSV source reads them from there too. */
  primaryColumns: ComparedColumns
  shadow: RowHashReader
  ordered: boolean
  createHash: () => IncrementalHash
}): Promise<Comparison> {
  const { ordered } = options
  const primary: Side = {
    reader: options.primary,
    // In order, rows are compared pair by pair as they come, so the primary's digest only counts
    // them; the shadow's ordered digest is its result's hash (shadowSha256).
    digest: createUnorderedDigest(),
    queue: new Uint32Array(0),
    at: 0,
    done: false,
  }
  const shadow: Side = {
    reader: options.shadow,
    digest: ordered ? createOrderedDigest(options.createHash) : createUnorderedDigest(),
    queue: new Uint32Array(0),
    at: 0,
    done: false,
  }
  /** Ordered: the first row index whose hashes differ. */
  let firstRowDiffering: number | null = null
  let paired = 0

  const refill = async (side: Side) => {
    while (!side.done && side.at >= side.queue.length) {
      const next = await side.reader.next()
      if (next === null) side.done = true
      else {
        side.queue = next
        side.at = 0
      }
    }
  }

  for (;;) {
    // Buffered stream reads resolve as microtasks, which would keep the event loop to this
    // comparison: give it back once a chunk, so downloads and polls go on beside a shadow run.
    await yieldToEventLoop()
    await Promise.all([refill(primary), refill(shadow)])
    const primaryLeft = primary.queue.length - primary.at
    const shadowLeft = shadow.queue.length - shadow.at
    if (primaryLeft === 0 && shadowLeft === 0) break
    // Pair what both sides have; a side that ended leaves the other's rest unpaired.
    const pairs = Math.min(primaryLeft, shadowLeft)
    if (ordered && firstRowDiffering === null) {
      for (let i = 0; i < pairs; i += 2) {
        if (
          primary.queue[primary.at + i] !== shadow.queue[shadow.at + i] ||
          primary.queue[primary.at + i + 1] !== shadow.queue[shadow.at + i + 1]
        ) {
          firstRowDiffering = paired + i / 2
          break
        }
      }
    }
    paired += pairs / 2
    for (const side of [primary, shadow]) {
      const take = pairs > 0 ? pairs : side.queue.length - side.at
      side.digest.add(side.queue, side.at, side.at + take)
      side.at += take
    }
  }

  const shadowColumns = {
    names: (options.shadow.columns ?? []).map((c) => c.name),
    types: (options.shadow.columns ?? []).map((c) => c.typeName),
  }
  const [primaryRowDigest, shadowRowDigest] = await Promise.all([
    primary.digest.finish(),
    shadow.digest.finish(),
  ])
  const primaryRows = primary.digest.rows
  const shadowRows = shadow.digest.rows
  const shadowSha256 = await toResultSha256({
    ordered,
    ...shadowColumns,
    rows: shadowRows,
    rowDigest: shadowRowDigest,
  })
  const firstDifference = toFirstDifference({
    primaryColumns: options.primaryColumns,
    shadowColumns,
    primaryRows,
    shadowRows,
    // In order, equal counts and no differing pair mean equal rows.
    rowsEqual: ordered || primaryRowDigest === shadowRowDigest,
    ordered,
    firstRowDiffering,
  })
  return {
    match: firstDifference === null,
    primaryRows,
    shadowRows,
    shadowSha256,
    firstDifference: firstDifference && firstDifference.slice(0, MAX_DIFFERENCE_CHARS),
  }
}

function toFirstDifference(facts: {
  primaryColumns: ComparedColumns
  shadowColumns: ComparedColumns
  primaryRows: number
  shadowRows: number
  rowsEqual: boolean
  ordered: boolean
  firstRowDiffering: number | null
}): string | null {
  const { primaryColumns: p, shadowColumns: s } = facts
  if (!sameList(p.names, s.names)) {
    return `column names differ: primary ${JSON.stringify(p.names)}, shadow ${JSON.stringify(s.names)}`
  }
  if (!sameList(p.types, s.types)) {
    return `column types differ: primary ${JSON.stringify(p.types)}, shadow ${JSON.stringify(s.types)}`
  }
  if (facts.ordered && facts.firstRowDiffering !== null) {
    return `row ${facts.firstRowDiffering + 1} differs (compared in order: the SQL has a top-level ORDER BY); primary ${facts.primaryRows} rows, shadow ${facts.shadowRows}`
  }
  if (facts.primaryRows !== facts.shadowRows) {
    return facts.ordered
      ? `row ${Math.min(facts.primaryRows, facts.shadowRows) + 1} is missing on one side: primary ${facts.primaryRows} rows, shadow ${facts.shadowRows}`
      : `row counts differ: primary ${facts.primaryRows} rows, shadow ${facts.shadowRows}`
  }
  if (!facts.rowsEqual) {
    return `rows differ (compared without order; ${facts.primaryRows} rows on each side)`
  }
  return null
}

/** Resolves on a later turn of the event loop, after the I/O waiting now (a macrotask). */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0))
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i])
}
