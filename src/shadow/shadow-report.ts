/**
 * The mismatch report of shadow runs: the queries of the last hours whose shadow gave another
 * answer (or failed where the primary answered), newest first, from the registry's records.
 * Never a row or the SQL: its digest only. Portable.
 */
import type { QueryRecord } from '../domain/query.ts'
import type { Registry } from '../registry/types.ts'

/** The most mismatches one report lists (newest first); `truncated` says when more matched. */
export const MAX_REPORT_ENTRIES = 1000

export interface ShadowMismatch {
  id: string
  project: string
  owner: string
  /** SHA-256 of the SQL with its whitespace normalised, kept at submit. */
  sqlDigest: string | null
  primaryRows: number | null
  shadowRows: number | null
  shadowStatus: string
  firstDifference: string | null
  /** When the shadow's verdict was recorded, ms since the epoch. */
  finishedAt: number
}

export interface ShadowReport {
  since: number
  /** Shadow runs ended in the window: compared, matching, not matching. */
  compared: number
  matched: number
  mismatches: ShadowMismatch[]
  truncated: boolean
}

/** The shadow verdicts recorded at or after `since` (ms since the epoch). */
export async function collectShadowReport(
  registry: Registry,
  since: number,
): Promise<ShadowReport> {
  const records = await registry.list()
  let compared = 0
  let matched = 0
  const mismatches: ShadowMismatch[] = []
  for (const record of records) {
    const shadow = record.shadow
    if (!shadow || shadow.match === null || (shadow.finishedAt ?? 0) < since) continue
    compared++
    if (shadow.match) matched++
    else mismatches.push(toMismatch(record))
  }
  mismatches.sort((a, b) => b.finishedAt - a.finishedAt || (a.id < b.id ? 1 : -1))
  return {
    since,
    compared,
    matched,
    mismatches: mismatches.slice(0, MAX_REPORT_ENTRIES),
    truncated: mismatches.length > MAX_REPORT_ENTRIES,
  }
}

function toMismatch(record: QueryRecord): ShadowMismatch {
  const shadow = record.shadow!
  return {
    id: record.id,
    project: record.project,
    owner: record.owner,
    sqlDigest: record.sqlDigest ?? null,
    primaryRows: shadow.primaryRows,
    shadowRows: shadow.rows,
    shadowStatus: shadow.status,
    firstDifference: shadow.firstDifference,
    finishedAt: shadow.finishedAt ?? 0,
  }
}
