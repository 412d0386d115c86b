/**
 * The domain of the gateway: a query as the upstream runs it, its record, and its column
 * metadata. Plain data, imported by every layer. Portable.
 */
/** Internal states. A query the registry does not know is MISSING to clients. */
export type QueryState = 'RUNNING' | 'SUCCESSFUL' | 'FAILED'

/** The result formats a query can be exported in, in the order messages list them: Kylin 5's four, then the gateway's own. */
export const RESULT_FORMATS = ['csv', 'json', 'xlsx', 'parquet', 'ndjson', 'arrow'] as const

export type ResultFormat = (typeof RESULT_FORMATS)[number]

/** The encodings a text result can be written in, in the order messages list them. */
export const RESULT_ENCODINGS = ['utf-8', 'gbk'] as const

export type ResultEncoding = (typeof RESULT_ENCODINGS)[number]

/** The formats whose bytes are text in the chosen encoding; the others are binary files. */
export const TEXT_FORMATS: readonly ResultFormat[] = ['csv', 'json', 'ndjson']

export interface ResultOptions {
  separator: string
  includeHeader: boolean
  fileName: string
  /** Absent on records written before there was a choice: those are CSV (`formatOf`). */
  format?: ResultFormat
  /** Absent: UTF-8 (`encodingOf`). */
  encode?: ResultEncoding
}

/** The format a record's result was written in. */
export function formatOf(options: ResultOptions): ResultFormat {
  return options.format ?? 'csv'
}

/** The encoding a record's text result was written in. */
export function encodingOf(options: ResultOptions): ResultEncoding {
  return options.encode ?? 'utf-8'
}

export interface UpstreamQuery {
  sql: string
  project: string
  offset: number
  limit: number
  acceptPartial: boolean
}

export interface ColumnMetadata {
  names: string[]
  types: string[]
  /**
   * Kylin's precision and scale of each column (null: not given), kept so that a typed format
   * made from the stored result at download time gets DECIMAL(p,s) right. Absent on records
   * written before they were kept. Not served by `/metadata`, whose shape is Kylin's.
   */
  precisions?: (number | null)[]
  scales?: (number | null)[]
}

/** Where the second run of a query on the new cluster is (see shadow/): its own states. */
export type ShadowStatus = 'RUNNING' | 'SUCCESSFUL' | 'FAILED' | 'SKIPPED'

/**
 * The verdict of a shadow run: the query run again on `KYLIN_SHADOW_URL` once the primary run
 * ended, its result compared by hash with the primary's. Nothing of the shadow's result is kept.
 */
export interface ShadowVerdict {
  status: ShadowStatus
  /** Whether both runs gave the same answer; `null` until known (RUNNING, SKIPPED). */
  match: boolean | null
  /** Rows the shadow answered (`null` until it answered). */
  rows: number | null
  /** Rows of the primary result compared against (`null` when the primary failed). */
  primaryRows: number | null
  /** SHA-256 (hex) of the shadow's columns and rows as compared (see shadow/row-digest.ts). */
  sha256: string | null
  /** Where the two answers first differ, in words; `null` when they match or are not compared. */
  firstDifference: string | null
  /** FAILED: the shadow run's own message; SKIPPED: why it did not run. */
  message?: string
  finishedAt?: number
}

export interface QueryRecord {
  id: string
  /** Username of the submitter, as the upstream reported it. */
  owner: string
  project: string
  options: ResultOptions
  state: QueryState
  /** The failure message (FAILED only), newlines already dropped. */
  error?: string
  metadata?: ColumnMetadata
  /** Rows and bytes written so far (RUNNING) or in total (SUCCESSFUL). */
  rows: number
  bytes: number
  /** The submit's Idempotency-Key and a hash of its request, when one was sent. */
  idempotency?: { key: string; requestHash: string }
  /** Where the signed webhook goes when the query ends (checked at submit); absent: none. */
  callbackUrl?: string
  /**
   * A hash of who asked what (owner, project, SQL with its whitespace normalised, offset, limit,
   * output options): a later submit with `reuse_max_age` finds this result by it. Not the SQL.
   */
  reuseKey?: string
  /** The shadow run of a sampled query (KYLIN_SHADOW_URL); absent: not shadowed. */
  shadow?: ShadowVerdict
  /** SHA-256 (hex) of the SQL, whitespace normalised: kept for shadowed queries only (report). */
  sqlDigest?: string
  /**
   * The name of the upstream that runs (ran) the query (KYLIN_UPSTREAMS: its host, never a URL
   * with user or password); absent on records written before routing.
   */
  upstream?: string
  /** SHA-256 (hex) of the stored CSV, computed on the way through. */
  sha256?: string
  /** Whether the upstream answered with a partial result. */
  partial?: boolean
  createdAt: number
  updatedAt: number
  finishedAt?: number
  /**
   * Counts the record's changes: absent (0) when created, one more on every update, set by the
   * registry alone. Waiters and event ids compare it, so it is monotonic whatever the clocks say.
   */
  version?: number
}

/** The change count of a record (0 for one never updated, or written before it was kept). */
export function versionOf(record: QueryRecord): number {
  return record.version ?? 0
}
